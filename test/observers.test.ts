// Observers: hand-computed ranges, batch merging, and the histogram methods
// beating min-max on a tensor with outliers (higher SQNR after quantization).
import { strict as assert } from 'node:assert';
import { LowbitError } from '../lib/errors';
import { AbsHistogram, EntropyObserver, makeObserver, MinMaxObserver, MovingAverageMinMaxObserver, MseObserver, PercentileObserver } from '../lib/quant/observers';
import { activationParams, quantizeWeights, sqnr } from '../lib/quant/scheme';
import { defaultModelPath } from '../lib/cli/default-job';
import { exportModel } from '../lib/graph/export';
import { importModel, importModelFile } from '../lib/graph/import';
import { foldBatchNorm, matchHardSwish, removeDeadNodes } from '../lib/graph/passes';
import { upgradeOpset } from '../lib/graph/upgrade';
import { AbsHistogramBuffer, absHistogramAdd, absHistogramAddInto, absHistogramState, ABS_HISTOGRAM_SAMPLE_FROM, minMax, minMaxInto } from '../lib/ops/stats';
import { Program } from '../lib/ops/program';
import { batchOf, renderTextLines } from '../lib/quant/data/textlines';
import { quantizeStaticDetailed } from '../lib/quant/static';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { cpu } from '../lib/cpu';
import { Rng } from './helpers/random';

/** The JavaScript the native statistics replaced, kept as the reference: a left-to-right scan. */
function jsExtremes(x: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** The JavaScript AbsHistogram.add the native one replaced (same fields). */
class JsAbsHistogram {
  readonly counts: Float64Array;
  width = 0;
  lo = Infinity;
  hi = -Infinity;
  constructor(readonly bins: number) {
    this.counts = new Float64Array(bins);
  }
  add(x: Float32Array): void {
    const [lo, hi] = jsExtremes(x);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
    this.lo = Math.min(this.lo, lo);
    this.hi = Math.max(this.hi, hi);
    const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
    if (maxAbs === 0) return;
    if (this.width === 0) this.width = maxAbs / this.bins;
    if (maxAbs > this.width * this.bins) {
      const factor = Math.ceil(maxAbs / (this.width * this.bins));
      const merged = new Float64Array(this.bins);
      for (let i = 0; i < this.bins; i++) merged[Math.floor(i / factor)] += this.counts[i];
      this.counts.set(merged);
      this.width *= factor;
    }
    const inv = 1 / this.width, last = this.bins - 1, c = this.counts;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v === 0) continue;
      const b = Math.floor(Math.abs(v) * inv);
      c[b > last ? last : b]++;
    }
  }
}

/** stats.h sampled_block: the block of group g binned when one block in `sample` is (splitmix64's finalizer). */
function sampledBlock(group: number, sample: number): number {
  const m = (1n << 64n) - 1n;
  let z = (BigInt(group) + 0x9e3779b97f4a7c15n) & m;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & m;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & m;
  z ^= z >> 31n;
  return Number(((z >> 32n) * BigInt(sample)) >> 32n);
}

/** Batches that exercise every branch: growing and shrinking ranges, NaN, infinities, ±0, ReLU-like halves. */
function awkwardBatches(seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const scales = [1, 0.25, 3, 3.01, 50, 1e-3, 700, 2];
  return scales.map((scale, b) => {
    const x = new Float32Array(rng.int(1, 70000));
    for (let i = 0; i < x.length; i++) {
      const r = rng.next();
      x[i] = r < 0.05 ? 0 : r < 0.07 ? -0 : (rng.next() * 2 - 1) * scale;
      if (b % 3 === 1 && x[i] < 0) x[i] = 0;
    }
    if (b === 2) x[x.length >> 1] = NaN;
    if (b === 4) x[0] = Infinity;
    if (b === 5) x[x.length - 1] = -Infinity;
    return x;
  });
}

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

  it('entropy (KL) by hand: 4 bins, 2 levels, counts [4, 2, 1, 1]', () => {
    // width 1. Candidates: i=2: P [4,4] Q [4,2], KL 0.0589; i=3: P [4,2,2] Q [4,1.5,1.5], KL 0.0103;
    // i=4: P [4,2,1,1] Q [3,3,1,1], KL 0.0425. Best i=3: threshold (3 + 0.5) * width.
    const o = new EntropyObserver(2, 4, 0);
    o.observe(Float32Array.from([0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 2.5, 4]));
    assert.deepEqual(Array.from(o.histogram.counts), [4, 2, 1, 1]);
    assert.equal(o.threshold(), 3.5);
    assert.deepEqual(o.range(), [0, 3.5]);
  });

  it('entropy keeps the bulk of the values: candidates start where `keep` of them are inside', () => {
    // The same counts with keep 7/8: i=2 (6 of 8 inside) is no candidate, i=3 (7 of 8) is, and wins.
    const o = new EntropyObserver(2, 4, 7 / 8);
    o.observe(Float32Array.from([0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 2.5, 4]));
    assert.equal(o.threshold(), 3.5);
    // keep 1: only the last candidate, (4 + 0.5) * width, the whole range.
    const all = new EntropyObserver(2, 4, 1);
    all.observe(Float32Array.from([0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 2.5, 4]));
    assert.equal(all.threshold(), 4.5);
    assert.deepEqual(all.range(), [0, 4]);
    // Values all far from zero (a conv output before HardSigmoid): KL alone would
    // fold them all into its first candidate's last bin and call that a match.
    const far = new EntropyObserver();
    far.observe(Float32Array.from({ length: 20000 }, (_, i) => -0.84 - (1.13 * i) / 20000));
    assert.ok(far.range()[0] < -1.96, `range ${far.range()}`);
    // Fewer values than bins: the whole range.
    const few = new EntropyObserver();
    few.observe(Float32Array.from({ length: 100 }, (_, i) => i / 10));
    assert.deepEqual(few.range(), [0, 9.899999618530273]);
  });

  it('MSE by hand: 12 bins, 4 levels, 100 values in bin 0 and 2 in bin 11', () => {
    // width 1, unsigned: 3 steps. T=8: 100 * (8/3)^2/12 + 2 * (11.5 - 8)^2 = 59.26 + 24.5 = 83.76;
    // T=12: 100 * 4^2/12 + 2 * 4^2/12 = 136. Best T=8 (the two outliers are clipped).
    const o = new MseObserver(4, 12);
    o.observe(Float32Array.from([...Array(100).fill(0.5), 11.5, 12]));
    assert.equal(o.histogram.counts[0], 100);
    assert.equal(o.histogram.counts[11], 2);
    assert.equal(o.threshold(), 8);
    assert.deepEqual(o.range(), [0, 8]);
  });

  it('native statistics equal the JavaScript loops they replaced, bit for bit (NaN, ±inf, ±0, growth)', () => {
    for (const seed of [1, 2, 3]) {
      const batches = awkwardBatches(seed);
      for (const x of batches) {
        const [lo, hi] = minMax(x), [wlo, whi] = jsExtremes(x);
        assert.ok(Object.is(lo, wlo) && Object.is(hi, whi), `minMax [${lo}, ${hi}] vs [${wlo}, ${whi}]`);
      }
      for (const bins of [1, 7, 2048]) {
        const h = new AbsHistogram(bins), want = new JsAbsHistogram(bins);
        for (const x of batches) {
          h.add(x);
          want.add(x);
          assert.ok(Object.is(h.lo, want.lo) && Object.is(h.hi, want.hi) && h.width === want.width, `bins ${bins}: lo/hi/width`);
          assert.deepEqual(h.counts, want.counts);
        }
      }
      // Whole observers (every value binned): the same ranges as observers fed by the JavaScript reference.
      for (const method of ['minmax', 'moving-average', 'percentile', 'entropy', 'mse'] as const) {
        const o = makeObserver(method, { bins: 512, histogramSample: 1 }), ref = makeObserver(method, { bins: 512 });
        for (const x of batches) {
          o.observe(x);
          if (ref instanceof MinMaxObserver || ref instanceof MovingAverageMinMaxObserver) {
            ref.observeExtremes(...jsExtremes(x));
          } else {
            const h = (ref as PercentileObserver).histogram, j = new JsAbsHistogram(512);
            j.counts.set(h.counts);
            [j.width, j.lo, j.hi] = [h.width, h.lo, h.hi];
            j.add(x);
            h.counts.set(j.counts);
            [h.width, h.lo, h.hi] = [j.width, j.lo, j.hi];
          }
        }
        const [a, b] = [o.range(), ref.range()];
        assert.ok(Object.is(a[0], b[0]) && Object.is(a[1], b[1]), `${method}: [${a}] vs [${b}]`);
      }
    }
  });

  it('sampled histograms: the tail from every value, the bulk from the picked blocks; extremes and width from every value', () => {
    const all = [...awkwardBatches(4), ...awkwardBatches(11)];
    for (const sample of [2, 3, 8]) {
      const h = new AbsHistogram(2048, sample), exact = new AbsHistogram(2048), j = new JsAbsHistogram(2048);
      for (const x of all) {
        h.add(x);
        exact.add(x);
        // stats.h's rule, value by value: widen as without sampling (on the extremes alone),
        // then find the tail bin in the counts so far and bin x.
        const [lo, hi] = jsExtremes(x);
        if (!Number.isFinite(lo) || !Number.isFinite(hi)) continue;
        const w = j.width, before = Float64Array.from(j.counts);
        j.add(Float32Array.of(lo, hi));
        j.counts.set(before);
        if (w !== 0 && j.width !== w) {
          const factor = j.width / w, merged = new Float64Array(j.bins);
          for (let i = 0; i < j.bins; i++) merged[Math.floor(i / factor)] += before[i];
          j.counts.set(merged);
        }
        if (j.width === 0) continue;
        const c = j.counts, inv = 1 / j.width, last = j.bins - 1;
        const total = c.reduce((t, v) => t + v, 0);
        let tail = c.length, acc = 0;
        while (tail > 0 && acc + c[tail - 1] <= total / 1024) acc += c[--tail];
        const sampling = x.length >= ABS_HISTOGRAM_SAMPLE_FROM && total > 0;
        const group = 16 * sample;
        for (let i = 0; i < x.length; i++) {
          const v = x[i];
          if (v === 0 || v !== v) continue;
          const b = Math.floor(Math.abs(v) * inv), bin = Math.min(last, b);
          if (!sampling || (tail < c.length && b >= tail)) c[bin]++;
          else if (((i % group) >> 4) === sampledBlock(Math.floor(i / group), sample)) c[bin] += sample;
        }
      }
      assert.ok(Object.is(h.lo, j.lo) && Object.is(h.hi, j.hi) && h.width === j.width, `sample ${sample}: lo/hi/width`);
      assert.deepEqual(Array.from(h.counts), Array.from(j.counts), `sample ${sample}: counts`);
      assert.notDeepEqual(Array.from(h.counts), Array.from(exact.counts), `sample ${sample}: nothing was sampled`);
    }
  });

  it('statistics steps recorded into a Program give what the immediate calls give', () => {
    const x = awkwardBatches(9)[0];
    const program = new Program(1024 + x.byteLength);
    const xSlot = { dtype: 'float32' as const, shape: [x.length], ref: 1024 };
    const mmSlot = { dtype: 'float32' as const, shape: [2], ref: 0 };
    const state = absHistogramState(61), bytes = new Uint8Array(state.buffer);
    const stSlot = { dtype: 'uint8' as const, shape: [bytes.length], ref: 64 };
    minMaxInto(xSlot, mmSlot, program);
    absHistogramAddInto(xSlot, stSlot, 61, program);
    const mm = new Float32Array(2);
    program.runSync([x, bytes], [1024, 64], [mm, bytes], [0, 64]);
    program.runSync([x, bytes], [1024, 64], [mm, bytes], [0, 64]);
    const want = absHistogramState(61);
    absHistogramAdd(x, want, 61);
    absHistogramAdd(x, want, 61);
    assert.deepEqual(Array.from(mm), minMax(x));
    assert.deepEqual(state, want);
    // Sampled: the recorded step passes `sample` through (the first batch bins every value, the second samples).
    const big = new Float32Array(ABS_HISTOGRAM_SAMPLE_FROM + 1000).map((_, i) => Math.sin(i) * 3);
    const p2 = new Program(64 + big.byteLength + bytes.length);
    const s2 = absHistogramState(61), b2 = new Uint8Array(s2.buffer);
    absHistogramAddInto({ dtype: 'float32', shape: [big.length], ref: 64 + bytes.length }, { dtype: 'uint8', shape: [b2.length], ref: 0 }, 61, p2, 8);
    p2.runSync([big, b2], [64 + bytes.length, 0], [b2], [0]);
    p2.runSync([big, b2], [64 + bytes.length, 0], [b2], [0]);
    const w2 = absHistogramState(61), exact = absHistogramState(61);
    for (let r = 0; r < 2; r++) {
      absHistogramAdd(big, w2, 61, 8);
      absHistogramAdd(big, exact, 61);
    }
    assert.deepEqual(s2, w2);
    assert.notDeepEqual(s2, exact);
  });

  it('a native histogram state: steps of two Programs update it in place, run after run, as immediate adds would', () => {
    // Two programs over different buffer lengths (a calibration run's plans for two batch
    // shapes) share one state; read() after each run equals the same adds done now.
    const small = awkwardBatches(9)[0];
    const big = new Float32Array(ABS_HISTOGRAM_SAMPLE_FROM + 1000).map((_, i) => Math.sin(i) * (3 + (i % 7)));
    const buffer = new AbsHistogramBuffer(61);
    const programs = [small, big].map((x) => {
      const p = new Program(x.byteLength);
      absHistogramAddInto({ dtype: 'float32', shape: [x.length], ref: 0 }, buffer, 61, p, 8);
      return { p, x };
    });
    const want = absHistogramState(61), got = absHistogramState(61);
    buffer.read(got);
    assert.deepEqual(got, want);
    for (const k of [0, 1, 1, 0, 1]) {
      const { p, x } = programs[k];
      p.runSync([x], [0], [], []);
      absHistogramAdd(x, want, 61, 8);
      buffer.read(got);
      assert.deepEqual(got, want);
    }
    // Immediate adds into it, and write() replacing it.
    absHistogramAddInto(new Tensor('float32', big, [big.length]), buffer, 61, undefined, 8);
    absHistogramAdd(big, want, 61, 8);
    buffer.read(got);
    assert.deepEqual(got, want);
    buffer.write(absHistogramState(61));
    buffer.read(got);
    assert.deepEqual(got, absHistogramState(61));
  });

  it('histogram turns: batches run at once on two threads reach the state in turn order', async () => {
    // The state's growth depends on the order (the first batch sets the width, a
    // wider one merges bins): the second batch is much wider than the first.
    const narrow = new Float32Array(ABS_HISTOGRAM_SAMPLE_FROM + 100).map((_, i) => Math.sin(i) * 0.5);
    const wide = new Float32Array(ABS_HISTOGRAM_SAMPLE_FROM + 300).map((_, i) => Math.cos(i) * (5 + (i % 11)));
    const inOrder = absHistogramState(97), reversed = absHistogramState(97);
    absHistogramAdd(narrow, inOrder, 97, 8);
    absHistogramAdd(wide, inOrder, 97, 8);
    absHistogramAdd(wide, reversed, 97, 8);
    absHistogramAdd(narrow, reversed, 97, 8);
    assert.notDeepEqual(inOrder, reversed);
    const record = (x: Float32Array, buffer: AbsHistogramBuffer) => {
      const p = new Program(x.byteLength + 64);
      absHistogramAddInto({ dtype: 'float32', shape: [x.length], ref: 64 }, buffer, 97, p, 8, { dtype: 'float32', shape: [1], ref: 0 });
      return p;
    };
    const got = absHistogramState(97);
    for (let round = 0; round < 20; round++) {
      const buffer = new AbsHistogramBuffer(97);
      const [first, second] = [record(narrow, buffer), record(wide, buffer)];
      // The later turn is the first part, so it starts first and must wait.
      await Program.runParts([
        { program: second, inputs: [Float32Array.of(1), wide], inputOffsets: [0, 64], outputs: [], outputOffsets: [] },
        { program: first, inputs: [Float32Array.of(0), narrow], inputOffsets: [0, 64], outputs: [], outputOffsets: [] },
      ], true);
      buffer.read(got);
      assert.deepEqual(got, inOrder, `round ${round}`);
      assert.equal(buffer.nextTurn, 2);
    }
    // pass(): a turn that adds nothing here lets the next one go; a step whose turn has
    // been passed already adds nothing.
    const buffer = new AbsHistogramBuffer(97);
    const p = record(wide, buffer);
    buffer.pass(0);
    p.runSync([Float32Array.of(1), wide], [0, 64], [], []);
    const want = absHistogramState(97);
    absHistogramAdd(wide, want, 97, 8);
    buffer.read(got);
    assert.deepEqual(got, want);
    p.runSync([Float32Array.of(0), wide], [0, 64], [], []);
    buffer.read(got);
    assert.deepEqual(got, want);
    assert.equal(buffer.nextTurn, 2);
    buffer.pass(1);
    assert.equal(buffer.nextTurn, 2);
    // A slot that holds no turn (negative, NaN, huge) reads as a long-ended turn:
    // nothing is added, and nothing waits.
    for (const bad of [-1, NaN, 1e30]) {
      p.runSync([Float32Array.of(bad), wide], [0, 64], [], []);
      buffer.read(got);
      assert.deepEqual(got, want, `turn ${bad}`);
    }
    assert.equal(buffer.nextTurn, 2);
  });

  it('statistics ops reject bad arguments with LowbitErrors', () => {
    const isErr = (code: string) => (e: unknown) => e instanceof LowbitError && e.code === code;
    assert.throws(() => absHistogramState(0), isErr('E_RANGE'));
    assert.throws(() => absHistogramAdd(new Float32Array(4), absHistogramState(8), 9), isErr('E_SHAPE'));
    const bad = absHistogramState(8);
    bad[2] = -1;
    assert.throws(() => absHistogramAdd(new Float32Array(4), bad, 8), (e: unknown) => isErr('E_RANGE')(e) && /width/.test((e as Error).message));
    for (const sample of [0, 1.5, 1025, NaN]) {
      assert.throws(() => absHistogramAdd(new Float32Array(4), absHistogramState(8), 8, sample), (e: unknown) => isErr('E_RANGE')(e) && /sample/.test((e as Error).message));
    }
    assert.throws(() => new AbsHistogram(8, 0), isErr('E_RANGE'));
    assert.throws(() => new AbsHistogramBuffer(0), isErr('E_RANGE'));
    const buffer = new AbsHistogramBuffer(8);
    assert.throws(() => absHistogramAddInto(new Tensor('float32', new Float32Array(4), [4]), buffer, 9), isErr('E_SHAPE'));
    assert.throws(() => buffer.read(new Float64Array(10)), isErr('E_SHAPE'));
    assert.throws(() => buffer.write(new Float32Array(11) as unknown as Float64Array), isErr('E_SHAPE'));
    assert.throws(() => buffer.write(bad), (e: unknown) => isErr('E_RANGE')(e) && /width/.test((e as Error).message));
    for (const turn of [-1, 0.5, NaN]) assert.throws(() => buffer.pass(turn), (e: unknown) => isErr('E_RANGE')(e) && /turn/.test((e as Error).message));
    const turnSlot = { dtype: 'float32' as const, shape: [1], ref: 0 };
    // A turn orders recorded steps into a native state: not an immediate add, nor a Float64Array state.
    assert.throws(() => absHistogramAddInto(new Tensor('float32', new Float32Array(4), [4]), buffer, 8, undefined, 1, turnSlot), isErr('E_ARG'));
    assert.throws(() => absHistogramAddInto({ dtype: 'float32', shape: [4], ref: 16 }, absHistogramState(8), 8, new Program(64), 1, turnSlot), isErr('E_ARG'));
    assert.throws(() => absHistogramAddInto({ dtype: 'float32', shape: [4], ref: 16 }, buffer, 8, new Program(64), 1, { dtype: 'float32', shape: [2], ref: 0 }), isErr('E_SHAPE'));
    assert.throws(() => makeObserver('mse', { histogramSample: -1 }), isErr('E_RANGE'));
    assert.throws(() => minMaxInto(new Tensor('int32', new Int32Array(2), [2]), new Tensor('float32', new Float32Array(2), [2])), isErr('E_DTYPE'));
    assert.throws(() => minMaxInto(new Tensor('float32', new Float32Array(2), [2]), new Tensor('float32', new Float32Array(3), [3])), isErr('E_SHAPE'));
  });

  it('rejects an unknown method', () => {
    assert.throws(() => makeObserver('nope' as 'minmax'), (e: unknown) => e instanceof LowbitError && e.code === 'E_ARG' && /nope/.test(e.message));
  });
});

describe('calibration inside the fp32 run', () => {
  it('gives the same ranges on 1 and 2 threads (two batches at once, observed in order)', async function () {
    this.timeout(300000);
    // Batches of 4 and a last one of 3: two plans, one group of two and a group of one.
    const lines = renderTextLines(19, { seed: 4 });
    const calibration = [0, 4, 8, 12, 16].map((i) => ({ x: new Tensor('float32', batchOf(lines.slice(i, i + 4)), [Math.min(4, 19 - i), 3, 48, 192]) }));
    const threads = cpu.threads;
    try {
      for (const method of ['minmax', 'moving-average', 'entropy'] as const) {
        const models: Uint8Array[] = [];
        for (const t of [1, 2]) {
          cpu.setThreads(t);
          models.push((await quantizeStaticDetailed(defaultModelPath(), { calibration, method })).model);
        }
        assert.ok(Buffer.from(models[0]).equals(Buffer.from(models[1])), `${method}: the QDQ bytes differ between 1 and 2 threads`);
      }
    } finally {
      cpu.setThreads(threads);
    }
  });

  it('runs on Graph.clone(): the model an export/import round trip gives, independent of the original', () => {
    const g = importModelFile(defaultModelPath());
    foldBatchNorm(g);
    const c = g.clone();
    assert.deepEqual(exportModel(c), exportModel(importModel(exportModel(g))));
    // Changing the clone leaves the original as it was.
    const before = exportModel(g);
    c.nodes[0].inputs[0] = 'renamed';
    c.nodes[1].attrs = {};
    c.outputs.push({ name: 'extra', dtype: 'float32', shape: [] });
    (c.constants.values().next().value as Tensor).data[0] = 1234;
    c.int64.add('x');
    assert.deepEqual(exportModel(g), before);
  });

  it('chooses the ranges that observing every activation of a Session run chooses', async function () {
    this.timeout(300000);
    // Two batch shapes (two plans, one native histogram state per activation across them).
    const lines = renderTextLines(7, { seed: 3 });
    const calibration = [lines.slice(0, 4), lines.slice(4)].map((p) => ({ x: new Tensor('float32', batchOf(p), [p.length, 3, 48, 192]) }));
    // The graph calibrate() sees, run the way it used to be: every activation an extra output.
    const g = importModelFile(defaultModelPath());
    foldBatchNorm(g);
    upgradeOpset(g, 14);
    matchHardSwish(g);
    removeDeadNodes(g);
    let session: Session | undefined;
    // Every value binned (histogramSample 1): sampling picks by position, and the
    // run keeps some activations in NHWC where the Session returns NCHW.
    for (const method of ['moving-average', 'entropy'] as const) {
      const q = await quantizeStaticDetailed(defaultModelPath(), { calibration, method, histogramSample: 1 });
      const names = q.activations.map((a) => a.name);
      session ??= Session.createSync(exportModel(g), { outputs: names });
      const observers = names.map(() => makeObserver(method, { histogramSample: 1 }));
      for (const feeds of calibration) {
        const r = await session.run(feeds);
        names.forEach((n, i) => observers[i].observe(r[n].data as Float32Array));
      }
      names.forEach((n, i) => {
        const [a, b] = [q.activations[i].range, observers[i].range()];
        assert.ok(Object.is(a[0], b[0]) && Object.is(a[1], b[1]), `${method} ${n}: [${a}] vs [${b}]`);
      });
    }
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
