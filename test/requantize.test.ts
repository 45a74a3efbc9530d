// Requantization: fixedpoint against an independent BigInt transcription of the
// gemmlowp/TFLite formulas; fp32 against ONNX semantics computed in JavaScript.
import { strict as assert } from 'node:assert';
import { LowbitError, ops, Tensor } from '../lib';
import { Rng } from './helpers/random';

const I32_MIN = -2147483648n, I32_MAX = 2147483647n;
const wrap32 = (v: bigint): bigint => BigInt.asIntN(32, v);

// gemmlowp SaturatingRoundingDoublingHighMul.
function srdhm(a: bigint, b: bigint): bigint {
  if (a === I32_MIN && b === I32_MIN) return I32_MAX;
  const ab = a * b;
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return (ab + nudge) / (1n << 31n); // BigInt division truncates toward zero, like C's
}

// gemmlowp RoundingDivideByPOT.
function rdbpot(x: bigint, exponent: bigint): bigint {
  const mask = (1n << exponent) - 1n;
  const remainder = x & mask; // two's complement semantics of BigInt &
  const threshold = (mask >> 1n) + (x < 0n ? 1n : 0n);
  return (x >> exponent) + (remainder > threshold ? 1n : 0n);
}

// TFLite MultiplyByQuantizedMultiplier (the left shift wraps, as vector shifts do).
function mbqm(x: bigint, multiplier: bigint, shift: number): bigint {
  const left = shift > 0 ? BigInt(shift) : 0n, right = shift > 0 ? 0n : BigInt(-shift);
  return rdbpot(srdhm(wrap32(x << left), multiplier), right);
}

function expectFixedpoint(acc: number, bias: number, mult: number, shift: number, zp: number, lo: number, hi: number): number {
  const x = wrap32(BigInt(acc) + BigInt(bias));
  const y = wrap32(mbqm(x, BigInt(mult), shift) + BigInt(zp));
  return Number(y < BigInt(lo) ? BigInt(lo) : y > BigInt(hi) ? BigInt(hi) : y);
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

describe('requantize', function () {
  it('fixedpoint equals the gemmlowp formulas on boundary and random values', function () {
    const rng = new Rng(42);
    const accs = [-2147483648, -2147483647, -1073741824, -65536, -257, -1, 0, 1, 255, 65535, 1073741824, 2147483646, 2147483647];
    const mults = [0, 1, 1073741824, 1073741825, 1518500250, 2147483646, 2147483647];
    for (let trial = 0; trial < 400; trial++) {
      const n = 64;
      const acc = Int32Array.from({ length: n }, (_, i) => (i < accs.length ? accs[i] : rng.next() < 0.5 ? rng.int(-2147483648, 2147483647) : rng.int(-100000, 100000)));
      const multiplier = trial < mults.length ? mults[trial] : rng.next() < 0.2 ? rng.pick(mults) : rng.int(1073741824, 2147483647);
      const shift = trial % 62 - 31; // every shift in [-31, 30]
      const outType = rng.pick(['uint8', 'int8'] as const);
      const [lo, hi] = outType === 'int8' ? [-128, 127] : [0, 255];
      const zeroPoint = rng.int(lo, hi);
      const bias = rng.next() < 0.5 ? rng.int(-2147483648, 2147483647) : 0;
      const y = ops.requantize(new Tensor('int32', acc), { multiplier, shift, zeroPoint, outType, bias: bias === 0 ? undefined : bias });
      for (let i = 0; i < n; i++) {
        const want = expectFixedpoint(acc[i], bias, multiplier, shift, zeroPoint, lo, hi);
        if (y.data[i] !== want) assert.fail(`acc ${acc[i]} bias ${bias} multiplier ${multiplier} shift ${shift} zp ${zeroPoint}: got ${y.data[i]}, want ${want}`);
      }
    }
  });

  it('fixedpoint per channel with clamp, on the channel axis given', function () {
    const acc = new Tensor('int32', [100, 200, 300, -100, -200, -300], [3, 2]);
    const q = ops.requantize(acc, { multiplier: [1073741824, 1073741824, 1073741824], shift: [0, -1, 1], zeroPoint: 5, min: 5, max: 200, axis: 0 });
    assert.deepEqual(Array.from(q.data), [55, 105, 80, 5, 5, 5]);
  });

  it('fp32 mode rounds half to even and saturates like ONNX', function () {
    const rng = new Rng(7);
    const n = 4096;
    const acc = Int32Array.from({ length: n }, () => rng.int(-3000000, 3000000));
    for (const outType of ['uint8', 'int8'] as const) {
      for (const scale of [0.5, 1 / 3, 0.00012345, 2.5e-5]) {
        const zeroPoint = outType === 'int8' ? -3 : 128;
        const y = ops.requantize(new Tensor('int32', acc), { scale, zeroPoint, outType });
        const s = Math.fround(scale);
        const [lo, hi] = outType === 'int8' ? [-128, 127] : [0, 255];
        for (let i = 0; i < n; i++) {
          const v = Math.fround(Math.fround(acc[i]) * s);
          const want = Math.min(hi, Math.max(lo, roundHalfEven(v) + zeroPoint));
          if (y.data[i] !== want) assert.fail(`acc ${acc[i]} scale ${scale}: got ${y.data[i]}, want ${want}`);
        }
      }
    }
    // Exact ties.
    const ties = ops.requantize(new Tensor('int32', [1, 3, 5, -1, -3, -5]), { scale: 0.5, zeroPoint: 0, outType: 'int8' });
    assert.deepEqual(Array.from(ties.data), [0, 2, 2, 0, -2, -2]);
  });

  it('per-channel fp32 with int32 bias on the last axis by default', function () {
    const acc = new Tensor('int32', [10, 10, 10, 20, 20, 20], [2, 3]);
    const y = ops.requantize(acc, { scale: [1, 0.5, 0.25], bias: [0, 10, -10], zeroPoint: 0, outType: 'int8' });
    assert.deepEqual(Array.from(y.data), [10, 10, 0, 20, 15, 2]);
  });

  it('fp32 mode with hardSwish: HardSwish of the real value, in output steps, before the clamp', function () {
    // x = fl(acc * s) is the output in steps of yScale; hardswish(x * yScale) / yScale
    // = x * clamp(x * yScale / 6 + 1/2, 0, 1), each step one float32 rounding.
    const rng = new Rng(11);
    const n = 4096;
    const acc = Int32Array.from({ length: n }, () => rng.int(-400000, 900000));
    for (const outType of ['uint8', 'int8'] as const) {
      for (const [scale, yScale] of [[1e-4, 0.05], [3.3e-5, 0.12], [2e-3, 1.7]]) {
        const zeroPoint = outType === 'int8' ? -120 : 9;
        const y = ops.requantize(new Tensor('int32', acc), { scale, zeroPoint, outType, hardSwish: { yScale } });
        const plain = ops.requantize(new Tensor('int32', acc), { scale, zeroPoint, outType });
        const s = Math.fround(scale), k = Math.fround(Math.fround(yScale) / 6);
        const [lo, hi] = outType === 'int8' ? [-128, 127] : [0, 255];
        let changed = 0;
        for (let i = 0; i < n; i++) {
          const x = Math.fround(Math.fround(acc[i]) * s);
          const t = Math.min(1, Math.max(0, Math.fround(Math.fround(x * k) + 0.5)));
          const want = Math.min(hi, Math.max(lo, roundHalfEven(Math.fround(x * t)) + zeroPoint));
          if (y.data[i] !== want) assert.fail(`acc ${acc[i]} scale ${scale} yScale ${yScale}: got ${y.data[i]}, want ${want}`);
          if (y.data[i] !== plain.data[i]) changed++;
        }
        assert.ok(changed > n / 10, `HardSwish changed only ${changed} of ${n} outputs`);
      }
    }
    assert.throws(() => ops.requantize(new Tensor('int32', [1]), { multiplier: 1 << 30, shift: 0, hardSwish: { yScale: 1 } }), (e: unknown) => e instanceof LowbitError && e.code === 'E_ARG');
    for (const yScale of [0, -1, NaN, Infinity]) {
      assert.throws(() => ops.requantize(new Tensor('int32', [1]), { scale: 1, hardSwish: { yScale } }), (e: unknown) => e instanceof LowbitError && e.code === 'E_RANGE', `yScale ${yScale}`);
    }
    assert.throws(() => ops.requantize(new Tensor('int32', [1]), { scale: 1e30, hardSwish: { yScale: 1 } }), (e: unknown) => e instanceof LowbitError && e.code === 'E_RANGE');
  });

  it('quantizeMultiplier matches TFLite QuantizeMultiplier', function () {
    assert.deepEqual(ops.quantizeMultiplier(0.5), { multiplier: 1073741824, shift: 0 });
    assert.deepEqual(ops.quantizeMultiplier(1), { multiplier: 1073741824, shift: 1 });
    assert.deepEqual(ops.quantizeMultiplier(0), { multiplier: 0, shift: 0 });
    assert.deepEqual(ops.quantizeMultiplier(0.75), { multiplier: 1610612736, shift: 0 });
    const rng = new Rng(3);
    for (let i = 0; i < 1000; i++) {
      const s = Math.exp(rng.next() * 40 - 30);
      const { multiplier, shift } = ops.quantizeMultiplier(s);
      // frexp, then round(q * 2^31) half away from zero.
      let e = Math.floor(Math.log2(s)) + 1;
      let q = s / 2 ** e;
      if (q >= 1) { q /= 2; e += 1; }
      if (q < 0.5) { q *= 2; e -= 1; }
      let qf = Math.round(q * 2 ** 31);
      if (qf === 2 ** 31) { qf /= 2; e += 1; }
      if (e < -31) { e = 0; qf = 0; }
      assert.deepEqual({ multiplier, shift }, { multiplier: qf, shift: e }, `scale ${s}`);
    }
    assert.throws(() => ops.quantizeMultiplier(-1), (e: unknown) => e instanceof LowbitError && e.code === 'E_RANGE');
  });

  it('rejects bad options with a code', function () {
    const acc = new Tensor('int32', [1, 2, 3]);
    const bad: [object, string][] = [
      [{ scale: 0 }, 'E_RANGE'],
      [{ scale: NaN }, 'E_RANGE'],
      [{ scale: [1, 2] }, 'E_SHAPE'],
      [{ multiplier: 1 << 30, shift: 31 }, 'E_RANGE'],
      [{ multiplier: -1, shift: 0 }, 'E_RANGE'],
      [{ multiplier: 1 << 30 }, 'E_ARG'],
      [{ scale: 1, zeroPoint: 300 }, 'E_RANGE'],
      [{ scale: 1, outType: 'int16' }, 'E_DTYPE'],
      [{ scale: 1, min: 10, max: 5 }, 'E_RANGE'],
      [{ scale: 1, mode: 'float' }, 'E_ARG'],
      [{}, 'E_ARG'],
    ];
    for (const [options, code] of bad) {
      assert.throws(() => ops.requantize(acc, options as never), (e: unknown) => e instanceof LowbitError && e.code === code, JSON.stringify(options));
    }
    assert.throws(() => ops.requantize(new Tensor('float32', [1]), { scale: 1 }), (e: unknown) => e instanceof LowbitError && e.code === 'E_DTYPE');
  });
});
