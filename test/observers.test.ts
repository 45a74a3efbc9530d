// Observers: hand-computed ranges, batch merging, and the histogram methods
// beating min-max on a tensor with outliers (higher SQNR after quantization).
import { strict as assert } from 'node:assert';
import { LowbitError } from '../lib/errors';
import { AbsHistogram, EntropyObserver, makeObserver, MinMaxObserver, MovingAverageMinMaxObserver, MseObserver, PercentileObserver } from '../lib/quant/observers';
import { activationParams, quantizeWeights, sqnr } from '../lib/quant/scheme';
import { Rng } from './helpers/random';

/** Quantize-dequantize x with the observer's range (uint8, asymmetric). */
function fakeQuant(x: Float32Array, range: [number, number]): Float32Array {
  const { scale, zeroPoint } = activationParams(range[0], range[1], 'uint8', false);
  return x.map((v) => (Math.min(255, Math.max(0, Math.round(v / scale) + zeroPoint)) - zeroPoint) * scale);
}

/** N(0, 1) values (Box-Muller) with one far outlier in the first batch, as activation spikes look. */
function batchesWithOutlier(): Float32Array[] {
  const rng = new Rng(5);
  const u = () => (rng.int(0, 1 << 30) + 0.5) / (1 << 30);
  return [0, 1, 2, 3, 4, 5].map((b) => {
    const x = new Float32Array(200000);
    for (let i = 0; i < x.length; i++) x[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    if (b === 0) x[12345] = 12;
    return x;
  });
}

describe('observers', () => {
  it('min-max: the extremes over all batches, widened to contain 0', () => {
    const o = new MinMaxObserver();
    o.observe(Float32Array.from([1, 2, 3]));
    o.observe(Float32Array.from([0.5, 7]));
    assert.deepEqual(o.range(), [0, 7]);
    o.observe(Float32Array.from([-2]));
    assert.deepEqual(o.range(), [-2, 7]);
  });

  it('moving average: min += c (batch min - min), the first batch taken as is', () => {
    const o = new MovingAverageMinMaxObserver(0.5);
    o.observe(Float32Array.from([-4, 4]));
    o.observe(Float32Array.from([-2, 8]));
    assert.deepEqual(o.range(), [-3, 6]);
    assert.throws(() => new MovingAverageMinMaxObserver(0), (e: unknown) => e instanceof LowbitError && e.code === 'E_RANGE');
  });

  it('histogram: counts |x| into bins, merges bins when a batch is wider', () => {
    const h = new AbsHistogram(4);
    h.add(Float32Array.from([0.1, -0.6, 0.9, 1.0]));
    assert.equal(h.width, 0.25);
    assert.deepEqual(Array.from(h.counts), [1, 0, 1, 2]);
    h.add(Float32Array.from([-2.0]));
    assert.equal(h.width, 0.5);
    assert.deepEqual(Array.from(h.counts), [1, 3, 0, 1]);
    assert.equal(h.total(), 5);
  });

  it('percentile: the bin edge where the cumulative count reaches the percentile', () => {
    const o = new PercentileObserver(50, 10);
    o.observe(Float32Array.from({ length: 10 }, (_, i) => i + 0.5)); // |x| 0.5..9.5, width 0.95
    const t = o.threshold();
    assert.ok(Math.abs(t - 5 * 0.95) < 1e-9, `threshold ${t}`);
    assert.deepEqual(o.range(), [0, 5 * 0.95]);
  });

  it('entropy and MSE keep the bulk of a clean distribution', () => {
    const x = Float32Array.from({ length: 20000 }, (_, i) => ((i % 2001) - 1000) / 1000);
    for (const o of [new EntropyObserver(), new MseObserver()]) {
      o.observe(x);
      const [lo, hi] = o.range();
      assert.ok(hi > 0.9 && lo < -0.9, `${o.constructor.name}: [${lo}, ${hi}]`);
    }
  });

  it('percentile, entropy and MSE beat min-max (higher SQNR) on a tensor with outliers', () => {
    const batches = batchesWithOutlier();
    const all = new Float32Array(1200000);
    batches.forEach((b, i) => all.set(b, i * 200000));
    const score = (method: 'minmax' | 'percentile' | 'entropy' | 'mse') => {
      const o = makeObserver(method, { percentile: 99.99 });
      batches.forEach((b) => o.observe(b));
      return sqnr(all, fakeQuant(all, o.range()));
    };
    const base = score('minmax');
    for (const m of ['percentile', 'entropy', 'mse'] as const) {
      const s = score(m);
      assert.ok(s > base + 2, `${m}: ${s.toFixed(1)} dB vs min-max ${base.toFixed(1)} dB`);
    }
  });

  it('rejects an unknown method', () => {
    assert.throws(() => makeObserver('nope' as 'minmax'), (e: unknown) => e instanceof LowbitError && e.code === 'E_ARG' && /nope/.test(e.message));
  });
});

describe('quantization scheme', () => {
  it('asymmetric uint8 activations: scale (hi - lo)/255, zero point round(-lo/scale)', () => {
    assert.deepEqual(activationParams(-1, 3, 'uint8', false), { scale: Math.fround(4 / 255), zeroPoint: 64 });
    assert.deepEqual(activationParams(0, 6, 'uint8', false), { scale: Math.fround(6 / 255), zeroPoint: 0 });
    assert.deepEqual(activationParams(-2, 1, 'int8', false), { scale: Math.fround(2 / 127), zeroPoint: 0 });
  });

  it('weights: symmetric per channel, max |w| maps to 127', () => {
    const w = Float32Array.from([1, -0.5, 0.25, 2, -4, 0]);
    const q = quantizeWeights(w, [2, 3], 0);
    assert.deepEqual(Array.from(q.scales), [Math.fround(1 / 127), Math.fround(4 / 127)]);
    assert.deepEqual(Array.from(q.data), [127, -64, 32, 64, -127, 0]);
    const t = quantizeWeights(w, [2, 3], undefined, true);
    assert.equal(t.scales.length, 1);
    assert.equal(Math.max(...Array.from(t.data, Math.abs)), 63);
  });
});
