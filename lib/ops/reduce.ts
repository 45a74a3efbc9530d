// Softmax / LogSoftmax and the Reduce* operators (float32).
//
// Softmax: opset < 13 coerces the input to 2-D at `axis` (softmax over all of
// shape[axis:] at once, default axis 1); opset >= 13 normalises along one axis
// (default -1). Both are an [outer, n, inner] block for the kernel.
// Reduce: axes are merged where adjacent (reducing H and W of NCHW is one
// axis of H*W), so the kernel sees at most 6 alternating kept/reduced axes.
import { fail } from '../errors';
import { native } from '../native';
import { shapeSize, Tensor } from '../tensor/tensor';
import { axisOf, expectOut, intList, invoke, native_, operandInfo, shapeString } from './operand';
import type { Operand, Program } from './program';

export interface SoftmaxOptions {
  /** Default: -1 for opset >= 13, 1 before. */
  axis?: number;
  /** The ONNX opset whose semantics apply (default 13). */
  opset?: number;
}

/** [outer, n, inner] of a softmax over `shape`. */
export function softmaxLayout(shape: readonly number[], options: SoftmaxOptions = {}, op = 'softmax'): [number, number, number] {
  const opset = options.opset ?? 13;
  if (!Number.isInteger(opset) || opset < 1) fail('E_RANGE', `${op}: opset must be a positive integer, got ${String(opset)}`);
  const rank = shape.length;
  if (rank === 0) return [1, 1, 1];
  const axis = axisOf(options.axis ?? (opset >= 13 ? -1 : 1), rank, op);
  const outer = shapeSize(shape.slice(0, axis));
  if (opset < 13) return [outer, shapeSize(shape.slice(axis)), 1];
  return [outer, shape[axis], shapeSize(shape.slice(axis + 1))];
}

function softmaxAny(log: boolean, x: Operand, out: Operand, options: SoftmaxOptions, program?: Program): void {
  const op = log ? 'logSoftmax' : 'softmax';
  const xi = operandInfo(x, op, 'x', ['float32']);
  expectOut(out, op, 'float32', xi.shape);
  const [outer, n, inner] = softmaxLayout(xi.shape, options, op);
  invoke(native.softmax, [native_(x), native_(out), outer, n, inner, log], program);
}

/** ONNX Softmax. */
export function softmaxInto(x: Operand, out: Operand, options: SoftmaxOptions = {}, program?: Program): void {
  softmaxAny(false, x, out, options, program);
}

/** ONNX LogSoftmax. */
export function logSoftmaxInto(x: Operand, out: Operand, options: SoftmaxOptions = {}, program?: Program): void {
  softmaxAny(true, x, out, options, program);
}

export function softmax(x: Tensor, options: SoftmaxOptions = {}): Tensor<'float32'> {
  const out = Tensor.zeros('float32', operandInfo(x, 'softmax', 'x', ['float32']).shape);
  softmaxInto(x, out, options);
  return out;
}

export function logSoftmax(x: Tensor, options: SoftmaxOptions = {}): Tensor<'float32'> {
  const out = Tensor.zeros('float32', operandInfo(x, 'logSoftmax', 'x', ['float32']).shape);
  logSoftmaxInto(x, out, options);
  return out;
}

// ---------------------------------------------------------------- Reduce*

export type ReduceOpName = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'l1' | 'l2' | 'sumSquare';
const REDUCE_OPS: readonly ReduceOpName[] = ['sum', 'mean', 'max', 'min', 'prod', 'l1', 'l2', 'sumSquare'];

export interface ReduceOptions {
  /** Axes to reduce (negative counts from the end); default: all (or none with noopWithEmptyAxes). */
  axes?: readonly number[];
  /** Keep reduced axes as size 1 (ONNX default true). */
  keepdims?: boolean;
  /** With no axes given: return the input unchanged instead of reducing everything (ONNX opset 18). */
  noopWithEmptyAxes?: boolean;
}

/** The normalised, sorted reduced axes for a rank-`rank` input; undefined means "no reduction". */
export function reduceAxes(rank: number, options: ReduceOptions = {}, op = 'reduce'): number[] | undefined {
  const given = options.axes === undefined ? [] : intList(options.axes, op, 'axes');
  if (given.length === 0) return options.noopWithEmptyAxes ? undefined : Array.from({ length: rank }, (_, i) => i);
  const axes = given.map((a) => axisOf(a, rank, op, 'axes'));
  if (new Set(axes).size !== axes.length) fail('E_ARG', `${op}: axes ${shapeString(given)} name an axis twice`);
  return axes.sort((a, b) => a - b);
}

/** The output shape of a reduction. */
export function reduceShape(shape: readonly number[], options: ReduceOptions = {}, op = 'reduce'): number[] {
  const axes = reduceAxes(shape.length, options, op);
  if (axes === undefined) return [...shape];
  const keep = options.keepdims ?? true;
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

function reduceName(op: unknown): ReduceOpName {
  if (!REDUCE_OPS.includes(op as ReduceOpName)) fail('E_ARG', `reduce: op must be one of ${REDUCE_OPS.join(', ')}, got ${String(op)}`);
  return op as ReduceOpName;
}

/** ONNX ReduceSum / ReduceMean / ReduceMax / ReduceMin / ReduceProd / ReduceL1 / ReduceL2 / ReduceSumSquare. */
export function reduceInto(op: ReduceOpName, x: Operand, out: Operand, options: ReduceOptions = {}, program?: Program): void {
  const name = `reduce(${reduceName(op)})`;
  const xi = operandInfo(x, name, 'x', ['float32']);
  const outShape = reduceShape(xi.shape, options, name);
  expectOut(out, name, 'float32', outShape);
  const axes = reduceAxes(xi.shape.length, options, name);
  if (axes === undefined) {
    invoke(native.copyRows, [native_(x), xi.size, 0, 0, native_(out), xi.size, 0, 0, 1, xi.size], program);
    return;
  }
  // Merge runs of axes with the same status; drop unit axes (neither status matters).
  const dims: number[] = [], reduced: boolean[] = [];
  xi.shape.forEach((d, i) => {
    if (d === 1) return;
    const r = axes.includes(i);
    if (dims.length > 0 && reduced[reduced.length - 1] === r) dims[dims.length - 1] *= d;
    else {
      dims.push(d);
      reduced.push(r);
    }
  });
  if (dims.length > 6) fail('E_UNSUPPORTED', `${name}: reducing axes ${shapeString(axes)} of ${shapeString(xi.shape)} needs more than 6 merged axes`);
  // A zero-size kept axis still has to match: the native plan checks the output size.
  const nativeAxes = reduced.flatMap((r, i) => (r ? [i] : []));
  invoke(native.reduce, [op, native_(x), native_(out), dims, nativeAxes], program);
}

export function reduce(op: ReduceOpName, x: Tensor, options: ReduceOptions = {}): Tensor<'float32'> {
  const name = `reduce(${reduceName(op)})`;
  const xi = operandInfo(x, name, 'x', ['float32']);
  const out = Tensor.zeros('float32', reduceShape(xi.shape, options, name));
  reduceInto(op, x, out, options);
  return out;
}

export function reduceMean(x: Tensor, options: ReduceOptions = {}): Tensor<'float32'> { return reduce('mean', x, options); }
export function reduceSum(x: Tensor, options: ReduceOptions = {}): Tensor<'float32'> { return reduce('sum', x, options); }
export function reduceMax(x: Tensor, options: ReduceOptions = {}): Tensor<'float32'> { return reduce('max', x, options); }
export function reduceMin(x: Tensor, options: ReduceOptions = {}): Tensor<'float32'> { return reduce('min', x, options); }

// ---------------------------------------------------------------- LayerNormalization

export interface LayerNormOptions {
  /** The first normalised axis (default -1): every axis from it on is normalised together. */
  axis?: number;
  /** Default 1e-5. */
  epsilon?: number;
  /** Optional outputs (ONNX Mean, InvStdDev): shape x.shape[:axis] followed by ones. */
  mean?: Operand;
  invStdDev?: Operand;
}

/** [outer, n] rows of a layer normalisation, and the Mean / InvStdDev shape. */
export function layerNormLayout(shape: readonly number[], axis = -1, op = 'layerNormalization'): { outer: number; n: number; axis: number; statShape: number[] } {
  if (shape.length === 0) fail('E_SHAPE', `${op}: x must have at least one axis`);
  const ax = axisOf(axis, shape.length, op);
  return { outer: shapeSize(shape.slice(0, ax)), n: shapeSize(shape.slice(ax)), axis: ax, statShape: shape.map((d, i) => (i < ax ? d : 1)) };
}

/** scale / bias expanded to the n values of the normalised axes (numpy broadcasting). */
function normParam(v: Tensor | Float32Array | readonly number[], normShape: readonly number[], op: string, name: string): Float32Array {
  const n = shapeSize(normShape);
  let data: Float32Array, shape: readonly number[];
  if (v instanceof Tensor) {
    if (v.dtype !== 'float32') fail('E_DTYPE', `${op}: ${name} must be float32, got ${v.dtype}`);
    data = v.data as Float32Array;
    shape = v.shape;
  } else if (v instanceof Float32Array || Array.isArray(v)) {
    data = Float32Array.from(v as ArrayLike<number>);
    shape = [data.length];
  } else {
    fail('E_ARG', `${op}: ${name} must be a Tensor, a Float32Array or an array`);
  }
  // A flat array of n values is taken as the normalised block in order.
  if (!(v instanceof Tensor) && data.length === n) return data;
  const b = broadcastShapeOf(shape, normShape);
  if (b === undefined) fail('E_SHAPE', `${op}: ${name} ${shapeString(shape)} does not broadcast to the normalised shape ${shapeString(normShape)}`);
  const out = new Float32Array(n);
  const rank = normShape.length, off = rank - shape.length;
  for (let i = 0; i < n; i++) {
    let rem = i, src = 0, stride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const k = rem % normShape[d];
      rem = Math.floor(rem / normShape[d]);
      const sd = d - off >= 0 ? shape[d - off] : 1;
      if (sd !== 1) src += k * stride;
      stride *= sd;
    }
    out[i] = data[src];
  }
  return out;
}

function broadcastShapeOf(from: readonly number[], to: readonly number[]): readonly number[] | undefined {
  if (from.length > to.length) return undefined;
  const off = to.length - from.length;
  return from.every((d, i) => d === 1 || d === to[i + off]) ? to : undefined;
}

/** ONNX LayerNormalization (float32): y = (x - mean) / sqrt(var + epsilon) * scale + bias over the axes from `axis` on. */
export function layerNormalizationInto(x: Operand, scale: Tensor | Float32Array | readonly number[], bias: Tensor | Float32Array | readonly number[] | undefined,
                                       out: Operand, options: LayerNormOptions = {}, program?: Program): void {
  const op = 'layerNormalization';
  const xi = operandInfo(x, op, 'x', ['float32']);
  expectOut(out, op, 'float32', xi.shape);
  const { outer, n, axis, statShape } = layerNormLayout(xi.shape, options.axis ?? -1, op);
  const normShape = xi.shape.slice(axis);
  const s = normParam(scale, normShape, op, 'scale');
  const b = bias === undefined || bias === null ? null : normParam(bias, normShape, op, 'bias');
  const eps = options.epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) fail('E_RANGE', `${op}: epsilon must be a non-negative number, got ${String(eps)}`);
  if (options.mean !== undefined) expectOut(options.mean, `${op} (mean)`, 'float32', statShape);
  if (options.invStdDev !== undefined) expectOut(options.invStdDev, `${op} (invStdDev)`, 'float32', statShape);
  invoke(native.layerNorm, [native_(x), native_(out), outer, n, s, b, eps,
    options.mean === undefined ? null : native_(options.mean), options.invStdDev === undefined ? null : native_(options.invStdDev)], program);
}

export function layerNormalization(x: Tensor, scale: Tensor | Float32Array | readonly number[], bias?: Tensor | Float32Array | readonly number[], options: { axis?: number; epsilon?: number } = {}): Tensor<'float32'> {
  const xi = operandInfo(x, 'layerNormalization', 'x', ['float32']);
  const out = Tensor.zeros('float32', xi.shape);
  layerNormalizationInto(x, scale, bias, out, options);
  return out;
}
