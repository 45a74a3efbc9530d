// Quantization parameters from ranges: activations asymmetric (uint8) or
// symmetric (int8), weights symmetric int8 per output channel.
import { fail } from '../errors';

export type ActivationType = 'uint8' | 'int8';

export interface QParams {
  scale: number;
  zeroPoint: number;
}

/** Scale and zero point so that [lo, hi] (containing 0) maps onto the type's range. */
export function activationParams(lo: number, hi: number, type: ActivationType, symmetric: boolean): QParams {
  if (!(lo <= 0 && hi >= 0)) fail('E_RANGE', `the range [${lo}, ${hi}] must contain 0`);
  if (type === 'int8' || symmetric) {
    const absMax = Math.max(-lo, hi);
    if (absMax === 0) return { scale: 1, zeroPoint: type === 'int8' ? 0 : 128 };
    if (type === 'int8') return { scale: Math.fround(absMax / 127), zeroPoint: 0 };
    return { scale: Math.fround((2 * absMax) / 255), zeroPoint: 128 };
  }
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

export interface WeightQuant {
  data: Int8Array;
  scales: Float32Array;
}

/**
 * Symmetric int8 weights along `axis` (per channel) or for the whole tensor:
 * q = round_half_even(w / s) in [-qmax, qmax], s = max|w| / qmax.
 * reduceRange uses 7 bits (qmax 63), for CPUs whose int8 dot products saturate.
 */
export function quantizeWeights(w: Float32Array, shape: readonly number[], axis: number | undefined, reduceRange = false): WeightQuant {
  const qmax = reduceRange ? 63 : 127;
  const channels = axis === undefined ? 1 : shape[axis];
  const inner = axis === undefined ? w.length : shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const absMax = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = axis === undefined ? 0 : Math.floor(i / inner) % channels;
    absMax[c] = Math.max(absMax[c], Math.abs(w[i]));
  }
  const scales = Float32Array.from(absMax, (m) => (m === 0 ? 1 : m / qmax));
  const data = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const c = axis === undefined ? 0 : Math.floor(i / inner) % channels;
    data[i] = Math.max(-qmax, Math.min(qmax, roundHalfEven(w[i] / scales[c])));
  }
  return { data, scales };
}

export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Signal-to-quantization-noise ratio in dB: 10 log10(sum x^2 / sum (x - y)^2). */
export function sqnr(reference: ArrayLike<number>, approx: ArrayLike<number>): number {
  let s = 0, n = 0;
  for (let i = 0; i < reference.length; i++) {
    s += reference[i] * reference[i];
    const d = reference[i] - approx[i];
    n += d * d;
  }
  if (n === 0) return Infinity;
  return 10 * Math.log10(s / n);
}
