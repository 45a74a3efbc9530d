// ONNX MaxPool, AveragePool (1-D and 2-D), GlobalMaxPool, GlobalAveragePool
// over NCHW (ONNX) or NHWC (the runner's channels-last chains) tensors.
//
// poolShape resolves auto_pad and ceil_mode into explicit pads and output
// sizes (the kernel just walks windows): with ceil_mode the last window must
// start inside the input or its begin padding (ONNX, PyTorch). MaxPool runs
// on float32, uint8 and int8 (exact on quantized data); AveragePool on float32.
import { fail } from '../errors';
import { native } from '../native';
import type { DType } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { expectOut, intList, invoke, native_, operandInfo, shapeString } from './operand';
import type { Operand, Program } from './program';

export type PoolLayout = 'nchw' | 'nhwc';
export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

export interface PoolOptions {
  /** [kh, kw] (2-D) or [k] (1-D). */
  kernelShape: readonly number[];
  /** Default 1 per axis. */
  strides?: readonly number[];
  /** ONNX order: begins then ends ([top, left, bottom, right] for 2-D). Default 0. */
  pads?: readonly number[];
  /** Default 1 per axis. */
  dilations?: readonly number[];
  /** Default 'NOTSET' (explicit pads). */
  autoPad?: AutoPad;
  ceilMode?: boolean;
  /** AveragePool only: count padding in the divisor. */
  countIncludePad?: boolean;
  /** Physical layout of x and out: 'nchw' (default) or 'nhwc' ([N, H, W, C], [N, L, C] for 1-D). */
  layout?: PoolLayout;
}

/** A pooling window resolved for one input shape. */
export interface PoolGeometry {
  /** The output shape in the same layout as the input. */
  outShape: number[];
  n: number;
  c: number;
  /** Spatial sizes as 2-D (1-D pools have h = 1). */
  h: number;
  w: number;
  oh: number;
  ow: number;
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
}

function spatialList(v: readonly number[] | undefined, spatial: number, fallback: number, op: string, name: string, min: number): number[] {
  if (v === undefined) return new Array<number>(spatial).fill(fallback);
  const list = intList(v, op, name);
  if (list.length !== spatial) fail('E_SHAPE', `${op}: ${name} has ${list.length} values, the input has ${spatial} spatial axes`);
  for (const [i, x] of list.entries()) if (x < min) fail('E_RANGE', `${op}: ${name}[${i}] must be at least ${min}, got ${x}`);
  return list;
}

/** Output size and pads of one spatial axis. */
function poolAxis(size: number, k: number, s: number, d: number, begin: number, end: number, autoPad: AutoPad, ceil: boolean, op: string): [number, number, number] {
  const span = (k - 1) * d + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const out = Math.ceil(size / s);
    const total = Math.max(0, (out - 1) * s + span - size);
    const lo = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    return [out, lo, total - lo];
  }
  if (autoPad === 'VALID') {
    begin = 0;
    end = 0;
  }
  const padded = size + begin + end;
  if (padded < span) fail('E_SHAPE', `${op}: a window of ${span} does not fit an axis of ${size} with pads ${begin}, ${end}`);
  let out = (ceil ? Math.ceil((padded - span) / s) : Math.floor((padded - span) / s)) + 1;
  if (ceil && (out - 1) * s >= size + begin) out -= 1;
  return [out, begin, end];
}

/** Resolves a pooling window for an input of `shape` (NCHW or NHWC, rank 3 or 4). */
export function poolShape(shape: readonly number[], options: PoolOptions, op = 'pool'): PoolGeometry {
  if (options === null || typeof options !== 'object') fail('E_ARG', `${op}: options must be an object with kernelShape`);
  const layout = options.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') fail('E_ARG', `${op}: layout must be 'nchw' or 'nhwc', got ${String(layout)}`);
  if (shape.length !== 3 && shape.length !== 4) {
    fail(shape.length === 5 ? 'E_UNSUPPORTED' : 'E_SHAPE', `${op}: x must be 3-D or 4-D (1-D or 2-D pooling), got ${shapeString(shape)}`);
  }
  const spatial = shape.length - 2;
  if (options.kernelShape === undefined) fail('E_ARG', `${op}: kernelShape is required`);
  const kernel = spatialList(options.kernelShape, spatial, 1, op, 'kernelShape', 1);
  const strides = spatialList(options.strides, spatial, 1, op, 'strides', 1);
  const dil = spatialList(options.dilations, spatial, 1, op, 'dilations', 1);
  const pads = options.pads === undefined ? new Array<number>(2 * spatial).fill(0) : intList(options.pads, op, 'pads');
  if (pads.length !== 2 * spatial) fail('E_SHAPE', `${op}: pads has ${pads.length} values, expected ${2 * spatial}`);
  for (const [i, p] of pads.entries()) if (p < 0) fail('E_RANGE', `${op}: pads[${i}] must be non-negative, got ${p}`);
  const autoPad = options.autoPad ?? 'NOTSET';
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) fail('E_ARG', `${op}: autoPad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got ${String(autoPad)}`);
  const n = shape[0];
  const c = layout === 'nchw' ? shape[1] : shape[shape.length - 1];
  const sizes = layout === 'nchw' ? shape.slice(2) : shape.slice(1, shape.length - 1);
  const outs: number[] = [], begins: number[] = [], ends: number[] = [];
  for (let i = 0; i < spatial; i++) {
    const [o, b, e] = poolAxis(sizes[i], kernel[i], strides[i], dil[i], pads[i], pads[i + spatial], autoPad, options.ceilMode ?? false, op);
    outs.push(o);
    begins.push(b);
    ends.push(e);
  }
  const outShape = layout === 'nchw' ? [n, c, ...outs] : [n, ...outs, c];
  const two = <T>(v: T[], one: T): [T, T] => (spatial === 1 ? [one, v[0]] : [v[0], v[1]]);
  const [h, w] = two(sizes, 1), [oh, ow] = two(outs, 1);
  const [bt, bl] = two(begins, 0), [et, el] = two(ends, 0);
  return {
    outShape, n, c, h, w, oh, ow,
    kernel: two(kernel, 1), strides: two(strides, 1), dilations: two(dil, 1),
    pads: [bt, bl, et, el],
  };
}

function poolInto(kind: 'max' | 'average', x: Operand, out: Operand, options: PoolOptions, program?: Program): void {
  const op = kind === 'max' ? 'maxPool' : 'averagePool';
  const xi = operandInfo(x, op, 'x', kind === 'max' ? ['float32', 'uint8', 'int8'] : ['float32']);
  const g = poolShape(xi.shape, options, op);
  expectOut(out, op, xi.dtype, g.outShape);
  invoke(native.pool2d, [kind, options.layout ?? 'nchw', native_(x), native_(out), [g.n, g.c, g.h, g.w, g.oh, g.ow],
    [...g.kernel, ...g.strides, ...g.dilations, g.pads[0], g.pads[1], g.pads[2], g.pads[3]], kind === 'average' && (options.countIncludePad ?? false)], program);
}

/** ONNX MaxPool (float32, uint8, int8). */
export function maxPoolInto(x: Operand, out: Operand, options: PoolOptions, program?: Program): void {
  poolInto('max', x, out, options, program);
}

/** ONNX AveragePool (float32). */
export function averagePoolInto(x: Operand, out: Operand, options: PoolOptions, program?: Program): void {
  poolInto('average', x, out, options, program);
}

export function maxPool(x: Tensor, options: PoolOptions): Tensor {
  const xi = operandInfo(x, 'maxPool', 'x', ['float32', 'uint8', 'int8']);
  const out = Tensor.zeros(xi.dtype, poolShape(xi.shape, options, 'maxPool').outShape);
  maxPoolInto(x, out, options);
  return out;
}

export function averagePool(x: Tensor, options: PoolOptions): Tensor<'float32'> {
  const xi = operandInfo(x, 'averagePool', 'x', ['float32']);
  const out = Tensor.zeros('float32', poolShape(xi.shape, options, 'averagePool').outShape);
  averagePoolInto(x, out, options);
  return out;
}

/** [n, c, spatial] of a global pool and its output shape (spatial axes kept as 1, like ONNX). */
export function globalPoolShape(shape: readonly number[], layout: PoolLayout = 'nchw', op = 'globalPool'): { n: number; c: number; spatial: number; outShape: number[] } {
  if (layout !== 'nchw' && layout !== 'nhwc') fail('E_ARG', `${op}: layout must be 'nchw' or 'nhwc', got ${String(layout)}`);
  if (shape.length < 2) fail('E_SHAPE', `${op}: x must have at least 2 axes, got ${shapeString(shape)}`);
  const n = shape[0];
  const c = layout === 'nchw' ? shape[1] : shape[shape.length - 1];
  const sp = layout === 'nchw' ? shape.slice(2) : shape.slice(1, shape.length - 1);
  const spatial = sp.reduce((a, b) => a * b, 1);
  const ones = sp.map(() => 1);
  return { n, c, spatial, outShape: layout === 'nchw' ? [n, c, ...ones] : [n, ...ones, c] };
}

function globalInto(kind: 'max' | 'average', x: Operand, out: Operand, layout: PoolLayout, program?: Program): void {
  const op = kind === 'max' ? 'globalMaxPool' : 'globalAveragePool';
  const xi = operandInfo(x, op, 'x', kind === 'max' ? ['float32', 'uint8', 'int8'] : ['float32']);
  const g = globalPoolShape(xi.shape, layout, op);
  expectOut(out, op, xi.dtype, g.outShape);
  invoke(native.globalPool, [kind, layout, native_(x), native_(out), g.n, g.c, g.spatial], program);
}

/** ONNX GlobalAveragePool: [N, C, ...] -> [N, C, 1, ...] (or channels-last with layout 'nhwc'). */
export function globalAveragePoolInto(x: Operand, out: Operand, options: { layout?: PoolLayout } = {}, program?: Program): void {
  globalInto('average', x, out, options.layout ?? 'nchw', program);
}

export function globalMaxPoolInto(x: Operand, out: Operand, options: { layout?: PoolLayout } = {}, program?: Program): void {
  globalInto('max', x, out, options.layout ?? 'nchw', program);
}

function globalFriendly(kind: 'max' | 'average', x: Tensor, layout: PoolLayout, dtypes: readonly DType[]): Tensor {
  const op = kind === 'max' ? 'globalMaxPool' : 'globalAveragePool';
  const xi = operandInfo(x, op, 'x', dtypes);
  const out = Tensor.zeros(xi.dtype, globalPoolShape(xi.shape, layout, op).outShape);
  globalInto(kind, x, out, layout);
  return out;
}

export function globalAveragePool(x: Tensor, options: { layout?: PoolLayout } = {}): Tensor<'float32'> {
  return globalFriendly('average', x, options.layout ?? 'nchw', ['float32']) as Tensor<'float32'>;
}

export function globalMaxPool(x: Tensor, options: { layout?: PoolLayout } = {}): Tensor {
  return globalFriendly('max', x, options.layout ?? 'nchw', ['float32', 'uint8', 'int8']);
}
