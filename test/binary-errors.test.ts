// Bad input to the binary ops gets a LowbitError with a code, never a crash:
// through the public API, and straight at the addon.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { cpu, LowbitError, ops, Tensor } from '../lib';
import { native } from '../lib/native';

const code = (c: string) => (e: unknown) => e instanceof LowbitError && e.code === c;

describe('binary ops: errors', function () {
  const original = { isa: cpu.isa };
  afterEach(() => cpu.setIsa(original.isa));

  const w = new Tensor('float32', new Float32Array(4 * 3 * 3 * 5).fill(1), [4, 3, 3, 5]);
  const x = new Tensor('float32', new Float32Array(2 * 6 * 6 * 5).fill(-1), [2, 6, 6, 5]);

  it('ops check their arguments first and name the parameter', function () {
    const calls: [() => unknown, string][] = [
      [() => ops.bitpack({} as never), 'E_ARG'],
      [() => ops.bitpack(new Tensor('uint8', [1, 2])), 'E_DTYPE'],
      [() => ops.bitpack(new Tensor('float32', [1], [])), 'E_SHAPE'],
      [() => ops.bitunpack(new Tensor('float32', [1])), 'E_DTYPE'],
      [() => ops.bitunpack(ops.bitpack(new Tensor('float32', [1])), 'uint8' as never), 'E_DTYPE'],
      [() => ops.packBinaryConv2d(new Tensor('float32', new Float32Array(8), [2, 2, 2])), 'E_SHAPE'],
      [() => ops.packBinaryConv2d(new Tensor('uint8', new Uint8Array(16), [2, 2, 2, 2])), 'E_DTYPE'],
      [() => ops.packBinaryConv2d(new Tensor('float32', new Float32Array(0), [0, 3, 3, 5])), 'E_SHAPE'],
      [() => ops.packBinaryConv2d(w, { strides: 0 }), 'E_RANGE'],
      [() => ops.packBinaryConv2d(w, { strides: [1, 1, 1] }), 'E_SHAPE'],
      [() => ops.packBinaryConv2d(w, { dilations: 1.5 }), 'E_RANGE'],
      [() => ops.packBinaryConv2d(w, { pads: [1, 1, 1] }), 'E_SHAPE'],
      [() => ops.packBinaryConv2d(w, { pads: -1 }), 'E_RANGE'],
      [() => ops.packBinaryConv2d(w, { padding: 'two' as never }), 'E_ARG'],
      [() => ops.packBinaryConv2d(w, { groups: 2 } as never), 'E_ARG'],
      [() => ops.packBinaryConv2d(w, { alpha: NaN }), 'E_RANGE'],
      [() => ops.packBinaryConv2d(w, { alpha: 1e39 }), 'E_RANGE'],
      [() => ops.packBinaryConv2d(w, { alpha: [1, 2] }), 'E_SHAPE'],
      [() => ops.packBinaryConv2d(w, { beta: 'x' as never }), 'E_ARG'],
      [() => ops.packBinaryConv2d(w, { output: 'int4' as never }), 'E_ARG'],
      [() => ops.packBinaryConv2d(w, { output: 'int8' }), 'E_ARG'],
      [() => ops.packBinaryConv2d(w, { output: 'int8', yScale: 0 }), 'E_RANGE'],
      [() => ops.packBinaryConv2d(w, { output: 'int8', yScale: 1, yZeroPoint: 200 }), 'E_RANGE'],
      [() => ops.packBinaryConv2d(w, { yScale: 1 }), 'E_ARG'],
      [() => ops.packBinaryConv2d(w, { threshold: 1 }), 'E_ARG'],
      [() => ops.packBinaryConv2d(w, { output: 'bit', threshold: NaN }), 'E_RANGE'],
      [() => ops.packBinaryConv2d(w, { weightLayout: 'HWIO' as never }), 'E_ARG'],
      [() => ops.packBinaryConv2d(ops.bitpack(w), { weightLayout: 'OIHW' }), 'E_ARG'],
      [() => ops.packBinaryConv2d(new Tensor('float32', new Float32Array(65), [1, 65, 1, 1])), 'E_RANGE'],
      [() => ops.binaryConv2d(x, {} as never), 'E_ARG'],
      [() => ops.binaryConv2d(x, ops.packBinaryConv2d(w), { pads: 1 } as never), 'E_ARG'],
      [() => ops.binaryConv2d(new Tensor('float32', new Float32Array(36 * 4), [1, 6, 6, 4]), w), 'E_SHAPE'],
      [() => ops.binaryConv2d(new Tensor('float32', new Float32Array(30), [6, 5]), w), 'E_SHAPE'],
      [() => ops.binaryConv2d(new Tensor('uint8', new Uint8Array(2 * 36 * 5), [2, 6, 6, 5]), w), 'E_DTYPE'],
      [() => ops.binaryConv2d(new Tensor('float32', new Float32Array(2 * 5), [1, 2, 1, 5]), w), 'E_SHAPE'],
      [() => ops.binaryConv2d(x, w, { dilations: 3 }), 'E_SHAPE'],
      // Padding far beyond the image: refused, not an unbounded padded copy.
      [() => ops.binaryConv2d(new Tensor('float32', new Float32Array(5), [1, 1, 1, 5]), new Tensor('float32', new Float32Array(5), [1, 1, 1, 5]), { pads: 2000, strides: 2000 }), 'E_RANGE'],
      [() => ops.binaryConv2d(x, w, { out: Tensor.zeros('int8', [2, 4, 4, 4]) }), 'E_DTYPE'],
      [() => ops.binaryConv2d(x, w, { out: Tensor.zeros('float32', [2, 4, 4, 5]) }), 'E_SHAPE'],
      [() => ops.binaryConv2d(x, w, { out: new Float32Array(128) as never }), 'E_ARG'],
      [() => ops.binaryGemm(new Tensor('float32', new Float32Array(6), [2, 3]), new Tensor('float32', new Float32Array(8), [2, 4])), 'E_SHAPE'],
      [() => ops.binaryGemm(new Tensor('int32', new Int32Array(4), [1, 4]), new Tensor('float32', new Float32Array(8), [2, 4])), 'E_DTYPE'],
      [() => ops.packBinaryGemm(new Tensor('float32', new Float32Array(8), [8])), 'E_SHAPE'],
      [() => ops.binaryWeightGemm(new Tensor('float32', new Float32Array(4), [1, 4]), new Tensor('int8', new Int8Array(8), [2, 4]), { aZeroPoint: 1 }), 'E_ARG'],
      [() => ops.binaryWeightGemm(new Tensor('uint8', new Uint8Array(4), [1, 4]), new Tensor('int8', new Int8Array(8), [2, 4]), { aZeroPoint: -1 }), 'E_RANGE'],
      [() => ops.binaryWeightGemm(ops.bitpack(new Tensor('float32', [1, 2, 3, 4], [1, 4])), new Tensor('int8', new Int8Array(8), [2, 4])), 'E_DTYPE'],
    ];
    for (const [call, c] of calls) assert.throws(call, code(c), call.toString());
    try {
      ops.binaryConv2d(new Tensor('float32', new Float32Array(36 * 4), [1, 6, 6, 4]), w);
    } catch (e) {
      assert.match((e as Error).message, /binaryConv2d: x has 4 channels .* the weights 5/);
    }
  });

  it('weights packed for one kernel path are refused on another', function () {
    const paths = new Map<string, string>();
    for (const isa of cpu.available()) {
      cpu.setIsa(isa);
      paths.set(ops.binaryKernelPath(), isa);
    }
    if (paths.size < 2) this.skip();
    const [first, second] = [...paths.values()];
    cpu.setIsa(first as never);
    const layer = ops.packBinaryConv2d(w);
    const gemm = ops.packBinaryWeightGemm(new Tensor('int8', new Int8Array(8).fill(1), [2, 4]));
    cpu.setIsa(second as never);
    assert.throws(() => ops.binaryConv2d(x, layer), code('E_ISA'));
    assert.throws(() => ops.binaryWeightGemm(new Tensor('float32', [1, 2, 3, 4], [1, 4]), gemm), code('E_ISA'));
    cpu.setIsa(first as never);
    assert.equal(ops.binaryConv2d(x, layer).shape[3], 4);
  });

  it('the addon itself checks every argument (lengths, dtypes, geometry, overflow, detached buffers)', function () {
    const bw = new native.BinaryWeights(new Uint8Array(4 * 9 * 8), 4, 9, 5);
    const os = new native.BinaryOutput('float32', 4, Float32Array.of(1), Float32Array.of(0), null, 1, 0);
    const geometry = Int32Array.of(1, 6, 6, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0);
    const xb = new Uint8Array(36 * 8);
    const out = new Float32Array(16 * 4);
    native.binaryConv2d(bw, os, xb, geometry, true, out); // the good call
    const calls: [() => unknown, string][] = [
      [() => (native.binaryConv2d as (...a: unknown[]) => void)(bw), 'E_ARG'],
      [() => native.binaryConv2d({} as never, os, xb, geometry, true, out), 'E_ARG'],
      [() => native.binaryConv2d(bw, bw as never, xb, geometry, true, out), 'E_ARG'],
      [() => native.binaryConv2d(bw, os, xb, Int32Array.of(1, 6, 6), true, out), 'E_SHAPE'],
      [() => native.binaryConv2d(bw, os, xb, Int32Array.of(1, 6, 6, 3, 3, 0, 1, 1, 1, 0, 0, 0, 0), true, out), 'E_RANGE'],
      [() => native.binaryConv2d(bw, os, xb, Int32Array.of(1, 6, 6, 3, 3, 1, 1, 1, 1, -1, 0, 0, 0), true, out), 'E_RANGE'],
      [() => native.binaryConv2d(bw, os, xb, Int32Array.of(1, 6, 6, 1, 9, 1, 1, 1, 1, 0, 0, 0, 0), true, out), 'E_SHAPE'],
      [() => native.binaryConv2d(bw, os, xb, Int32Array.of(1, 2, 2, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0), true, new Float32Array(0)), 'E_SHAPE'],
      [() => native.binaryConv2d(bw, os, xb, Int32Array.of(2 ** 30, 2 ** 30, 2 ** 30, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0), true, out), 'E_SHAPE'],
      [() => native.binaryConv2d(bw, os, xb.subarray(8), geometry, true, out), 'E_SHAPE'],
      [() => native.binaryConv2d(bw, os, new Float64Array(36 * 5) as never, geometry, true, out), 'E_DTYPE'],
      [() => native.binaryConv2d(bw, os, xb, geometry, 1 as never, out), 'E_ARG'],
      [() => native.binaryConv2d(bw, os, xb, geometry, true, new Int8Array(64)), 'E_DTYPE'],
      [() => native.binaryConv2d(bw, os, xb, geometry, true, new Float32Array(63)), 'E_SHAPE'],
      [() => native.binaryConv2d(bw, new native.BinaryOutput('float32', 3, Float32Array.of(1), Float32Array.of(0), null, 1, 0), xb, geometry, true, out), 'E_SHAPE'],
      [() => native.binaryGemm(bw, os, xb, 1, out), 'E_ARG'],
      [() => new native.BinaryWeights(new Uint8Array(10), 4, 9, 5), 'E_SHAPE'],
      [() => new native.BinaryWeights(new Uint8Array(8), 0, 1, 5), 'E_SHAPE'],
      [() => new native.BinaryWeights(new Uint8Array(8), 1, 2 ** 20, 2 ** 20), 'E_SHAPE'],
      [() => new native.BinaryWeights(new Int8Array(8) as never, 1, 1, 5), 'E_DTYPE'],
      [() => new native.BinaryOutput('int4' as never, 4, Float32Array.of(1), Float32Array.of(0), null, 1, 0), 'E_ARG'],
      [() => new native.BinaryOutput('float32', 4, Float32Array.of(NaN), Float32Array.of(0), null, 1, 0), 'E_RANGE'],
      [() => new native.BinaryOutput('float32', 4, Float32Array.of(1, 2), Float32Array.of(0), null, 1, 0), 'E_SHAPE'],
      [() => new native.BinaryOutput('bit', 4, Float32Array.of(1), Float32Array.of(0), Float32Array.of(NaN), 1, 0), 'E_RANGE'],
      [() => new native.BinaryOutput('int8', 4, Float32Array.of(1), Float32Array.of(0), null, 0, 0), 'E_RANGE'],
      [() => new native.BinaryOutput('int8', 4, Float32Array.of(1), Float32Array.of(0), null, 1, 300), 'E_RANGE'],
      [() => native.bitpack(new Float32Array(5), 1, 5, new Uint8Array(7)), 'E_SHAPE'],
      [() => native.bitpack(new Uint8Array(5) as never, 1, 5, new Uint8Array(8)), 'E_DTYPE'],
      [() => native.bitpack(new Float32Array(5), 2 ** 40, 2 ** 40, new Uint8Array(8)), 'E_SHAPE'],
      [() => native.bitunpack(new Uint8Array(8), 1, 5, new Int32Array(5) as never), 'E_DTYPE'],
      [() => native.binaryWeightGemm(new native.BinaryWeightMatrix(new Uint8Array(32), 4, 5), os, new Float32Array(5), 1, 3, new Float32Array(4)), 'E_RANGE'],
      [() => native.binaryWeightGemm(new native.BinaryWeightMatrix(new Uint8Array(32), 4, 5), os, new Int32Array(5) as never, 1, 0, new Float32Array(4)), 'E_DTYPE'],
    ];
    for (const [call, c] of calls) assert.throws(call, code(c), call.toString());

    const detachable = new Uint8Array(36 * 8);
    structuredClone(detachable.buffer, { transfer: [detachable.buffer] });
    assert.throws(() => native.binaryConv2d(bw, os, detachable, geometry, true, out), code('E_BUFFER'));
  });

  it('the process survives a storm of bad calls (checked in a child process)', function () {
    const script = `
      const { ops, Tensor } = require(${JSON.stringify(path.resolve(__dirname, '..', 'lib'))});
      const { native } = require(${JSON.stringify(path.resolve(__dirname, '..', 'lib', 'native'))});
      let caught = 0;
      const junk = [undefined, null, 0, -1, 2 ** 53, NaN, 'x', {}, [], new Uint8Array(0), new Int32Array(13), new Float64Array(3), () => 0];
      for (const name of ['bitpack', 'bitunpack', 'binaryConv2d', 'binaryGemm', 'binaryWeightGemm', 'BinaryOutput', 'BinaryWeights', 'BinaryWeightMatrix']) {
        const fn = native[name];
        const call = /^[A-Z]/.test(name) ? (...a) => new fn(...a) : fn;
        for (let n = 0; n < 8; n++) for (const j of junk) {
          try { call(...Array(n).fill(j)); } catch (e) { if (e.code) caught++; else throw e; }
        }
      }
      for (const j of junk) {
        for (const f of [ops.binaryConv2d, ops.binaryGemm, ops.binaryWeightGemm, ops.packBinaryConv2d, ops.bitpack]) {
          try { f(j, j, j); } catch (e) { if (e.code) caught++; else throw e; }
        }
      }
      console.log('alive', caught);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: process.env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /alive \d+/);
  });
});
