// Elementwise operators (ONNX Add, Sub, Mul, Div, Pow, Max, Min, PRelu with
// numpy broadcasting; the unary activations; BatchNormalization in inference)
// and the 8-bit lookup table that runs DequantizeLinear -> f -> QuantizeLinear
// exactly on quantized data.
//
// Broadcasting is planned here: the output shape, then per-input strides (0
// on broadcast axes) over the output's axes, merged where the pattern allows
// (NCHW + [C,1,1] becomes [N*C, H*W] with strides [1, 0]), so the native
// kernel meets long contiguous or scalar rows. Each op has an `...Into`
// (operands + output, optional Program) and a friendly form returning a Tensor.
import { fail } from '../errors';
import { native } from '../native';
import { integerRange } from '../tensor/dtype';
import { shapeSize, Tensor } from '../tensor/tensor';
import { axisOf, expectOut, invoke, native_, numberOption, operandInfo, OperandInfo, shapeString } from './operand';
import { describe, isTensor } from './params';
import type { Operand, Program } from './program';
import { dequantizeLinear, quantizeLinear } from './quantize';

export type BinaryOpName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'prelu';
export type UnaryOpName =
  | 'relu' | 'leakyRelu' | 'clip' | 'sigmoid' | 'hardSigmoid' | 'hardSwish' | 'neg' | 'abs' | 'sqrt' | 'reciprocal'
  | 'floor' | 'ceil' | 'round' | 'exp' | 'log' | 'tanh' | 'erf' | 'gelu' | 'geluTanh' | 'softplus' | 'elu';

const BINARY_OPS: readonly BinaryOpName[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'prelu'];
const UNARY_OPS: readonly UnaryOpName[] = [
  'relu', 'leakyRelu', 'clip', 'sigmoid', 'hardSigmoid', 'hardSwish', 'neg', 'abs', 'sqrt', 'reciprocal', 'floor',
  'ceil', 'round', 'exp', 'log', 'tanh', 'erf', 'gelu', 'geluTanh', 'softplus', 'elu',
];

/** A fused output clamp (Relu = {min: 0}, Relu6 = {min: 0, max: 6}). */
export interface ClipOptions {
  min?: number;
  max?: number;
}

export interface BinaryOptions {
  /** Applied to the result in the same pass (float32 only). */
  clip?: ClipOptions;
}

// ---------------------------------------------------------------- broadcasting

/** numpy broadcasting of two shapes; E_SHAPE when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[], op = 'broadcast'): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      fail('E_SHAPE', `${op}: shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast (axis ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** A binary op's walk: the (merged) output dims and each input's element strides over them. */
export interface BroadcastPlan {
  dims: number[];
  aStrides: number[];
  bStrides: number[];
}

/** Plans out = op(a, b) for broadcastable shapes: unit axes dropped, runs of axes with one pattern merged. */
export function broadcastPlan(aShape: readonly number[], bShape: readonly number[], op = 'broadcast'): BroadcastPlan {
  const out = broadcastShape(aShape, bShape, op);
  const rank = out.length;
  const dims: number[] = [], aFull: boolean[] = [], bFull: boolean[] = [];
  for (let i = 0; i < rank; i++) {
    if (out[i] === 1) continue;
    const fa = (aShape[aShape.length - rank + i] ?? 1) !== 1;
    const fb = (bShape[bShape.length - rank + i] ?? 1) !== 1;
    const k = dims.length - 1;
    if (k >= 0 && aFull[k] === fa && bFull[k] === fb) {
      dims[k] *= out[i];
    } else {
      dims.push(out[i]);
      aFull.push(fa);
      bFull.push(fb);
    }
  }
  if (dims.length > 6) fail('E_UNSUPPORTED', `${op}: broadcasting ${shapeString(aShape)} with ${shapeString(bShape)} needs more than 6 axes`);
  const strides = (full: boolean[]): number[] => {
    const s = new Array<number>(dims.length);
    let acc = 1;
    for (let i = dims.length - 1; i >= 0; i--) {
      s[i] = full[i] ? acc : 0;
      if (full[i]) acc *= dims[i];
    }
    return s;
  };
  return { dims, aStrides: strides(aFull), bStrides: strides(bFull) };
}

function binaryName(op: unknown): BinaryOpName {
  if (!BINARY_OPS.includes(op as BinaryOpName)) fail('E_ARG', `binary: op must be one of ${BINARY_OPS.join(', ')}, got ${String(op)}`);
  return op as BinaryOpName;
}

function clipBounds(clip: ClipOptions | undefined, op: string): [number, number] {
  if (clip === undefined) return [-Infinity, Infinity];
  if (clip === null || typeof clip !== 'object') fail('E_ARG', `${op}: clip must be {min?, max?}, got ${describe(clip)}`);
  return [numberOption(clip.min, op, 'clip.min', -Infinity), numberOption(clip.max, op, 'clip.max', Infinity)];
}

/**
 * out = op(a, b) with numpy broadcasting. float32: every op, optional fused
 * clip. int32, int8, uint8: add, sub, mul, div (truncating), pow, max, min,
 * wrapping like C++ integer arithmetic, x / 0 = 0. prelu broadcasts b (the
 * slope) to a's shape only.
 */
export function binaryOpInto(op: BinaryOpName, a: Operand, b: Operand, out: Operand, options: BinaryOptions = {}, program?: Program): void {
  const name = binaryName(op);
  const types = name === 'prelu' ? ['float32'] as const : ['float32', 'int32', 'int8', 'uint8'] as const;
  const ai = operandInfo(a, name, 'a', types);
  const bi = operandInfo(b, name, 'b', types);
  if (ai.dtype !== bi.dtype) fail('E_DTYPE', `${name}: a is ${ai.dtype} but b is ${bi.dtype}`);
  const shape = broadcastShape(ai.shape, bi.shape, name);
  if (name === 'prelu' && (shape.length !== ai.shape.length || !shape.every((d, i) => d === ai.shape[i]))) {
    fail('E_SHAPE', `prelu: slope ${shapeString(bi.shape)} does not broadcast to x ${shapeString(ai.shape)}`);
  }
  expectOut(out, name, ai.dtype, shape);
  const [lo, hi] = clipBounds(options.clip, name);
  if (ai.dtype !== 'float32' && options.clip !== undefined) fail('E_DTYPE', `${name}: a fused clip needs float32 data`);
  const plan = broadcastPlan(ai.shape, bi.shape, name);
  invoke(native.binary, [name, native_(a), native_(b), native_(out), plan.dims, plan.aStrides, plan.bStrides, ai.size, bi.size, lo, hi], program);
}

/** op(a, b) with numpy broadcasting, as a new Tensor. */
export function binaryOp(op: BinaryOpName, a: Tensor, b: Tensor, options: BinaryOptions = {}): Tensor {
  const name = binaryName(op);
  const ai = operandInfo(a, name, 'a', ['float32', 'int32', 'int8', 'uint8']);
  const bi = operandInfo(b, name, 'b', ['float32', 'int32', 'int8', 'uint8']);
  const out = Tensor.zeros(ai.dtype, broadcastShape(ai.shape, bi.shape, name));
  binaryOpInto(name, a, b, out, options);
  return out;
}

export function add(a: Tensor, b: Tensor, options?: BinaryOptions): Tensor { return binaryOp('add', a, b, options); }
export function sub(a: Tensor, b: Tensor, options?: BinaryOptions): Tensor { return binaryOp('sub', a, b, options); }
export function mul(a: Tensor, b: Tensor, options?: BinaryOptions): Tensor { return binaryOp('mul', a, b, options); }
export function div(a: Tensor, b: Tensor, options?: BinaryOptions): Tensor { return binaryOp('div', a, b, options); }
export function pow(a: Tensor, b: Tensor, options?: BinaryOptions): Tensor { return binaryOp('pow', a, b, options); }
/** Elementwise maximum of two or more tensors (ONNX Max; NaN propagates). */
export function max(...xs: Tensor[]): Tensor { return variadic('max', xs); }
/** Elementwise minimum of two or more tensors (ONNX Min; NaN propagates). */
export function min(...xs: Tensor[]): Tensor { return variadic('min', xs); }
/** Elementwise sum of one or more tensors (ONNX Sum). */
export function sum(...xs: Tensor[]): Tensor { return variadic('add', xs); }
export function prelu(x: Tensor, slope: Tensor): Tensor { return binaryOp('prelu', x, slope); }

function variadic(op: BinaryOpName, xs: Tensor[]): Tensor {
  if (xs.length === 0) fail('E_ARG', `${op}: at least one input is needed`);
  let acc = xs[0];
  if (xs.length === 1) return copyTensor(acc, op);
  for (let i = 1; i < xs.length; i++) acc = binaryOp(op, acc, xs[i]);
  return acc;
}

function copyTensor(x: Tensor, op: string): Tensor {
  operandInfo(x, op, 'x');
  const Ctor = (x.data as ArrayBufferView).constructor as new (src: ArrayLike<number>) => ArrayLike<number>;
  return new Tensor(x.dtype, new Ctor(x.data as ArrayLike<number>) as never, x.shape);
}

// ---------------------------------------------------------------- unary

/** Parameters of the unary ops that take them (ONNX attribute defaults apply). */
export interface UnaryParams {
  /** LeakyRelu (default 0.01), Elu (1.0), HardSigmoid (0.2). */
  alpha?: number;
  /** HardSigmoid (default 0.5). */
  beta?: number;
  /** Clip bounds (default -Infinity / +Infinity). */
  min?: number;
  max?: number;
}

function unaryName(op: unknown): UnaryOpName {
  if (!UNARY_OPS.includes(op as UnaryOpName)) fail('E_ARG', `unary: op must be one of ${UNARY_OPS.join(', ')}, got ${String(op)}`);
  return op as UnaryOpName;
}

function unaryArgs(op: UnaryOpName, p: UnaryParams): [number, number] {
  if (p === null || typeof p !== 'object') fail('E_ARG', `${op}: params must be an object, got ${describe(p)}`);
  switch (op) {
    case 'leakyRelu': return [numberOption(p.alpha, op, 'alpha', 0.01), 0];
    case 'elu': return [numberOption(p.alpha, op, 'alpha', 1.0), 0];
    case 'hardSigmoid': return [numberOption(p.alpha, op, 'alpha', 0.2), numberOption(p.beta, op, 'beta', 0.5)];
    case 'clip': return [numberOption(p.min, op, 'min', -Infinity), numberOption(p.max, op, 'max', Infinity)];
    default: return [0, 0];
  }
}

const INTEGER_UNARY: readonly UnaryOpName[] = ['clip', 'relu', 'neg', 'abs'];

/**
 * out = f(x) elementwise, float32. Clip, Relu, Neg and Abs also take int32,
 * int8 and uint8 data (exact; Neg and Abs wrap like C++: -(-128) is -128 in
 * int8): int32 through max/min/sub steps, 8-bit data through a lut8 table.
 */
export function unaryOpInto(op: UnaryOpName, x: Operand, out: Operand, params: UnaryParams = {}, program?: Program): void {
  const name = unaryName(op);
  const xi = operandInfo(x, name, 'x', INTEGER_UNARY.includes(name) ? ['float32', 'int32', 'int8', 'uint8'] : ['float32']);
  expectOut(out, name, xi.dtype, xi.shape);
  const [alpha, beta] = unaryArgs(name, params);
  if (xi.dtype === 'float32') {
    invoke(native.unary, [name, native_(x), native_(out), xi.size, alpha, beta], program);
    return;
  }
  unaryIntegers(name, x, xi, out, alpha, beta, program);
}

function unaryIntegers(op: UnaryOpName, x: Operand, xi: OperandInfo, out: Operand, lo: number, hi: number, program?: Program): void {
  const dtype = xi.dtype as 'int32' | 'int8' | 'uint8';
  const [tmin, tmax] = integerRange(dtype);
  const lo_ = Math.max(tmin, Math.min(tmax, Math.ceil(lo))), hi_ = Math.max(tmin, Math.min(tmax, Math.floor(hi)));
  if (dtype === 'int32') {
    // Steps against scalars (program constants when recording), wrapping like C++.
    const scalar = (v: number): Operand => {
      const t = new Tensor('int32', Int32Array.of(v), []);
      return program === undefined ? t : program.constant(t);
    };
    const step = (bop: BinaryOpName, a: Operand, b: Operand, sa: number[], sb: number[]) =>
      invoke(native.binary, [bop, native_(a), native_(b), native_(out), [xi.size], sa, sb, sa[0] === 0 ? 1 : xi.size, sb[0] === 0 ? 1 : xi.size, -Infinity, Infinity], program);
    const v = [1], s = [0];
    switch (op) {
      case 'relu': step('max', x, scalar(0), v, s); return;
      case 'neg': step('sub', scalar(0), x, s, v); return;
      case 'abs':
        step('sub', scalar(0), x, s, v);  // out = -x
        step('max', x, out, v, v);        // out = max(x, -x)
        return;
      default:
        step('max', x, scalar(lo_), v, s);
        step('min', out, scalar(hi_), v, s);
        return;
    }
  }
  const f = (value: number): number => {
    switch (op) {
      case 'relu': return Math.max(value, 0);
      case 'neg': return -value;
      case 'abs': return Math.abs(value);
      default: return lo_ > hi_ ? hi_ : Math.min(Math.max(value, lo_), hi_);  // numpy clip: min > max gives max
    }
  };
  const table = dtype === 'int8' ? new Int8Array(256) : new Uint8Array(256);
  for (let i = 0; i < 256; i++) table[i] = f(tmin + i);  // typed-array stores wrap (-(-128) -> -128)
  invoke(native.lut8, [native_(x), table, native_(out), xi.size], program);
}

/** f(x) as a new Tensor. */
export function unaryOp(op: UnaryOpName, x: Tensor, params: UnaryParams = {}): Tensor {
  const name = unaryName(op);
  const xi = operandInfo(x, name, 'x');
  const out = Tensor.zeros(xi.dtype, xi.shape);
  unaryOpInto(name, x, out, params);
  return out;
}

export function relu(x: Tensor): Tensor { return unaryOp('relu', x); }
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor { return unaryOp('leakyRelu', x, { alpha }); }
export function clip(x: Tensor, min = -Infinity, max = Infinity): Tensor { return unaryOp('clip', x, { min, max }); }
export function sigmoid(x: Tensor): Tensor { return unaryOp('sigmoid', x); }
export function hardSigmoid(x: Tensor, alpha = 0.2, beta = 0.5): Tensor { return unaryOp('hardSigmoid', x, { alpha, beta }); }
export function hardSwish(x: Tensor): Tensor { return unaryOp('hardSwish', x); }
export function neg(x: Tensor): Tensor { return unaryOp('neg', x); }
export function abs(x: Tensor): Tensor { return unaryOp('abs', x); }
export function sqrt(x: Tensor): Tensor { return unaryOp('sqrt', x); }
export function reciprocal(x: Tensor): Tensor { return unaryOp('reciprocal', x); }
export function floor(x: Tensor): Tensor { return unaryOp('floor', x); }
export function ceil(x: Tensor): Tensor { return unaryOp('ceil', x); }
export function round(x: Tensor): Tensor { return unaryOp('round', x); }
export function exp(x: Tensor): Tensor { return unaryOp('exp', x); }
export function log(x: Tensor): Tensor { return unaryOp('log', x); }
export function tanh(x: Tensor): Tensor { return unaryOp('tanh', x); }
export function erf(x: Tensor): Tensor { return unaryOp('erf', x); }
/** ONNX Gelu: approximate 'none' (erf) or 'tanh'. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') fail('E_ARG', `gelu: approximate must be 'none' or 'tanh', got ${String(approximate)}`);
  return unaryOp(approximate === 'tanh' ? 'geluTanh' : 'gelu', x);
}
export function softplus(x: Tensor): Tensor { return unaryOp('softplus', x); }
export function elu(x: Tensor, alpha = 1.0): Tensor { return unaryOp('elu', x, { alpha }); }

// ---------------------------------------------------------------- 8-bit tables

export type Table8 = Uint8Array | Int8Array;

function checkTable(table: unknown, op: string): Table8 {
  if (!(table instanceof Uint8Array || table instanceof Int8Array) || table.length !== 256) {
    fail('E_ARG', `${op}: table must be a Uint8Array or Int8Array of 256 entries, got ${describe(table)}`);
  }
  return table;
}

/**
 * out[i] = table[x[i] - min], where min is -128 for int8 x and 0 for uint8 x:
 * the table lists the outputs for the inputs in increasing order. out has the
 * table's type (Int8Array -> int8).
 */
export function lut8Into(x: Operand, table: Table8, out: Operand, program?: Program): void {
  const op = 'lut8';
  const t = checkTable(table, op);
  const xi = operandInfo(x, op, 'x', ['int8', 'uint8']);
  expectOut(out, op, t instanceof Int8Array ? 'int8' : 'uint8', xi.shape);
  invoke(native.lut8, [native_(x), t, native_(out), xi.size], program);
}

export function lut8(x: Tensor, table: Table8): Tensor {
  const t = checkTable(table, 'lut8');
  const xi = operandInfo(x, 'lut8', 'x', ['int8', 'uint8']);
  const out = Tensor.zeros(t instanceof Int8Array ? 'int8' : 'uint8', xi.shape);
  lut8Into(x, t, out);
  return out;
}

/** Per-tensor quantization of an 8-bit value: real = scale * (q - zeroPoint). */
export interface Quant8 {
  dtype: 'int8' | 'uint8';
  scale: number;
  zeroPoint?: number;
}

/**
 * The lut8 table of QuantizeLinear(f(DequantizeLinear(x))) for every 8-bit x,
 * computed with lowbit's own DequantizeLinear, f and QuantizeLinear, so a
 * quantized graph gives exactly what the unfused float ops would.
 * f: a unary op name (with params) or any float32 function of a Tensor.
 */
export function quantizedUnaryTable(f: UnaryOpName | ((x: Tensor<'float32'>) => Tensor), input: Quant8, output: Quant8, params: UnaryParams = {}): Table8 {
  const op = 'quantizedUnaryTable';
  for (const [name, q] of [['input', input], ['output', output]] as const) {
    if (q === null || typeof q !== 'object' || (q.dtype !== 'int8' && q.dtype !== 'uint8')) fail('E_ARG', `${op}: ${name} must be {dtype: 'int8' | 'uint8', scale, zeroPoint?}`);
  }
  const [lo] = integerRange(input.dtype);
  const values = input.dtype === 'int8' ? new Int8Array(256) : new Uint8Array(256);
  for (let i = 0; i < 256; i++) values[i] = lo + i;
  const q = new Tensor(input.dtype, values, [256]);
  const real = dequantizeLinear(q, input.scale, input.zeroPoint ?? 0) as Tensor<'float32'>;
  const y = typeof f === 'function' ? f(real) : unaryOp(f, real, params);
  if (!isTensor(y) || y.dtype !== 'float32' || y.size !== 256) fail('E_ARG', `${op}: f must return a float32 tensor of the same size`);
  const out = quantizeLinear(y.reshape([256]), output.scale, output.zeroPoint ?? 0, { dtype: output.dtype });
  return out.data as Table8;
}

// ---------------------------------------------------------------- BatchNormalization

export type ParamArray = Tensor | Float32Array | readonly number[];

export interface BatchNormOptions {
  /** Default 1e-5 (ONNX). */
  epsilon?: number;
  /** Where the channels are: 'nchw' (axis 1, ONNX) or 'nhwc' (last axis). Default 'nchw'. */
  layout?: 'nchw' | 'nhwc';
  /** A fused clamp on the output (BatchNormalization + Relu). */
  clip?: ClipOptions;
}

function paramValues(v: ParamArray, op: string, name: string, count: number): Float32Array {
  let arr: Float32Array;
  if (isTensor(v)) {
    if (v.dtype !== 'float32') fail('E_DTYPE', `${op}: ${name} must be float32, got ${v.dtype}`);
    arr = v.data as Float32Array;
  } else if (v instanceof Float32Array) {
    arr = v;
  } else if (Array.isArray(v)) {
    arr = Float32Array.from(v);
  } else {
    fail('E_ARG', `${op}: ${name} must be a Tensor, a Float32Array or an array, got ${describe(v)}`);
  }
  if (arr.length !== count) fail('E_SHAPE', `${op}: ${name} has ${arr.length} values, the channel axis has ${count}`);
  return arr;
}

/** The per-channel affine map of inference BatchNormalization: y = x * a + b. */
export function batchNormCoefficients(scale: ParamArray, bias: ParamArray, mean: ParamArray, variance: ParamArray, channels: number, epsilon = 1e-5): { a: Float32Array; b: Float32Array } {
  const op = 'batchNormalization';
  const s = paramValues(scale, op, 'scale', channels), bi = paramValues(bias, op, 'bias', channels);
  const m = paramValues(mean, op, 'mean', channels), v = paramValues(variance, op, 'variance', channels);
  const a = new Float32Array(channels), b = new Float32Array(channels);
  const f = Math.fround;
  for (let c = 0; c < channels; c++) {
    a[c] = f(s[c] / f(Math.sqrt(f(v[c] + f(epsilon)))));
    b[c] = f(bi[c] - f(m[c] * a[c]));
  }
  return { a, b };
}

function channelSplit(shape: readonly number[], layout: 'nchw' | 'nhwc', op: string): [number, number, number] {
  if (shape.length < 2) fail('E_SHAPE', `${op}: x must have at least 2 axes (N, C, ...), got ${shapeString(shape)}`);
  const axis = layout === 'nhwc' ? shape.length - 1 : 1;
  const c = shape[axis];
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  return [outer, c, inner];
}

/** ONNX BatchNormalization (inference): y = (x - mean) / sqrt(variance + epsilon) * scale + bias, per channel. */
export function batchNormalizationInto(x: Operand, scale: ParamArray, bias: ParamArray, mean: ParamArray, variance: ParamArray,
                                       out: Operand, options: BatchNormOptions = {}, program?: Program): void {
  const op = 'batchNormalization';
  const layout = options.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') fail('E_ARG', `${op}: layout must be 'nchw' or 'nhwc', got ${String(layout)}`);
  const xi = operandInfo(x, op, 'x', ['float32']);
  expectOut(out, op, 'float32', xi.shape);
  const [outer, c, inner] = channelSplit(xi.shape, layout, op);
  const eps = numberOption(options.epsilon, op, 'epsilon', 1e-5);
  const { a, b } = batchNormCoefficients(scale, bias, mean, variance, c, eps);
  const [lo, hi] = clipBounds(options.clip, op);
  invoke(native.channelAffine, [native_(x), native_(out), outer, c, inner, a, b, lo, hi], program);
}

export function batchNormalization(x: Tensor, scale: ParamArray, bias: ParamArray, mean: ParamArray, variance: ParamArray, options: BatchNormOptions = {}): Tensor<'float32'> {
  const xi = operandInfo(x, 'batchNormalization', 'x', ['float32']);
  const out = Tensor.zeros('float32', xi.shape);
  batchNormalizationInto(x, scale, bias, mean, variance, out, options);
  return out;
}

/** y = x * scale[c] + bias[c] along `axis` (the channel affine map behind BatchNormalization). */
export function channelAffineInto(x: Operand, scale: Float32Array, bias: Float32Array, out: Operand, axis: number, options: { clip?: ClipOptions } = {}, program?: Program): void {
  const op = 'channelAffine';
  const xi = operandInfo(x, op, 'x', ['float32']);
  expectOut(out, op, 'float32', xi.shape);
  const ax = axisOf(axis, xi.shape.length, op);
  const c = xi.shape[ax];
  const s = paramValues(scale, op, 'scale', c), b = paramValues(bias, op, 'bias', c);
  const outer = shapeSize(xi.shape.slice(0, ax)), inner = shapeSize(xi.shape.slice(ax + 1));
  const [lo, hi] = clipBounds(options.clip, op);
  invoke(native.channelAffine, [native_(x), native_(out), outer, c, inner, s, b, lo, hi], program);
}
