// ONNX QuantizeLinear / DequantizeLinear, per tensor or per axis.
import { nativeOperand, Operand, Program } from './program';
import { fail } from '../errors';
import { native } from '../native';
import { Tensor } from '../tensor/tensor';
import { axisParam, expectTensor, isTensor, ParamValue, scaleParam, splitAt, zeroPointParam } from './params';

export interface QuantizeOptions {
  /** Channel axis for per-axis parameters (ONNX default: 1). */
  axis?: number;
  /** Block quantization (ONNX opset 21): each run of blockSize elements along
   * `axis` shares one parameter; scale and zero point are then Tensors shaped
   * like x with that axis divided by blockSize (rounded up). */
  blockSize?: number;
  /** Output type when yZeroPoint is not a Tensor (default 'uint8'). */
  dtype?: 'uint8' | 'int8';
}

function layout(x: Tensor, count: number, axisOpt: number | undefined, op: string): [number, number, number, number | undefined] {
  if (count === 1) return [1, 1, x.size, undefined];
  if (x.rank === 0) fail('E_SHAPE', `${op}: per-axis parameters need a tensor with that axis`);
  const axis = axisParam(axisOpt ?? 1, x.rank, op);
  const [outer, channels, inner] = splitAt(x.shape, axis);
  if (channels !== count) fail('E_SHAPE', `${op}: ${count} per-axis values, axis ${axis} of [${x.shape.join(', ')}] has ${channels}`);
  return [outer, channels, inner, axis];
}

/**
 * Blocked parameters expanded to one value per element, so the per-channel
 * kernel (with channels = every element) applies them.
 */
function expandBlocked(x: Tensor, param: ParamValue | undefined, axisOpt: number | undefined, blockSize: number, op: string, name: string): number[] | undefined {
  if (param === undefined || param === null) return undefined;
  if (!isTensor(param)) fail('E_ARG', `${op}: with blockSize, ${name} must be a Tensor shaped like x`);
  const axis = axisParam(axisOpt ?? 1, x.rank, op);
  const ps = param.shape;
  const ok = ps.length === x.rank && ps.every((d, i) => (i === axis ? d === Math.ceil(x.shape[i] / blockSize) : d === x.shape[i]));
  if (!ok) fail('E_SHAPE', `${op}: blocked ${name} must have shape [${x.shape.map((d, i) => (i === axis ? Math.ceil(d / blockSize) : d)).join(', ')}], got [${ps.join(', ')}]`);
  const [outer, channels, inner] = splitAt(x.shape, axis);
  const blocks = ps[axis];
  const values = param.data as ArrayLike<number>;
  const out = new Array<number>(x.size);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * blocks + Math.floor(c / blockSize)) * inner;
      for (let j = 0; j < inner; j++) out[i++] = values[base + j];
    }
  }
  return out;
}

function blockSizeOf(options: { blockSize?: number }, op: string): number {
  const b = options.blockSize ?? 0;
  if (!Number.isInteger(b) || b < 0) fail('E_RANGE', `${op}: blockSize must be a non-negative integer, got ${String(b)}`);
  return b;
}

function paramCount(v: ParamValue | undefined): number {
  if (v === undefined || v === null) return 1;
  if (typeof v === 'number') return 1;
  if (isTensor(v)) return v.size;
  return (v as ArrayLike<number>).length;
}

/** y = saturate(round_half_even(x / yScale) + yZeroPoint); the result carries its quantization. */
export function quantizeLinear(x: Tensor, yScale: ParamValue, yZeroPoint?: ParamValue, options: QuantizeOptions = {}): Tensor<'uint8' | 'int8'> {
  const op = 'quantizeLinear';
  expectTensor(x, op, 'x', ['float32']);
  const dtype = isTensor(yZeroPoint) ? yZeroPoint.dtype : (options.dtype ?? 'uint8');
  if (dtype !== 'uint8' && dtype !== 'int8') fail('E_DTYPE', `${op}: the output type must be uint8 or int8, got ${dtype}`);
  const out = dtype === 'int8' ? new Int8Array(x.size) : new Uint8Array(x.size);
  const blockSize = blockSizeOf(options, op);
  if (blockSize > 0) {
    const scale = scaleParam(expandBlocked(x, yScale, options.axis, blockSize, op, 'yScale'), op, 'yScale', [x.size]);
    const zp = zeroPointParam(expandBlocked(x, yZeroPoint, options.axis, blockSize, op, 'yZeroPoint'), op, 'yZeroPoint', dtype, [1, x.size]);
    native.quantizeLinear(x.data as Float32Array, 1, x.size, 1, scale, zp, out);
    return new Tensor(dtype, out, x.shape) as Tensor<'uint8' | 'int8'>;
  }
  const count = paramCount(yScale);
  const [outer, channels, inner, axis] = layout(x, count, options.axis, op);
  const scale = scaleParam(yScale, op, 'yScale', [1, channels]);
  const zp = zeroPointParam(yZeroPoint, op, 'yZeroPoint', dtype, [1, channels]);
  native.quantizeLinear(x.data as Float32Array, outer, channels, inner, scale, zp, out);
  return new Tensor(dtype, out, x.shape, { scale, zeroPoint: zp.length === scale.length ? zp : new Int32Array(scale.length).fill(zp[0]), axis }) as Tensor<'uint8' | 'int8'>;
}

/**
 * y = (x - xZeroPoint) * xScale in float32. Scale and zero point default to the
 * tensor's own quantization parameters.
 */
export function dequantizeLinear(x: Tensor, xScale?: ParamValue, xZeroPoint?: ParamValue, options: { axis?: number; blockSize?: number } = {}): Tensor<'float32'> {
  const op = 'dequantizeLinear';
  expectTensor(x, op, 'x', ['int8', 'uint8', 'int32']);
  const blockSize = blockSizeOf(options, op);
  if (blockSize > 0) {
    const scale = scaleParam(expandBlocked(x, xScale, options.axis, blockSize, op, 'xScale'), op, 'xScale', [x.size]);
    const zp = zeroPointParam(expandBlocked(x, xZeroPoint, options.axis, blockSize, op, 'xZeroPoint'), op, 'xZeroPoint', x.dtype as 'int8' | 'uint8' | 'int32', [1, x.size]);
    const out = new Float32Array(x.size);
    native.dequantizeLinear(x.data as Int8Array | Uint8Array | Int32Array, 1, x.size, 1, scale, zp, out);
    return new Tensor('float32', out, x.shape);
  }
  let scaleV = xScale, zpV = xZeroPoint, axisOpt = options.axis;
  if (scaleV === undefined) {
    if (x.quantization === undefined) fail('E_ARG', `${op}: xScale is required (x has no quantization parameters)`);
    scaleV = x.quantization.scale;
    zpV = zpV ?? x.quantization.zeroPoint;
    axisOpt = axisOpt ?? x.quantization.axis;
  }
  const count = paramCount(scaleV);
  const [outer, channels, inner] = layout(x, count, axisOpt, op);
  const scale = scaleParam(scaleV, op, 'xScale', [1, channels]);
  const zp = zeroPointParam(zpV, op, 'xZeroPoint', x.dtype as 'int8' | 'uint8' | 'int32', [1, channels]);
  if (x.dtype === 'int32' && zp.some((z) => z !== 0)) fail('E_RANGE', `${op}: an int32 input must have a zero point of 0 (ONNX)`);
  const out = new Float32Array(x.size);
  native.dequantizeLinear(x.data as Int8Array | Uint8Array | Int32Array, outer, channels, inner, scale, zp, out);
  return new Tensor('float32', out, x.shape);
}

/**
 * The kernels behind quantizeLinear/dequantizeLinear over a [outer, channels, inner]
 * view, for planned runs: scale/zero point hold 1 or `channels` values.
 */
export function quantizeLinearInto(x: Operand, out: Operand, outer: number, channels: number, inner: number,
                                   scale: Float32Array, zeroPoint: Int32Array, program?: Program): void {
  if (program === undefined) native.quantizeLinear(nativeOperand(x) as Float32Array, outer, channels, inner, scale, zeroPoint, nativeOperand(out) as Uint8Array);
  else native.quantizeLinear(nativeOperand(x) as never, outer, channels, inner, scale, zeroPoint, nativeOperand(out) as never, program.recorder);
}

export function dequantizeLinearInto(x: Operand, out: Operand, outer: number, channels: number, inner: number,
                                     scale: Float32Array, zeroPoint: Int32Array, program?: Program): void {
  if (program === undefined) native.dequantizeLinear(nativeOperand(x) as Uint8Array, outer, channels, inner, scale, zeroPoint, nativeOperand(out) as Float32Array);
  else native.dequantizeLinear(nativeOperand(x) as never, outer, channels, inner, scale, zeroPoint, nativeOperand(out) as never, program.recorder);
}
