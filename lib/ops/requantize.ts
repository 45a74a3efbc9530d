// Requantization: int32 accumulators -> uint8/int8, per tensor or per channel,
// in ONNX fp32 mode or TFLite/gemmlowp fixed-point mode (docs/numerics.md).
import type { NativeRequantization } from '../../binding';
import { fail } from '../errors';
import { native } from '../native';
import { Tensor } from '../tensor/tensor';
import { axisParam, describe, expectTensor, intOption, isTensor, ParamValue, splitAt } from './params';

export type RequantMode = 'fp32' | 'fixedpoint';

export interface RequantizeOptions {
  /** fp32 mode: acc * scale. One value, or one per channel. */
  scale?: ParamValue;
  /** fixedpoint mode: Q31 multipliers with their shifts (positive = left). */
  multiplier?: ParamValue;
  shift?: ParamValue;
  zeroPoint?: number;
  outType?: 'uint8' | 'int8';
  /** int32 bias added to the accumulator first (one, or one per channel). */
  bias?: ParamValue;
  /** Output clamp in the output domain (a fused ReLU/ReLU6 is a range). */
  min?: number;
  max?: number;
  /** Defaults to 'fp32' with `scale`, 'fixedpoint' with `multiplier`. With
   * 'fixedpoint' and only `scale`, the multipliers come from quantizeMultiplier. */
  mode?: RequantMode;
  /** The channel axis for per-channel parameters; defaults to the last axis. */
  axis?: number;
  /**
   * fp32 mode: HardSwish between the scaling and the clamp (a Conv quantized
   * after its HardSwish). yScale is the output's scale: the stage applies
   * HardSwish to the real value (acc + bias) * scale * yScale.
   */
  hardSwish?: { yScale: number };
}

function numbers(v: ParamValue, op: string, name: string): number[] {
  if (typeof v === 'number') return [v];
  if (isTensor(v)) return Array.from(v.data as ArrayLike<number>);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number>, Number);
  fail('E_ARG', `${op}: ${name} must be a number, an array or a Tensor, got ${describe(v)}`);
}

/**
 * TFLite's QuantizeMultiplier: scale = multiplier * 2^(shift - 31), with the
 * multiplier a Q31 value in [2^30, 2^31) (0 for a zero scale).
 */
export function quantizeMultiplier(scale: number): { multiplier: number; shift: number } {
  if (typeof scale !== 'number' || !(scale >= 0) || !Number.isFinite(scale)) {
    fail('E_RANGE', `quantizeMultiplier: scale must be a non-negative finite number, got ${String(scale)}`);
  }
  const [multiplier, shift] = native.quantizeMultiplier(scale);
  return { multiplier, shift };
}

/** @internal Builds the native output stage; all checks happen here first. */
export function makeRequantization(op: string, o: RequantizeOptions): NativeRequantization {
  if (o === null || typeof o !== 'object') fail('E_ARG', `${op}: options must be an object`);
  const outType = o.outType ?? 'uint8';
  if (outType !== 'uint8' && outType !== 'int8') fail('E_DTYPE', `${op}: outType must be 'uint8' or 'int8', got ${String(outType)}`);
  const [lo, hi] = outType === 'int8' ? [-128, 127] : [0, 255];
  const zeroPoint = intOption(o.zeroPoint ?? 0, op, 'zeroPoint', lo, hi);
  const min = intOption(o.min ?? lo, op, 'min', lo, hi);
  const max = intOption(o.max ?? hi, op, 'max', lo, hi);
  if (min > max) fail('E_RANGE', `${op}: min ${min} is above max ${max}`);
  const mode: RequantMode = o.mode ?? (o.multiplier !== undefined ? 'fixedpoint' : 'fp32');
  if (mode !== 'fp32' && mode !== 'fixedpoint') fail('E_ARG', `${op}: mode must be 'fp32' or 'fixedpoint', got ${String(mode)}`);
  let scale: Float32Array | null = null, multiplier: Int32Array | null = null, shift: Int32Array | null = null;
  if (mode === 'fp32') {
    if (o.scale === undefined) fail('E_ARG', `${op}: fp32 mode needs a scale`);
    scale = Float32Array.from(numbers(o.scale, op, 'scale'));
    if (scale.length === 0) fail('E_SHAPE', `${op}: scale is empty`);
    scale.forEach((s, i) => {
      if (!(s > 0) || !Number.isFinite(s)) fail('E_RANGE', `${op}: scale[${i}] must be a positive finite number, got ${s}`);
    });
  } else if (o.multiplier !== undefined) {
    const m = numbers(o.multiplier, op, 'multiplier');
    const s = o.shift === undefined ? fail('E_ARG', `${op}: multiplier needs shift`) : numbers(o.shift, op, 'shift');
    if (m.length === 0 || m.length !== s.length) fail('E_SHAPE', `${op}: multiplier has ${m.length} values, shift has ${s.length}`);
    m.forEach((v, i) => intOption(v, op, `multiplier[${i}]`, 0, 2147483647));
    s.forEach((v, i) => intOption(v, op, `shift[${i}]`, -31, 30));
    multiplier = Int32Array.from(m);
    shift = Int32Array.from(s);
  } else {
    if (o.scale === undefined) fail('E_ARG', `${op}: fixedpoint mode needs a multiplier and shift, or a scale`);
    const q = numbers(o.scale, op, 'scale').map((s, i) => {
      if (!(s > 0) || !Number.isFinite(s)) fail('E_RANGE', `${op}: scale[${i}] must be a positive finite number, got ${s}`);
      return quantizeMultiplier(s);
    });
    multiplier = Int32Array.from(q, (x) => x.multiplier);
    shift = Int32Array.from(q, (x) => x.shift);
  }
  let bias: Int32Array | null = null;
  if (o.bias !== undefined && o.bias !== null) {
    const b = numbers(o.bias, op, 'bias');
    b.forEach((v, i) => intOption(v, op, `bias[${i}]`, -2147483648, 2147483647));
    bias = Int32Array.from(b);
    const params = (scale ?? multiplier)!.length;
    if (bias.length > 1 && params > 1 && bias.length !== params) fail('E_SHAPE', `${op}: bias has ${bias.length} values, the scale has ${params}`);
  }
  let hardSwish: number | null = null;
  if (o.hardSwish !== undefined && o.hardSwish !== null) {
    if (mode !== 'fp32') fail('E_ARG', `${op}: hardSwish needs mode 'fp32'`);
    const y = typeof o.hardSwish === 'object' ? o.hardSwish.yScale : undefined;
    if (typeof y !== 'number' || !(y > 0) || !Number.isFinite(y)) fail('E_RANGE', `${op}: hardSwish.yScale must be a positive finite number, got ${describe(y)}`);
    hardSwish = y;
  }
  return new native.Requantization(mode, scale, multiplier, shift, bias, zeroPoint, min, max, outType === 'int8', hardSwish);
}

/** Requantizes int32 accumulators to uint8/int8 (see RequantizeOptions). */
export function requantize(acc: Tensor, options: RequantizeOptions): Tensor<'uint8' | 'int8'> {
  const op = 'requantize';
  expectTensor(acc, op, 'acc', ['int32']);
  const rq = makeRequantization(op, options);
  const outType = options.outType ?? 'uint8';
  let outer = 1, channels = 1, inner = acc.size;
  if (rq.channels > 1) {
    if (acc.rank === 0) fail('E_SHAPE', `${op}: per-channel parameters need a tensor with a channel axis`);
    const axis = axisParam(options.axis ?? -1, acc.rank, op);
    [outer, channels, inner] = splitAt(acc.shape, axis);
    if (channels !== rq.channels) fail('E_SHAPE', `${op}: ${rq.channels} per-channel values, axis ${axis} of [${acc.shape.join(', ')}] has ${channels}`);
  }
  const out = outType === 'int8' ? new Int8Array(acc.size) : new Uint8Array(acc.size);
  native.requantize(rq, acc.data as Int32Array, outer, channels, inner, out);
  return new Tensor(outType, out, acc.shape) as Tensor<'uint8' | 'int8'>;
}
