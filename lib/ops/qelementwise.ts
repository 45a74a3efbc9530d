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
// (dequantize, float op, quantize by division).
import { fail } from '../errors';
import { native } from '../native';
import { integerRange } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { broadcastPlan, broadcastShape, ClipOptions } from './elementwise';
import { invoke, native_, numberOption, operandInfo, OperandInfo, sameShape, shapeString } from './operand';
import { describe } from './params';
import type { Operand, Program } from './program';
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
