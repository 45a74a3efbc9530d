// Quantized elementwise ops on int8 / uint8 tensors, as onnxruntime runs QDQ
// models (com.microsoft QLinearAdd, QLinearMul, QLinearGlobalAveragePool): the
// data stays 8-bit and each output is requantized once in float32.
//
// Semantics (native/include/lowbit/qelementwise.h, docs/numerics.md), with
// fl() one float32 rounding, da = a - za, db = b - zb:
//   add: t = fl(fl(fl(sa / sy) * da) + fl(fl(sb / sy) * db))
//   mul: t = fl(fl(fl(sa * sb) / sy) * (da * db))
//   y   = saturate(round_half_even(t) + zy), within an optional clip
//   pool: y = saturate(round_half_even(fl(fl(sum(x) - n * zx) * fl(sx / fl(sy * n)))) + zy), n pixels
// identical on every kernel path; within one step of the ONNX reference
// (dequantize, float op, quantize by division). requantizeHardSwishInto takes
// an int8 convolution's int32 accumulators through HardSwish to 8 bits, with
// no quantization between the two (see its comment).
import { fail } from '../errors';
import { native } from '../native';
import { integerRange } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { broadcastPlan, broadcastShape, ClipOptions } from './elementwise';
import { invoke, native_, numberOption, operandInfo, OperandInfo, sameShape, shapeString } from './operand';
import { describe, intOption } from './params';
import { isSlot, Operand, Program } from './program';
import { globalPoolShape, PoolLayout } from './pool';

type Bytes8 = 'int8' | 'uint8';
const BYTES: readonly Bytes8[] = ['int8', 'uint8'];

/** Quantization of the operands and the output of a QLinearAdd / QLinearMul. */
export interface QLinearBinaryParams {
  aScale: number;
  aZeroPoint?: number;
  bScale: number;
  bZeroPoint?: number;
  yScale: number;
  yZeroPoint?: number;
  /** A fused clamp in real units (Relu = {min: 0}), applied as the quantized range it maps to. */
  clip?: ClipOptions;
}

/** Requantize-through-HardSwish: int32 convolution accumulators -> HardSwish -> 8 bits. */
export interface RequantizeHardSwishParams {
  /** The accumulators' scale (x scale * w scale): one value, or one per channel. */
  scale: Float32Array | number[] | number;
  /** int32 bias added to each accumulator first: one value, or one per channel. */
  bias?: Int32Array | number[];
  yScale: number;
  yZeroPoint?: number;
  /** Output clamp in the quantized domain (defaults: the output type's range). */
  min?: number; max?: number;
}

/** Quantization of a QLinearGlobalAveragePool's input and output. */
export interface QLinearPoolParams {
  xScale: number;
  xZeroPoint?: number;
  yScale: number;
  yZeroPoint?: number;
  clip?: ClipOptions;
  /** Physical layout of x and out (default 'nchw'). */
  layout?: PoolLayout;
}

function scaleOf(v: unknown, op: string, name: string): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) fail('E_RANGE', `${op}: ${name} must be a positive finite number, got ${String(v)}`);
  const f = Math.fround(v);
  if (!(f > 0) || !Number.isFinite(f)) fail('E_RANGE', `${op}: ${name} = ${v} is not a positive finite float32`);
  return f;
}

function zeroPointOf(v: unknown, dtype: Bytes8, op: string, name: string): number {
  if (v === undefined) return 0;
  const [lo, hi] = integerRange(dtype);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    fail('E_RANGE', `${op}: ${name} must be an integer in the ${dtype} range [${lo}, ${hi}], got ${String(v)}`);
  }
  return v;
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The quantized output range of a real clip: Q(lo), Q(hi) (Q is monotone, so Q(clamp(y)) = clamp(Q(y))). */
export function quantizedRange(clip: ClipOptions | undefined, scale: number, zeroPoint: number, dtype: Bytes8, op: string): [number, number] {
  const [qlo, qhi] = integerRange(dtype);
  if (clip === undefined) return [qlo, qhi];
  if (clip === null || typeof clip !== 'object') fail('E_ARG', `${op}: clip must be {min?, max?}, got ${describe(clip)}`);
  const lo = numberOption(clip.min, op, 'clip.min', -Infinity), hi = numberOption(clip.max, op, 'clip.max', Infinity);
  if (lo > hi) fail('E_RANGE', `${op}: clip.min ${lo} is above clip.max ${hi}`);
  const q = (v: number) => (v === -Infinity ? qlo : v === Infinity ? qhi : Math.min(qhi, Math.max(qlo, roundHalfEven(Math.fround(Math.fround(v) / scale)) + zeroPoint)));
  return [q(lo), q(hi)];
}

function outInfo(out: unknown, op: string, shape: readonly number[]): OperandInfo {
  const info = operandInfo(out, op, 'out', BYTES);
  if (!sameShape(info.shape, shape)) fail('E_SHAPE', `${op}: out must have shape ${shapeString(shape)}, got ${shapeString(info.shape)}`);
  return info;
}

function paramsObject<T>(p: T, op: string): T {
  if (p === null || typeof p !== 'object') fail('E_ARG', `${op}: params must be an object with the scales and zero points, got ${describe(p)}`);
  return p;
}

/**
 * out = requantize(dequantize(a) op dequantize(b)) with numpy broadcasting
 * (op 'add' or 'mul'). a, b and out are int8 or uint8, each its own type;
 * out's dtype is the output type.
 */
export function qlinearBinaryInto(op: 'add' | 'mul', a: Operand, b: Operand, out: Operand, params: QLinearBinaryParams, program?: Program): void {
  const name = op === 'add' ? 'qlinearAdd' : op === 'mul' ? 'qlinearMul' : fail('E_ARG', `qlinearBinary: op must be 'add' or 'mul', got ${String(op)}`);
  const p = paramsObject(params, name);
  const ai = operandInfo(a, name, 'a', BYTES), bi = operandInfo(b, name, 'b', BYTES);
  const shape = broadcastShape(ai.shape, bi.shape, name);
  const oi = outInfo(out, name, shape);
  const ot = oi.dtype as Bytes8;
  const scales = Float32Array.of(scaleOf(p.aScale, name, 'aScale'), scaleOf(p.bScale, name, 'bScale'), scaleOf(p.yScale, name, 'yScale'));
  const zy = zeroPointOf(p.yZeroPoint, ot, name, 'yZeroPoint');
  const zeroPoints = [zeroPointOf(p.aZeroPoint, ai.dtype as Bytes8, name, 'aZeroPoint'), zeroPointOf(p.bZeroPoint, bi.dtype as Bytes8, name, 'bZeroPoint'), zy];
  const range = quantizedRange(p.clip, scales[2], zy, ot, name);
  const plan = broadcastPlan(ai.shape, bi.shape, name);
  invoke(native.qbinary, [op, native_(a), native_(b), native_(out), plan.dims, plan.aStrides, plan.bStrides, ai.size, bi.size, scales, zeroPoints, range], program);
}

export function qlinearAddInto(a: Operand, b: Operand, out: Operand, params: QLinearBinaryParams, program?: Program): void {
  qlinearBinaryInto('add', a, b, out, params, program);
}

export function qlinearMulInto(a: Operand, b: Operand, out: Operand, params: QLinearBinaryParams, program?: Program): void {
  qlinearBinaryInto('mul', a, b, out, params, program);
}

function friendlyBinary(op: 'add' | 'mul', a: Tensor, b: Tensor, params: QLinearBinaryParams, dtype?: Bytes8): Tensor<'int8' | 'uint8'> {
  const name = op === 'add' ? 'qlinearAdd' : 'qlinearMul';
  const ai = operandInfo(a, name, 'a', BYTES), bi = operandInfo(b, name, 'b', BYTES);
  const ot = dtype ?? (ai.dtype as Bytes8);
  if (ot !== 'int8' && ot !== 'uint8') fail('E_DTYPE', `${name}: the output type must be int8 or uint8, got ${String(ot)}`);
  const out = Tensor.zeros(ot, broadcastShape(ai.shape, bi.shape, name));
  qlinearBinaryInto(op, a, b, out, params);
  const p = params;
  return new Tensor(ot, out.data as never, out.shape, { scale: Float32Array.of(p.yScale), zeroPoint: Int32Array.of(p.yZeroPoint ?? 0) }) as Tensor<'int8' | 'uint8'>;
}

/** QLinearAdd: a new tensor of `dtype` (default a's), carrying its quantization. */
export function qlinearAdd(a: Tensor, b: Tensor, params: QLinearBinaryParams, dtype?: Bytes8): Tensor<'int8' | 'uint8'> {
  return friendlyBinary('add', a, b, params, dtype);
}

/** QLinearMul: a new tensor of `dtype` (default a's), carrying its quantization. */
export function qlinearMul(a: Tensor, b: Tensor, params: QLinearBinaryParams, dtype?: Bytes8): Tensor<'int8' | 'uint8'> {
  return friendlyBinary('mul', a, b, params, dtype);
}

/** QLinearGlobalAveragePool: [N, C, ...] -> [N, C, 1, ...] (channels last with layout 'nhwc'). */
export function qlinearGlobalAveragePoolInto(x: Operand, out: Operand, params: QLinearPoolParams, program?: Program): void {
  const name = 'qlinearGlobalAveragePool';
  const p = paramsObject(params, name);
  const layout = p.layout ?? 'nchw';
  const xi = operandInfo(x, name, 'x', BYTES);
  const g = globalPoolShape(xi.shape, layout, name);
  if (g.spatial === 0) fail('E_SHAPE', `${name}: x ${shapeString(xi.shape)} has no pixels to average`);
  const oi = outInfo(out, name, g.outShape);
  const ot = oi.dtype as Bytes8;
  const scales = Float32Array.of(scaleOf(p.xScale, name, 'xScale'), scaleOf(p.yScale, name, 'yScale'));
  const zy = zeroPointOf(p.yZeroPoint, ot, name, 'yZeroPoint');
  const zeroPoints = [zeroPointOf(p.xZeroPoint, xi.dtype as Bytes8, name, 'xZeroPoint'), zy];
  const range = quantizedRange(p.clip, scales[1], zy, ot, name);
  invoke(native.qglobalAveragePool, [layout, native_(x), native_(out), g.n, g.c, g.spatial, scales, zeroPoints, range], program);
}

export function qlinearGlobalAveragePool(x: Tensor, params: QLinearPoolParams, dtype?: Bytes8): Tensor<'int8' | 'uint8'> {
  const name = 'qlinearGlobalAveragePool';
  const xi = operandInfo(x, name, 'x', BYTES);
  const ot = dtype ?? (xi.dtype as Bytes8);
  if (ot !== 'int8' && ot !== 'uint8') fail('E_DTYPE', `${name}: the output type must be int8 or uint8, got ${String(ot)}`);
  const out = Tensor.zeros(ot, globalPoolShape(xi.shape, paramsObject(params, name).layout ?? 'nchw', name).outShape);
  qlinearGlobalAveragePoolInto(x, out, params);
  return new Tensor(ot, out.data as never, out.shape, { scale: Float32Array.of(params.yScale), zeroPoint: Int32Array.of(params.yZeroPoint ?? 0) }) as Tensor<'int8' | 'uint8'>;
}

/** 1 or `channels` values of a per-tensor / per-channel parameter (not copied). */
function perChannel(v: unknown, op: string, name: string, channels: number): ArrayLike<unknown> {
  const list = typeof v === 'number' ? [v]
    : Array.isArray(v) || v instanceof Float32Array || v instanceof Int32Array ? (v as ArrayLike<unknown>)
    : fail('E_ARG', `${op}: ${name} must be a number, an array or a typed array, got ${describe(v)}`);
  if (list.length !== 1 && list.length !== channels) {
    fail('E_SHAPE', `${op}: ${name} has ${list.length} values, expected 1 or ${channels} (one per channel)`);
  }
  return list;
}

function byteRange(x: Operand, bytesPer: number): [ArrayBuffer | SharedArrayBuffer | 'arena', number, number] | null {
  if (x instanceof Tensor) return [x.data.buffer, x.data.byteOffset, x.data.byteOffset + x.data.byteLength];
  if (isSlot(x) && x.ref >= 0) return ['arena', x.ref, x.ref + bytesPer * x.shape.reduce((a, b) => a * b, 1)];
  return null;
}

/**
 * int32 accumulators (an int8 convolution's output without a stage) -> 8 bits
 * through HardSwish, per channel c (native/include/lowbit/qelementwise.h):
 *   v = fl(float(acc + bias[c]) * scale[c]) (wrapping int32 add), h = HardSwish(v) in float32
 *   y = saturate(round_half_even(clamp(fl(h / yScale), min - zy, max - zy)) + zy)
 * acc: int32, channels innermost (any shape whose last stored dimension is
 * `channels`: only element counts are checked); out: int8/uint8, the same
 * element count; out's dtype is the output type. Identical on every kernel path.
 */
export function requantizeHardSwishInto(acc: Operand, out: Operand, channels: number, params: RequantizeHardSwishParams, program?: Program): void {
  const op = 'requantizeHardSwishInto';
  const p = paramsObject(params, op);
  const ai = operandInfo(acc, op, 'acc', ['int32']);
  const oi = operandInfo(out, op, 'out', BYTES);
  const ot = oi.dtype as Bytes8;
  if (typeof channels !== 'number' || !Number.isSafeInteger(channels) || channels < 1) {
    fail('E_RANGE', `${op}: channels must be a positive integer, got ${describe(channels)}`);
  }
  if (oi.size !== ai.size) fail('E_SHAPE', `${op}: out has ${oi.size} elements, acc has ${ai.size}: they must be equal`);
  if (ai.size % channels !== 0) fail('E_SHAPE', `${op}: acc has ${ai.size} elements, not a multiple of channels = ${channels}`);
  // Plain loops: typed-array from() with a map function costs ~100 us per 1000 channels.
  const scales = perChannel(p.scale, op, 'scale', channels);
  const scale = new Float32Array(scales.length);
  for (let i = 0; i < scales.length; i++) {
    const v = scales[i];
    const f = typeof v === 'number' ? Math.fround(v) : NaN;
    // fl(float(a) * s) must stay finite for every int32 a (|float(a)| <= 2^31).
    if (!(f > 0) || !Number.isFinite(Math.fround(f * 2147483648))) {
      fail('E_RANGE', `${op}: scale[${i}] must be a positive finite number below ~1.58e29 (float32 max / 2^31), got ${String(v)}`);
    }
    scale[i] = f;
  }
  let bias: Int32Array | null = null;
  if (p.bias !== undefined) {
    const values = perChannel(p.bias, op, 'bias', channels);
    bias = values instanceof Int32Array ? values : new Int32Array(values.length);
    if (!(values instanceof Int32Array)) {
      for (let i = 0; i < values.length; i++) bias[i] = intOption(values[i], op, `bias[${i}]`, -2147483648, 2147483647);
    }
  }
  const sy = scaleOf(p.yScale, op, 'yScale');
  const zy = zeroPointOf(p.yZeroPoint, ot, op, 'yZeroPoint');
  const [tlo, thi] = integerRange(ot);
  const lo = p.min === undefined ? tlo : intOption(p.min, op, 'min', tlo, thi);
  const hi = p.max === undefined ? thi : intOption(p.max, op, 'max', tlo, thi);
  if (lo > hi) fail('E_RANGE', `${op}: min ${lo} is above max ${hi}`);
  const ra = byteRange(acc, 4), ro = byteRange(out, 1);
  if (ra !== null && ro !== null && ra[0] === ro[0] && ra[1] < ro[2] && ro[1] < ra[2]) fail('E_ARG', `${op}: out shares memory with acc`);
  invoke(native.qrequantizeHardSwish, [native_(acc), native_(out), ai.size / channels, channels, scale, bias, sy, zy, [lo, hi]], program);
}
