// int4 weight-only GEMM (lib/ops/int4.ts, docs/int4.md): results against a
// float64 reference on the dequantized weights, quantizeInt4's rounding, packing
// from ONNX int4 bytes in both layouts, identical bytes on every kernel path and
// thread count from one packing, a Program step, and the errors bad arguments give.
import { strict as assert } from 'node:assert';
import { cpu, LowbitError, ops, Tensor } from '../lib';
import { native } from '../lib/native';
import type { Slot } from '../lib/ops';
import { Rng } from './helpers/random';

function bad(f: () => unknown, code: string, re?: RegExp): void {
  assert.throws(f, (e: unknown) => {
    if (!(e instanceof LowbitError)) return false;
    if (e.code !== code) assert.fail(`expected ${code}, got ${e.code}: ${e.message}`);
    if (re && !re.test(e.message)) assert.fail(`message ${JSON.stringify(e.message)} does not match ${re}`);
    return true;
  });
}

function randomFloats(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
}

/** float64 y = clamp(x * W^T + bias) with W[n][k] = q * scale of its block, and the bound of its fp32 rounding. */
function reference(x: Float32Array, m: number, k: number, q: Int8Array, scales: Float32Array, n: number, blockSize: number,
                   bias: Float32Array | null, lo = -Infinity, hi = Infinity): { y: Float64Array; tol: Float64Array } {
  const bk = blockSize === 0 ? k : blockSize, blocks = Math.ceil(k / bk);
  const y = new Float64Array(m * n), tol = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = bias ? bias[j] : 0, mag = bias ? Math.abs(bias[j]) : 0;
      for (let kk = 0; kk < k; kk++) {
        const w = q[j * k + kk] * scales[j * blocks + Math.floor(kk / bk)];
        acc += x[i * k + kk] * w;
        mag += Math.abs(x[i * k + kk] * w);
      }
      y[i * n + j] = Math.min(Math.max(acc, lo), hi);
      tol[i * n + j] = (k + blocks + 2) * 2 ** -24 * mag + 1e-12;
    }
  }
  return { y, tol };
}

function randomInt4(rng: Rng, count: number): Int8Array {
  return Int8Array.from({ length: count }, () => rng.int(-8, 7));
}

describe('int4 weight-only GEMM', function () {
  const original = { isa: cpu.isa, threads: cpu.threads };
  after(() => {
    cpu.setIsa(original.isa);
    cpu.setThreads(original.threads);
  });

  it('matches a float64 reference on the dequantized weights ([N, K] and [K, N], every block size, bias, clamp)', function () {
    const rng = new Rng(7);
    const shapes: [number, number, number][] = [[1, 1, 1], [1, 17, 33], [3, 16, 64], [7, 33, 129], [17, 100, 300], [2, 5, 128]];
    let cases = 0;
    for (const [m, n, k] of shapes) {
      for (const blockSize of [0, 32, 64, 128] as const) {
        for (const layout of ['nk', 'kn'] as const) {
          const blocks = blockSize === 0 ? 1 : Math.ceil(k / blockSize);
          const q = randomInt4(rng, n * k);  // [n][k]
          q[0] = -8;
          q[q.length - 1] = 7;
          const scales = randomFloats(rng, n * blocks, 0.001, 0.05);  // [n][blocks]
          const bias = cases % 2 === 0 ? randomFloats(rng, n, -0.1, 0.1) : null;
          const clip = cases % 3 === 0 ? { kind: 'clip' as const, min: -0.05, max: 0.06 } : undefined;
          const x = randomFloats(rng, m * k);
          let weights: Tensor, scaleValues: Float32Array;
          if (layout === 'nk') {
            weights = new Tensor('int8', q, [n, k]);
            scaleValues = scales;
          } else {
            const t = new Int8Array(k * n), s = new Float32Array(blocks * n);
            for (let j = 0; j < n; j++) {
              for (let kk = 0; kk < k; kk++) t[kk * n + j] = q[j * k + kk];
              for (let b = 0; b < blocks; b++) s[b * n + j] = scales[j * blocks + b];
            }
            weights = new Tensor('int8', t, [k, n]);
            scaleValues = s;
          }
          const packed = ops.packInt4Weights(weights, { layout, scales: scaleValues, blockSize, bias });
          assert.equal(packed.n, n);
          assert.equal(packed.k, k);
          const y = ops.int4Gemm(new Tensor('float32', x, [m, k]), packed, { activation: clip });
          assert.deepEqual(y.shape, [m, n]);
          const want = reference(x, m, k, q, scales, n, blockSize, bias, clip?.min, clip?.max);
          const got = y.data as Float32Array;
          for (let i = 0; i < m * n; i++) {
            assert.ok(Math.abs(got[i] - want.y[i]) <= want.tol[i],
              `m${m} n${n} k${k} block ${blockSize} ${layout}: y[${i}] = ${got[i]}, reference ${want.y[i]} (tol ${want.tol[i]})`);
          }
          cases++;
        }
      }
    }
    assert.equal(cases, shapes.length * 8);
  });

  it('keeps the weights at 4 bits: byteLength is about N * K / 2 plus scales', function () {
    const n = 256, k = 1024;
    const packed = ops.packInt4Weights(new Tensor('int8', new Int8Array(n * k), [n, k]), { scales: new Float32Array(n).fill(1) });
    const weightBytes = n * k / 2, scaleAndBias = n * 4 * 2;
    assert.ok(packed.byteLength <= weightBytes + scaleAndBias + 64, `byteLength ${packed.byteLength}`);
    assert.ok(packed.byteLength >= weightBytes);
  });

  it('quantizeInt4: scale = max|w| / 7, round half to even, values in [-7, 7]; it round-trips through the GEMM', function () {
    // One row [N=1, K=8], per channel: max 3.5 -> scale 0.5; 0.25 / 0.5 = 0.5 -> 0, 0.75 / 0.5 = 1.5 -> 2, -1.25 -> -2.5 -> -2.
    const w = new Tensor('float32', Float32Array.of(3.5, 0.25, 0.75, -1.25, -3.5, 0, 1.0, -0.25), [1, 8]);
    const q = ops.quantizeInt4(w, { axis: 1 });
    assert.deepEqual(Array.from(q.scales.data), [0.5]);
    assert.deepEqual(Array.from(q.data.data), [7, 0, 2, -2, -7, 0, 2, 0]);
    assert.equal(q.layout, 'nk');
    // Blocked along K of a [K, N] matrix: scales [blocks, N]; an all-zero block gets scale 1.
    const rng = new Rng(3);
    const k = 70, n = 5;
    const data = randomFloats(rng, k * n, -2, 2);
    for (let kk = 32; kk < 64; kk++) data[kk * n + 1] = 0;
    const wk = new Tensor('float32', data, [k, n]);
    const qk = ops.quantizeInt4(wk, { axis: 0, blockSize: 32 });
    assert.deepEqual(qk.scales.shape, [3, n]);
    assert.equal(qk.layout, 'kn');
    assert.equal((qk.scales.data as Float32Array)[1 * n + 1], 1);
    const values = qk.data.data as Int8Array, scales = qk.scales.data as Float32Array;
    for (let kk = 0; kk < k; kk++) {
      for (let j = 0; j < n; j++) {
        const s = scales[Math.floor(kk / 32) * n + j];
        assert.ok(values[kk * n + j] >= -7 && values[kk * n + j] <= 7);
        assert.ok(Math.abs(values[kk * n + j] * s - data[kk * n + j]) <= s / 2 + 1e-7);
      }
    }
    // The GEMM on the quantized weights equals x times the dequantized matrix.
    const packed = ops.packInt4Weights(qk.data, { layout: qk.layout, scales: qk.scales, blockSize: qk.blockSize });
    const x = randomFloats(rng, 2 * k);
    const y = ops.int4Gemm(new Tensor('float32', x, [2, k]), packed).data as Float32Array;
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0, mag = 0;
        for (let kk = 0; kk < k; kk++) {
          const d = values[kk * n + j] * scales[Math.floor(kk / 32) * n + j];
          acc += x[i * k + kk] * d;
          mag += Math.abs(x[i * k + kk] * d);
        }
        assert.ok(Math.abs(y[i * n + j] - acc) <= 1e-5 * mag + 1e-9, `y[${i}][${j}] = ${y[i * n + j]}, want ${acc}`);
      }
    }
  });

  it('packs ONNX int4 bytes (low nibble first) of [N, K] and [K, N] like the int8 values', function () {
    const rng = new Rng(5);
    const n = 19, k = 33, blocks = 2;
    const q = randomInt4(rng, n * k);
    const scales = randomFloats(rng, n * blocks, 0.01, 0.1);
    const nibbles = (count: number, at: (i: number) => number) => {
      const bytes = new Uint8Array(Math.ceil(count / 2));
      for (let i = 0; i < count; i++) bytes[i >> 1] |= (at(i) & 0x0f) << (i % 2 === 0 ? 0 : 4);
      return bytes;
    };
    const nk = nibbles(n * k, (i) => q[i]);
    const kn = nibbles(n * k, (i) => q[(i % n) * k + Math.floor(i / n)]);
    const scalesBn = new Float32Array(blocks * n);
    for (let j = 0; j < n; j++) for (let b = 0; b < blocks; b++) scalesBn[b * n + j] = scales[j * blocks + b];
    const x = new Tensor('float32', randomFloats(rng, 3 * k), [3, k]);
    const fromValues = ops.int4Gemm(x, ops.packInt4Weights(new Tensor('int8', q, [n, k]), { scales, blockSize: 32 }));
    const fromNk = ops.int4Gemm(x, ops.packInt4Weights({ format: 'onnx-int4', data: nk, shape: [n, k] }, { scales, blockSize: 32 }));
    const fromKn = ops.int4Gemm(x, ops.packInt4Weights({ format: 'onnx-int4', data: kn, shape: [k, n] },
      { layout: 'kn', scales: scalesBn, blockSize: 32 }));
    assert.deepEqual(fromNk.data, fromValues.data);
    assert.deepEqual(fromKn.data, fromValues.data);
  });

  it('gives identical bytes on every kernel path this machine has, at 1 and 3 threads, from one packing', function () {
    const rng = new Rng(13);
    // Big enough to be split over threads (M * N * K >= 2^20), and a GEMV.
    const shapes: [number, number, number, 0 | 32 | 64 | 128][] = [[1, 1000, 1100, 64], [9, 300, 400, 32], [5, 33, 129, 0]];
    const paths = cpu.available();
    assert.ok(paths.includes('ref'));
    for (const [m, n, k, blockSize] of shapes) {
      const blocks = blockSize === 0 ? 1 : Math.ceil(k / blockSize);
      const packed = ops.packInt4Weights(new Tensor('int8', randomInt4(rng, n * k), [n, k]),
        { scales: randomFloats(rng, n * blocks, 0.001, 0.05), blockSize, bias: randomFloats(rng, n) });
      const x = new Tensor('float32', randomFloats(rng, m * k, -3, 3), [m, k]);
      let first: Buffer | undefined;
      const kernels = new Set<string>();
      for (const isa of paths) {
        cpu.setIsa(isa);
        kernels.add(ops.int4KernelPath());
        for (const threads of [1, 3]) {
          cpu.setThreads(threads);
          const y = ops.int4Gemm(x, packed, { activation: 'relu6' });
          const bytes = Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength);
          if (first === undefined) first = bytes;
          else assert.ok(bytes.equals(first), `m${m} n${n} k${k}: ${isa} (${ops.int4KernelPath()}) at ${threads} threads differs from ref`);
        }
      }
      if (paths.includes('avx512vnni')) assert.ok(kernels.has('avx512') && kernels.has('avx2'), [...kernels].join(' '));
    }
  });

  it('records into a Program: runSync gives the immediate result', function () {
    const rng = new Rng(17);
    const m = 4, n = 40, k = 96;
    const packed = ops.packInt4Weights(new Tensor('int8', randomInt4(rng, n * k), [n, k]),
      { scales: randomFloats(rng, n * 3, 0.01, 0.05), blockSize: 32 });
    const x = new Tensor('float32', randomFloats(rng, m * k), [m, k]);
    const want = ops.int4Gemm(x, packed, { activation: 'relu' });
    const sx: Slot = { dtype: 'float32', shape: [m, k], ref: 0 };
    const sy: Slot = { dtype: 'float32', shape: [m, n], ref: m * k * 4 };
    const program = new ops.Program(m * k * 4 + m * n * 4);
    ops.int4GemmInto(packed, sx, m, sy, { activation: 'relu' }, program);
    assert.equal(program.stepCount, 1);
    const out = new Float32Array(m * n);
    program.runSync([x.data], [sx.ref], [out], [sy.ref]);
    assert.deepEqual(out, want.data);
  });

  it('rejects bad arguments with LowbitErrors that name them', function () {
    const w = new Tensor('int8', new Int8Array(4 * 64), [4, 64]);
    const scales = new Float32Array(4).fill(0.1);
    bad(() => ops.packInt4Weights(new Tensor('int8', Int8Array.of(0, 8, 0, 0), [2, 2]), { scales: [1, 1] }), 'E_RANGE', /weights\[1\] = 8 is outside/);
    bad(() => ops.packInt4Weights(new Tensor('int8', Int8Array.of(0, -9, 0, 0), [2, 2]), { scales: [1, 1] }), 'E_RANGE', /\[-8, 7\]/);
    bad(() => ops.packInt4Weights(new Tensor('float32', new Float32Array(4), [2, 2]), { scales: [1, 1] }), 'E_DTYPE', /weights must be int8/);
    bad(() => ops.packInt4Weights(new Tensor('int8', new Int8Array(8), [2, 2, 2]), { scales: [1, 1] }), 'E_SHAPE', /2-D/);
    bad(() => ops.packInt4Weights(w, { scales: new Float32Array(3) }), 'E_SHAPE', /scales has 3 values, expected 4/);
    bad(() => ops.packInt4Weights(w, { scales: new Float32Array(4), blockSize: 32 }), 'E_SHAPE', /expected 8/);
    bad(() => ops.packInt4Weights(w, { scales, blockSize: 48 as never }), 'E_RANGE', /blockSize must be 0/);
    bad(() => ops.packInt4Weights(w, { scales, layout: 'nc' as never }), 'E_ARG', /layout/);
    bad(() => ops.packInt4Weights(w, { scales: Float32Array.of(1, NaN, 1, 1) }), 'E_RANGE', /scales\[1\]/);
    bad(() => ops.packInt4Weights(w, { scales, bias: [1, 2] }), 'E_SHAPE', /bias has 2 values, expected 4/);
    bad(() => ops.packInt4Weights({ format: 'onnx-int4', data: new Uint8Array(3), shape: [2, 4] }, { scales: [1, 1] }), 'E_SHAPE', /needs 4 bytes/);
    bad(() => ops.packInt4Weights(w, undefined as never), 'E_ARG', /scales are required/);
    const packed = ops.packInt4Weights(w, { scales });
    bad(() => ops.int4Gemm(new Tensor('float32', new Float32Array(63), [63]), packed), 'E_SHAPE', /last axis must be K = 64/);
    bad(() => ops.int4Gemm(new Tensor('int8', new Int8Array(64), [64]), packed), 'E_DTYPE', /x must be float32/);
    bad(() => ops.int4Gemm(new Tensor('float32', new Float32Array(64), [64]), {} as never), 'E_ARG', /PackedInt4/);
    bad(() => ops.int4Gemm(new Tensor('float32', new Float32Array(64), [64]), packed, { activation: { kind: 'clip', min: 2, max: 1 } }), 'E_RANGE', /above max/);
    bad(() => ops.int4Gemm(new Tensor('float32', new Float32Array(64), [64]), packed, { activation: 'gelu' as never }), 'E_ARG', /activation/);
    bad(() => ops.int4GemmInto(packed, new Tensor('float32', new Float32Array(128), [2, 64]), 2, Tensor.zeros('float32', [2, 5])), 'E_SHAPE', /out is \[2, 5\]/);
    bad(() => ops.quantizeInt4(new Tensor('float32', new Float32Array(4), [4]), { axis: 1 }), 'E_SHAPE', /2-D/);
    bad(() => ops.quantizeInt4(new Tensor('float32', new Float32Array(4), [2, 2]), { axis: 2 as never }), 'E_RANGE', /axis/);
    bad(() => ops.quantizeInt4(new Tensor('float32', Float32Array.of(1, Infinity, 0, 0), [2, 2]), { axis: 1 }), 'E_RANGE', /not finite/);
    // The addon checks again without the TypeScript layer.
    bad(() => new native.PackedInt4(Int8Array.of(9), 'int8', 1, 1, false, Float32Array.of(1), 0, null), 'E_RANGE', /outside the int4 range/);
    bad(() => new native.PackedInt4(new Int8Array(4), 'int8', 2, 2, false, Float32Array.of(1), 0, null), 'E_SHAPE', /scales has 1 elements, expected 2/);
    bad(() => new native.PackedInt4(new Int8Array(4), 'int8', 2, 2, false, Float32Array.of(1, 1), 16, null), 'E_RANGE', /blockSize/);
    bad(() => new native.PackedInt4(new Int8Array(4), 'int4' as never, 2, 2, false, Float32Array.of(1, 1), 0, null), 'E_ARG', /format/);
    bad(() => new native.PackedInt4(new Int8Array(3), 'onnx', 2, 3, false, Float32Array.of(1, 1), 0, null), 'E_DTYPE', /Uint8Array/);
    bad(() => new native.PackedInt4(new Int8Array(0), 'int8', 0, 3, false, new Float32Array(0), 0, null), 'E_SHAPE', /positive/);
    bad(() => new native.PackedInt4(new Int8Array(4), 'int8', 2, 2, false, Float32Array.of(1, Infinity), 0, null), 'E_RANGE', /not finite/);
    const x = new Float32Array(64), y = new Float32Array(4);
    bad(() => native.int4Gemm(packed.handle, new Float32Array(63), 1, y, 0, 1), 'E_SHAPE', /x has 63 elements, expected 64/);
    bad(() => native.int4Gemm(packed.handle, x, 1, new Float32Array(3), 0, 1), 'E_SHAPE', /out has 3 elements/);
    bad(() => native.int4Gemm(packed.handle, x, 1, y, 1, 0), 'E_RANGE', /clampMin/);
    bad(() => native.int4Gemm(packed.handle, x, 1, y, NaN, 0), 'E_RANGE', /NaN/);
    bad(() => native.int4Gemm({} as never, x, 1, y, 0, 1), 'E_ARG', /PackedInt4/);
    const shared = new Float32Array(64);
    bad(() => native.int4Gemm(packed.handle, shared, 1, shared.subarray(0, 4), 0, 1), 'E_ARG', /overlap/);
  });
});
