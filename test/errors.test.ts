// Bad input gets a LowbitError with a code, never a crash: through the public
// API, and straight at the addon (which must not trust JavaScript).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { LowbitError, ops, Tensor } from '../lib';
import { native } from '../lib/native';

const code = (c: string) => (e: unknown) => e instanceof LowbitError && e.code === c;

describe('errors', function () {
  it('ops reject bad arguments with a code naming the parameter', function () {
    const a = new Tensor('uint8', new Uint8Array(6), [2, 3]);
    const b = new Tensor('int8', new Int8Array(12), [3, 4]);
    assert.throws(() => ops.matmulInteger(a, new Tensor('int8', new Int8Array(8), [2, 4])), code('E_SHAPE'));
    assert.throws(() => ops.matmulInteger(new Tensor('float32', new Float32Array(6), [2, 3]), b), code('E_DTYPE'));
    assert.throws(() => ops.matmulInteger(a, {} as never), code('E_ARG'));
    assert.throws(() => ops.matmulInteger(a, b, 256), code('E_RANGE'));
    assert.throws(() => ops.matmulInteger(a, b, 1.5), code('E_RANGE'));
    assert.throws(() => ops.matmulInteger(a, b, [1, 2]), code('E_SHAPE'));
    assert.throws(() => ops.matmulInteger(a, b, 0, [1, 2, 3]), code('E_SHAPE'));
    assert.throws(() => ops.matmulInteger(a, b, new Tensor('int8', [1])), code('E_DTYPE'));
    assert.throws(() => ops.qlinearMatmul(a, 0, 0, b, 1, 0, 1, 0), code('E_RANGE'));
    assert.throws(() => ops.qlinearMatmul(a, 1, 0, b, [1, 2], 0, 1, 0), code('E_SHAPE'));
    assert.throws(() => ops.packMatrix(new Tensor('int8', new Int8Array(4), [4])), code('E_SHAPE'));
    assert.throws(() => ops.matmulInteger(a, ops.packMatrix(b, 1), 0, 2), code('E_ARG'));
    assert.throws(() => ops.quantizeLinear(new Tensor('float32', [1, 2]), -1), code('E_RANGE'));
    assert.throws(() => ops.quantizeLinear(new Tensor('float32', [1, 2, 3, 4], [2, 2]), [1, 2, 3]), code('E_SHAPE'));
    assert.throws(() => ops.dequantizeLinear(new Tensor('uint8', [1, 2])), code('E_ARG'));
    assert.throws(() => ops.dequantizeLinear(new Tensor('int32', [1, 2]), 1, 3), code('E_RANGE'));
    try {
      ops.matmulInteger(a, new Tensor('int8', new Int8Array(8), [2, 4]));
    } catch (e) {
      assert.match((e as Error).message, /matmulInteger: a is \[2, 3\] and b is \[2, 4\]/);
    }
  });

  it('the addon itself checks every argument (lengths, dtypes, overflow, detached buffers)', function () {
    const b = new native.PackedMatrix(new Int8Array(12), 3, 4, new Int32Array(0));
    const out = new Int32Array(8);
    const calls: [() => unknown, string][] = [
      [() => (native.gemm as (...a: unknown[]) => void)(b), 'E_ARG'],
      [() => native.gemm({} as never, new Uint8Array(6), 2, 0, out, null), 'E_ARG'],
      [() => native.gemm(b, new Uint8Array(5), 2, 0, out, null), 'E_SHAPE'],
      [() => native.gemm(b, new Float32Array(6) as never, 2, 0, out, null), 'E_DTYPE'],
      [() => native.gemm(b, new Uint8Array(6), 2, 0, new Int32Array(7), null), 'E_SHAPE'],
      [() => native.gemm(b, new Uint8Array(6), 2, 0, new Uint8Array(8) as never, null), 'E_DTYPE'],
      [() => native.gemm(b, new Uint8Array(6), -2, 0, out, null), 'E_RANGE'],
      [() => native.gemm(b, new Uint8Array(6), 2 ** 62, 0, out, null), 'E_RANGE'],
      [() => native.gemm(b, new Uint8Array(6), 2 ** 52, 0, out, null), 'E_SHAPE'],
      [() => native.gemm(b, new Uint8Array(6), 2, 300, out, null), 'E_RANGE'],
      [() => native.gemm(b, new Uint8Array(6), 2, 0, out, {} as never), 'E_ARG'],
      [() => new native.PackedMatrix(new Int8Array(12), 3, 4, new Int32Array([0, 1])), 'E_SHAPE'],
      [() => new native.PackedMatrix(new Int8Array(12), 3, 4, new Int32Array([200])), 'E_RANGE'],
      [() => new native.PackedMatrix(new Int8Array(12), 0, 4, new Int32Array(0)), 'E_SHAPE'],
      [() => new native.PackedMatrix(new Int8Array(12), 2 ** 40, 2 ** 40, new Int32Array(0)), 'E_SHAPE'],
      [() => new native.Requantization('fp32', new Float32Array([-1]), null, null, null, 0, 0, 255, false, null), 'E_RANGE'],
      [() => new native.Requantization('fixedpoint', null, new Int32Array([1]), new Int32Array([40]), null, 0, 0, 255, false, null), 'E_RANGE'],
      [() => new native.Requantization('other' as never, null, null, null, null, 0, 0, 255, false, null), 'E_ARG'],
      [() => native.quantizeLinear(new Float32Array(4), 1, 2, 2, new Float32Array(3), new Int32Array(1), new Uint8Array(4)), 'E_SHAPE'],
      [() => native.quantizeLinear(new Float32Array(4), 1, 1, 4, new Float32Array([0]), new Int32Array(1), new Uint8Array(4)), 'E_RANGE'],
      [() => native.dequantizeLinear(new Float64Array(4) as never, 1, 1, 4, new Float32Array([1]), new Int32Array(1), new Float32Array(4)), 'E_DTYPE'],
      [() => native.setIsa('sse9'), 'E_ISA'],
      [() => native.setThreads(-1), 'E_RANGE'],
    ];
    for (const [call, c] of calls) assert.throws(call, code(c), call.toString());

    // A detached buffer reads as empty: rejected, not dereferenced.
    const detachable = new Uint8Array(6);
    structuredClone(detachable.buffer, { transfer: [detachable.buffer] });
    assert.throws(() => native.gemm(b, detachable, 2, 0, out, null), code('E_BUFFER'));
  });

  it('the process survives a storm of bad calls (checked in a child process)', function () {
    const script = `
      const { ops, Tensor } = require(${JSON.stringify(path.resolve(__dirname, '..', 'lib'))});
      const { native } = require(${JSON.stringify(path.resolve(__dirname, '..', 'lib', 'native'))});
      let caught = 0;
      const junk = [undefined, null, 0, -1, 2 ** 53, NaN, 'x', {}, [], new Uint8Array(0), new Float64Array(3), () => 0];
      for (const name of ['gemm', 'requantize', 'quantizeLinear', 'dequantizeLinear', 'quantizeMultiplier', 'setIsa', 'setThreads']) {
        for (let n = 0; n < 8; n++) for (const j of junk) {
          try { native[name](...Array(n).fill(j)); } catch (e) { if (e.code) caught++; else throw e; }
        }
      }
      for (const j of junk) { try { ops.matmulInteger(j, j); } catch (e) { if (e.code) caught++; else throw e; } }
      console.log('alive', caught);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /alive \d+/);
  });
});
