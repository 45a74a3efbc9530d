// Calibration statistics over float32 activations, computed natively
// (native/include/lowbit/stats.h) with the exact arithmetic of the JavaScript
// observers they replace:
//  - minMax: the least and greatest value, NaN ignored; a zero extreme has the
//    sign of the first zero (as a `v < lo` scan finds it).
//  - absHistogramAdd: one batch into a growing histogram of |x|, kept in a
//    Float64Array state [lo, hi, width, counts[bins]] (counts are exact integers
//    up to 2^53). The bin of v is floor(|v| * (1 / width)) in double precision,
//    clamped to the last bin; exact zeros and NaN are not counted. With
//    sample > 1, a buffer of at least ABS_HISTOGRAM_SAMPLE_FROM values counts
//    its tail exactly (every value from the bin where the top ~0.1% of the
//    counts so far start) and its bulk from one block of 16 values in every
//    `sample` (picked by a fixed hash of the block's position), each counted
//    `sample` times; extremes still come from every value (stats.h).
// Both run now on Tensors or record a step into a Program on Slots, so a
// calibration run can collect them next to the step that made each activation.
// A histogram state may also live in native memory (AbsHistogramBuffer): the
// recorded steps then update it in place at every run, with no copy in or out.
import { fail } from '../errors';
import type { NativeAbsHistogramState } from '../../binding';
import { native } from '../native';
import { Tensor } from '../tensor/tensor';
import { expectOut, invoke, native_, operandInfo } from './operand';
import { isSlot, Operand, Program, Slot } from './program';

/** The words of an |x| histogram state before its counts: lo, hi, width. */
export const ABS_HISTOGRAM_HEADER = 3;
/** The most bins an |x| histogram may have. */
export const ABS_HISTOGRAM_MAX_BINS = 2 ** 24;
/** The largest `sample` of absHistogramAdd (one block of 16 values in `sample` binned below the tail). */
export const ABS_HISTOGRAM_MAX_SAMPLE = 1024;
/** Buffers shorter than this are binned whole whatever `sample` is (native kSampleFromElements). */
export const ABS_HISTOGRAM_SAMPLE_FROM = 2 ** 15;

/** [min, max] of x, NaN ignored; [Infinity, -Infinity] when x holds no number. */
export function minMax(x: Float32Array | Tensor): [number, number] {
  const t = x instanceof Float32Array ? new Tensor('float32', x, [x.length]) : x;
  const out = new Tensor('float32', new Float32Array(2), [2]);
  minMaxInto(t, out);
  return [out.data[0], out.data[1]];
}

/** out (float32, shape [2]) = [min, max] of x. */
export function minMaxInto(x: Operand, out: Operand, program?: Program): void {
  const xi = operandInfo(x, 'minMax', 'x', ['float32']);
  expectOut(out, 'minMax', 'float32', [2]);
  invoke(native.minMax, [native_(x), xi.size, native_(out)], program);
}

function checkBins(bins: unknown, op: string): number {
  if (typeof bins !== 'number' || !Number.isInteger(bins) || bins < 1 || bins > ABS_HISTOGRAM_MAX_BINS) {
    fail('E_RANGE', `${op}: bins must be an integer in [1, ${ABS_HISTOGRAM_MAX_BINS}], got ${String(bins)}`);
  }
  return bins;
}

export function checkSample(sample: unknown, op: string): number {
  if (typeof sample !== 'number' || !Number.isInteger(sample) || sample < 1 || sample > ABS_HISTOGRAM_MAX_SAMPLE) {
    fail('E_RANGE', `${op}: sample must be an integer in [1, ${ABS_HISTOGRAM_MAX_SAMPLE}], got ${String(sample)}`);
  }
  return sample;
}

/**
 * An |x| histogram state (absHistogramState's layout) in native memory. Steps
 * recorded with it update it in place at every run of their Program, however
 * many Programs name it: a calibration run keeps one per activation across
 * batches and batch shapes, and reads it back only when ranges are asked for.
 * Reads and writes wait for a step that is updating it.
 */
export class AbsHistogramBuffer {
  /** @internal */
  readonly handle: NativeAbsHistogramState;
  constructor(readonly bins: number) {
    this.handle = new native.AbsHistogramState(checkBins(bins, 'AbsHistogramBuffer'));
  }
  /** Copies the state into `out` (3 + bins elements). */
  read(out: Float64Array): void {
    this.checkLength(out, 'read');
    this.handle.read(out);
  }
  /** Replaces the state with `from` (3 + bins elements; from[2], the width, 0 or positive and finite). */
  write(from: Float64Array): void {
    this.checkLength(from, 'write');
    this.handle.write(from);
  }
  /**
   * Turns order the batches of runs in flight at once: a step recorded with a
   * turn (absHistogramAddInto's `turn`) waits until every earlier turn has
   * ended, so the state takes the batches in order. pass(turn) ends a turn that
   * adds nothing here (its run has no such step, or failed); the turns start at
   * 0 and go up by one a batch.
   */
  pass(turn: number): void {
    if (!Number.isInteger(turn) || turn < 0) fail('E_RANGE', `AbsHistogramBuffer.pass: turn must be a whole number >= 0, got ${turn}`);
    this.handle.pass(turn);
  }
  /** The turn the next step adds at. */
  get nextTurn(): number {
    return this.handle.nextTurn;
  }
  private checkLength(a: unknown, op: string): void {
    const words = ABS_HISTOGRAM_HEADER + this.bins;
    if (!(a instanceof Float64Array) || a.length !== words) {
      fail('E_SHAPE', `AbsHistogramBuffer.${op}: expected a Float64Array of ${words} elements (3 + bins), got ${a instanceof Float64Array ? a.length : typeof a}`);
    }
  }
}

/** A fresh |x| histogram state: lo = Infinity, hi = -Infinity, width 0 (no data yet), zero counts. */
export function absHistogramState(bins: number): Float64Array {
  const s = new Float64Array(ABS_HISTOGRAM_HEADER + checkBins(bins, 'absHistogramState'));
  s[0] = Infinity;
  s[1] = -Infinity;
  return s;
}

/**
 * Adds one batch to an |x| histogram of `bins` bins (the observers'
 * AbsHistogram.add): a batch with an infinite value is skipped; otherwise lo/hi
 * take its extremes, the first nonzero batch sets width = max|x| / bins, and a
 * larger max|x| widens the bins by the whole factor ceil(max|x| / (width * bins)),
 * merging old bin i into i / factor, before the batch is binned.
 *
 * state: the Float64Array from absHistogramState() when running now; when
 * recording, a uint8 Slot of its bytes (8 * (3 + bins)), which the caller copies
 * into the run and back out; or, either way, an AbsHistogramBuffer, updated in
 * place (at every run of the program when recording).
 *
 * sample (default 1: every value): a buffer of at least ABS_HISTOGRAM_SAMPLE_FROM
 * values, once the histogram has counts, is counted in two parts. Its tail (bins
 * from the one where the top 1/1024 of the counts so far start) takes every
 * value. Below it, the buffer is cut into groups of `sample` blocks of 16
 * values, one block per group (the same one for any thread count or CPU) is
 * binned, and its values count `sample` times. The extremes, and so the width
 * and lo/hi, still come from every value.
 */
export function absHistogramAddInto(x: Operand, state: Float64Array | Slot | AbsHistogramBuffer, bins: number, program?: Program, sample = 1, turn?: Operand): void {
  const op = 'absHistogramAdd';
  const xi = operandInfo(x, op, 'x', ['float32']);
  checkBins(bins, op);
  checkSample(sample, op);
  const words = ABS_HISTOGRAM_HEADER + bins;
  if (turn !== undefined) {
    // At a batch's turn (AbsHistogramBuffer.pass): recorded steps into a buffer only.
    if (!(state instanceof AbsHistogramBuffer) || program === undefined) fail('E_ARG', `${op}: a turn needs an AbsHistogramBuffer state and a program to record into`);
    const ti = operandInfo(turn, op, 'turn', ['float32']);
    if (ti.size !== 1) fail('E_SHAPE', `${op}: the turn slot must hold 1 float32, got ${ti.size}`);
  }
  if (state instanceof AbsHistogramBuffer) {
    if (state.bins !== bins) fail('E_SHAPE', `${op}: the state holds ${state.bins} bins, not ${bins}`);
    if (turn !== undefined) invoke(native.absHistogramAddInTurn, [native_(x), xi.size, state.handle, bins, sample, native_(turn)], program);
    else invoke(native.absHistogramAdd, [native_(x), xi.size, state.handle, bins, sample], program);
    return;
  }
  if (state instanceof Float64Array) {
    if (state.length !== words) fail('E_SHAPE', `${op}: state must have ${words} elements (3 + bins), got ${state.length}`);
  } else if (isSlot(state)) {
    const si = operandInfo(state, op, 'state', ['uint8']);
    if (si.size !== 8 * words) fail('E_SHAPE', `${op}: the state slot must hold ${8 * words} bytes (8 * (3 + bins)), got ${si.size}`);
  } else {
    fail('E_ARG', `${op}: state must be a Float64Array (absHistogramState) or a uint8 Slot of its bytes`);
  }
  invoke(native.absHistogramAdd, [native_(x), xi.size, state, bins, sample], program);
}

/** absHistogramAddInto on a Float32Array, now. */
export function absHistogramAdd(x: Float32Array, state: Float64Array, bins: number, sample = 1): void {
  absHistogramAddInto(new Tensor('float32', x, [x.length]), state, bins, undefined, sample);
}
