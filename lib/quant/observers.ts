// Observers: collect an activation's statistics over calibration batches and
// choose its clipping range. Min-max and its moving average look at extremes;
// the histogram observers (percentile, KL entropy as in TensorRT, MSE) look at
// the distribution, so a few outliers do not stretch the range.
//
// The per-value work (min/max, binning) is native (lib/ops/stats.ts), with the
// same arithmetic as the JavaScript loops it replaced, so ranges are unchanged.
// NaN values are ignored. Calibration can also compute a batch's statistics
// inside the model's run (observeExtremes, AbsHistogram.state): see calibrate().
import { fail } from '../errors';
import { absHistogramAdd, absHistogramState, ABS_HISTOGRAM_HEADER, checkSample, minMax } from '../ops/stats';

export type CalibrationMethod = 'minmax' | 'moving-average' | 'percentile' | 'entropy' | 'mse';

export interface Observer {
  observe(x: Float32Array): void;
  /** The [min, max] range to quantize to; always contains 0. */
  range(): [number, number];
}

/** An observer that needs only each batch's min and max. */
export interface ExtremesObserver extends Observer {
  /** A batch whose least and greatest values (NaN ignored) are lo and hi. */
  observeExtremes(lo: number, hi: number): void;
}

export function isExtremesObserver(o: Observer): o is ExtremesObserver {
  return typeof (o as Partial<ExtremesObserver>).observeExtremes === 'function';
}

function withZero(lo: number, hi: number): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 0];
  return [Math.min(lo, 0), Math.max(hi, 0)];
}

export class MinMaxObserver implements ExtremesObserver {
  protected lo = Infinity;
  protected hi = -Infinity;
  observe(x: Float32Array): void {
    const [lo, hi] = minMax(x);
    this.observeExtremes(lo, hi);
  }
  observeExtremes(lo: number, hi: number): void {
    this.lo = Math.min(this.lo, lo);
    this.hi = Math.max(this.hi, hi);
  }
  range(): [number, number] {
    return withZero(this.lo, this.hi);
  }
}

/** Exponential moving average of each batch's min and max (PyTorch's MovingAverageMinMaxObserver). */
export class MovingAverageMinMaxObserver implements ExtremesObserver {
  private lo = NaN;
  private hi = NaN;
  constructor(private readonly averagingConstant = 0.01) {
    if (!(averagingConstant > 0 && averagingConstant <= 1)) fail('E_RANGE', `averagingConstant must be in (0, 1], got ${averagingConstant}`);
  }
  observe(x: Float32Array): void {
    const [lo, hi] = minMax(x);
    this.observeExtremes(lo, hi);
  }
  observeExtremes(lo: number, hi: number): void {
    if (Number.isNaN(this.lo)) {
      this.lo = lo;
      this.hi = hi;
    } else {
      const c = this.averagingConstant;
      this.lo += c * (lo - this.lo);
      this.hi += c * (hi - this.hi);
    }
  }
  range(): [number, number] {
    return withZero(this.lo, this.hi);
  }
}

/**
 * A histogram of |x| over [0, maxAbs] with a fixed number of bins. When a batch
 * has a larger |x|, the histogram grows by whole multiples of its width and old
 * bins merge, so batches combine without keeping data. Exact zeros (half of a
 * ReLU output) are representable under any range: they stay out of the
 * histogram so they do not sway the threshold search. A batch holding an
 * infinity is skipped. With sample > 1, large batches count their tail (the
 * top ~0.1%) from every value and their bulk from one block of 16 values in
 * every `sample`, weighted by `sample` (lib/ops/stats.ts absHistogramAdd); lo,
 * hi and the width still come from every value.
 */
export class AbsHistogram {
  /** [lo, hi, width, counts...]: what lib/ops/stats.ts absHistogramAdd updates. */
  readonly state: Float64Array;
  readonly counts: Float64Array;

  constructor(readonly bins = 2048, readonly sample = 1) {
    checkSample(sample, 'AbsHistogram');
    this.state = absHistogramState(bins);
    this.counts = this.state.subarray(ABS_HISTOGRAM_HEADER);
  }

  /** The least value seen (Infinity before any). */
  get lo(): number { return this.state[0]; }
  set lo(v: number) { this.state[0] = v; }
  /** The greatest value seen (-Infinity before any). */
  get hi(): number { return this.state[1]; }
  set hi(v: number) { this.state[1] = v; }
  /** The width of a bin (0 until a batch with a nonzero value). */
  get width(): number { return this.state[2]; }
  set width(v: number) { this.state[2] = v; }

  add(x: Float32Array): void {
    absHistogramAdd(x, this.state, this.bins, this.sample);
  }

  total(): number {
    let t = 0;
    for (const v of this.counts) t += v;
    return t;
  }

  /** A range [lo, hi] from a threshold on |x|, clipped to what was seen. */
  clip(threshold: number): [number, number] {
    return withZero(Math.max(this.lo, -threshold), Math.min(this.hi, threshold));
  }
}

/** An observer that chooses its range from an AbsHistogram of every batch. */
export abstract class HistogramObserver implements Observer {
  readonly histogram: AbsHistogram;
  constructor(bins: number, sample = 1) {
    this.histogram = new AbsHistogram(bins, sample);
  }
  observe(x: Float32Array): void {
    this.histogram.add(x);
  }
  range(): [number, number] {
    const h = this.histogram;
    if (h.width === 0) return withZero(h.lo, h.hi);
    return h.clip(this.threshold());
  }
  /** The clipping threshold on |x|. */
  abstract threshold(): number;
}

/** The given percentile of |x| (e.g. 99.99). */
export class PercentileObserver extends HistogramObserver {
  constructor(private readonly percentile = 99.99, bins = 2048, sample = 1) {
    super(bins, sample);
    if (!(percentile > 0 && percentile <= 100)) fail('E_RANGE', `percentile must be in (0, 100], got ${percentile}`);
  }
  threshold(): number {
    const h = this.histogram, want = (h.total() * this.percentile) / 100;
    let acc = 0;
    for (let i = 0; i < h.bins; i++) {
      acc += h.counts[i];
      if (acc >= want) return (i + 1) * h.width;
    }
    return h.bins * h.width;
  }
}

/**
 * KL-divergence calibration as in TensorRT (Migacz, "8-bit Inference with
 * TensorRT", 2017): for each candidate threshold from `levels` bins up, compare
 * the clipped reference distribution P (outliers folded into the last bin) with
 * its `levels`-level quantized version Q; keep the threshold of least KL(P||Q).
 */
export class EntropyObserver extends HistogramObserver {
  /** keep: the least share of the values a candidate threshold keeps inside (0: every candidate, as in TensorRT). */
  constructor(private readonly levels = 128, bins = 2048, private readonly keep = 0.9999, sample = 1) {
    super(bins, sample);
  }
  threshold(): number {
    const h = this.histogram, counts = h.counts, n = h.bins, levels = this.levels;
    // Fewer values than bins: the histogram says nothing about the tail (squeeze-
    // excite vectors, tiny heads); keep the whole range.
    const total = h.total();
    if (total < n) return n * h.width;
    // KL compares shapes only: a threshold that folds most of the values into
    // P's last bin (values all far from zero) looks like a perfect match to Q.
    // Candidates keep at least `keep` of the values inside, as TensorRT's
    // thresholds do in practice (they clip outliers, not the bulk).
    let first = levels, inside = 0;
    for (let i = 0; i < n; i++) {
      inside += counts[i];
      if (inside >= this.keep * total) {
        first = Math.max(levels, i + 1);
        break;
      }
    }
    let best = n, bestKl = Infinity;
    let tail = 0;
    for (let i = first; i < n; i++) tail += counts[i];
    // P and Q for every candidate live in two buffers (the first i entries in use).
    const p = new Float64Array(n), q = new Float64Array(n);
    for (let i = first; i <= n; i++) {
      // P: the first i bins, with everything beyond folded into bin i-1.
      p.set(counts.subarray(0, i));
      p[i - 1] += tail;
      if (i < n) tail -= counts[i];
      // Q: P's first i bins merged into `levels` groups, spread back over the non-empty bins.
      q.fill(0, 0, i);
      const per = i / levels;
      for (let j = 0; j < levels; j++) {
        const start = Math.floor(j * per), end = j === levels - 1 ? i : Math.floor((j + 1) * per);
        let sum = 0, nonzero = 0;
        for (let k = start; k < end; k++) {
          sum += counts[k];
          if (counts[k] > 0) nonzero++;
        }
        if (nonzero === 0) continue;
        for (let k = start; k < end; k++) if (counts[k] > 0) q[k] = sum / nonzero;
      }
      const kl = klDivergence(p, q, i);
      if (kl < bestKl) {
        bestKl = kl;
        best = i;
      }
    }
    return (best + 0.5) * h.width;
  }
}

/** KL(P || Q) over the first `length` bins of p and q. */
function klDivergence(p: Float64Array, q: Float64Array, length: number): number {
  let ps = 0, qs = 0;
  for (let i = 0; i < length; i++) {
    ps += p[i];
    qs += q[i];
  }
  if (ps === 0 || qs === 0) return Infinity;
  let kl = 0;
  for (let i = 0; i < length; i++) {
    if (p[i] === 0) continue;
    const pi = p[i] / ps;
    const qi = q[i] / qs;
    kl += qi === 0 ? pi * 1e6 : pi * Math.log(pi / qi); // a bin P has and Q lost: heavily penalised
  }
  return kl;
}

/**
 * The threshold that minimises the expected squared error of quantizing to
 * `levels` steps over [0, T]: rounding noise (step^2/12 per value inside) plus
 * clipping error (distance to T squared) for values beyond.
 */
export class MseObserver extends HistogramObserver {
  constructor(private readonly levels = 256, bins = 2048, sample = 1) {
    super(bins, sample);
  }
  threshold(): number {
    const h = this.histogram, n = h.bins, w = h.width;
    const signed = h.lo < 0;
    const steps = signed ? this.levels / 2 - 1 : this.levels - 1;
    let best = n * w, bestErr = Infinity;
    for (let i = 8; i <= n; i += 4) {
      const t = i * w, step = t / steps;
      let err = 0;
      for (let k = 0; k < n; k++) {
        const c = h.counts[k];
        if (c === 0) continue;
        const center = (k + 0.5) * w;
        err += center <= t ? (c * step * step) / 12 : c * (center - t) * (center - t);
      }
      if (err < bestErr) {
        bestErr = err;
        best = t;
      }
    }
    return best;
  }
}

export interface ObserverOptions {
  percentile?: number;
  bins?: number;
  averagingConstant?: number;
  /**
   * Histogram methods, activations of at least 32768 values per batch: the tail
   * (top ~0.1%) counts every value, the bulk one block of 16 values in every
   * `histogramSample` (1: every value). Default DEFAULT_HISTOGRAM_SAMPLE; see
   * docs/calibration.md.
   */
  histogramSample?: number;
}

/** Binning every value of every activation costs ~1.5x the inference itself; see docs/calibration.md. */
export const DEFAULT_HISTOGRAM_SAMPLE = 8;

export function makeObserver(method: CalibrationMethod, o: ObserverOptions = {}): Observer {
  const sample = o.histogramSample ?? DEFAULT_HISTOGRAM_SAMPLE;
  switch (method) {
    case 'minmax': return new MinMaxObserver();
    case 'moving-average': return new MovingAverageMinMaxObserver(o.averagingConstant);
    case 'percentile': return new PercentileObserver(o.percentile, o.bins, sample);
    case 'entropy': return new EntropyObserver(128, o.bins, undefined, sample);
    case 'mse': return new MseObserver(256, o.bins, sample);
    default: fail('E_ARG', `unknown calibration method '${String(method)}' (minmax, moving-average, percentile, entropy, mse)`);
  }
}
