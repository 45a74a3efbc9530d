// fp32 convolution (ONNX Conv), transposed convolution (ConvTranspose) and GEMM
// (MatMul, Gemm) over the fp32 kernels (native/include/lowbit/conv_f32.h).
//
// Activations are channels-last: x [N, H, W, C] -> y [N, OH, OW, M]. Weights are
// packed once from ONNX layout (Conv [M, C/group, kh, kw], ConvTranspose
// [C, M/group, kh, kw], GEMM B [K, N] or [N, K] with transB) and reused by every
// call. An activation (relu, clip, hardswish, hardsigmoid) can be fused into the
// output. `...Into` functions take Operands (Tensors now, or Slots with a Program
// to record a step); the others allocate their output. The `...Nchw` and
// `gemmF32Onnx` conveniences follow the ONNX operators exactly (NCHW in and out).
import type {
  NativeF32Activation, NativePackedConvF32, NativePackedConvTransposeF32, NativePackedMatrixF32,
} from '../../binding';
import { fail } from '../errors';
import { native } from '../native';
import { Tensor } from '../tensor/tensor';
import { describe, expectTensor, isTensor } from './params';
import { nativeOperand, Operand, Program } from './program';

// ---------------------------------------------------------------- options

/**
 * An activation fused into the output:
 * - 'relu': max(x, 0); 'relu6': clip(x, 0, 6);
 * - { kind: 'clip', min, max }: min(max(x, min), max) (ONNX Clip; a missing bound is unbounded);
 * - 'hardswish': x * clip(x + 3, 0, 6) / 6 (ONNX HardSwish, and its Add/Clip/Mul/Div form);
 * - 'hardsigmoid' or { kind: 'hardsigmoid', alpha, beta }: clip(alpha * x + beta, 0, 1)
 *   (ONNX HardSigmoid; defaults alpha 0.2, beta 0.5).
 */
export type Activation =
  | 'none'
  | 'relu'
  | 'relu6'
  | 'hardswish'
  | 'hardsigmoid'
  | { kind: 'clip'; min?: number; max?: number }
  | { kind: 'hardsigmoid'; alpha?: number; beta?: number };

export interface Conv2dOptions {
  /** [top, left, bottom, right] (ONNX `pads` order for 2-D); default zeros. */
  pads?: readonly number[];
  /** [h, w]; default [1, 1]. */
  strides?: readonly number[];
  /** [h, w]; default [1, 1]. */
  dilations?: readonly number[];
  /** Fused into the output; default 'none'. */
  activation?: Activation;
}

export interface ConvTransposeOptions extends Conv2dOptions {
  /** [h, w] (ONNX `output_padding`), each below its stride or dilation; default zeros. */
  outputPadding?: readonly number[];
}

export interface GemmF32Options {
  activation?: Activation;
}

function activationArgs(op: string, a: Activation | undefined): [NativeF32Activation, number[]] {
  if (a === undefined || a === 'none') return ['none', [0, 0]];
  if (a === 'relu') return ['relu', [0, 0]];
  if (a === 'relu6') return ['clip', [0, 6]];
  if (a === 'hardswish') return ['hardswish', [0, 0]];
  if (a === 'hardsigmoid') return ['hardsigmoid', [0.2, 0.5]];
  if (typeof a === 'object' && a !== null) {
    if (a.kind === 'clip') {
      const min = a.min ?? -Infinity, max = a.max ?? Infinity;
      if (typeof min !== 'number' || Number.isNaN(min)) fail('E_RANGE', `${op}: activation clip min must be a number, got ${String(a.min)}`);
      if (typeof max !== 'number' || Number.isNaN(max)) fail('E_RANGE', `${op}: activation clip max must be a number, got ${String(a.max)}`);
      if (Math.fround(min) > Math.fround(max)) fail('E_RANGE', `${op}: activation clip min ${min} is above max ${max}`);
      return ['clip', [min, max]];
    }
    if (a.kind === 'hardsigmoid') {
      const alpha = a.alpha ?? 0.2, beta = a.beta ?? 0.5;
      if (typeof alpha !== 'number' || !Number.isFinite(alpha)) fail('E_RANGE', `${op}: activation hardsigmoid alpha must be finite, got ${String(a.alpha)}`);
      if (typeof beta !== 'number' || !Number.isFinite(beta)) fail('E_RANGE', `${op}: activation hardsigmoid beta must be finite, got ${String(a.beta)}`);
      return ['hardsigmoid', [alpha, beta]];
    }
  }
  fail('E_ARG', `${op}: activation must be 'none', 'relu', 'relu6', 'hardswish', 'hardsigmoid', {kind: 'clip', min, max} or {kind: 'hardsigmoid', alpha, beta}, got ${JSON.stringify(a)}`);
}

function ints(op: string, name: string, v: unknown, count: number, min: number, fallback: number): number[] {
  if (v === undefined) return new Array<number>(count).fill(fallback);
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    fail('E_ARG', `${op}: ${name} must be an array of ${count} integers, got ${describe(v)}`);
  }
  const a = Array.from(v as ArrayLike<number>);
  if (a.length !== count) fail('E_SHAPE', `${op}: ${name} must have ${count} values, got ${a.length}`);
  for (const [i, x] of a.entries()) {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > 2 ** 24) {
      fail('E_RANGE', `${op}: ${name}[${i}] must be an integer in [${min}, 2^24], got ${String(x)}`);
    }
  }
  return a;
}

interface Geometry {
  pads: number[];
  strides: number[];
  dilations: number[];
}

function geometry(op: string, o: Conv2dOptions): Geometry {
  if (o === null || typeof o !== 'object') fail('E_ARG', `${op}: options must be an object, got ${describe(o)}`);
  return {
    pads: ints(op, 'pads', o.pads, 4, 0, 0),
    strides: ints(op, 'strides', o.strides, 2, 1, 1),
    dilations: ints(op, 'dilations', o.dilations, 2, 1, 1),
  };
}

function float32Operand(op: string, name: string, x: unknown): readonly number[] {
  if (isTensor(x)) {
    if (x.dtype !== 'float32') fail('E_DTYPE', `${op}: ${name} must be float32, got ${x.dtype}`);
    return x.shape;
  }
  if (typeof x === 'object' && x !== null && typeof (x as { ref?: unknown }).ref === 'number') {
    const s = x as { dtype?: unknown; shape?: unknown };
    if (s.dtype !== 'float32') fail('E_DTYPE', `${op}: ${name} must be a float32 slot, got ${String(s.dtype)}`);
    if (!Array.isArray(s.shape)) fail('E_ARG', `${op}: ${name} (a slot) needs its shape`);
    return s.shape as number[];
  }
  fail('E_ARG', `${op}: ${name} must be a Tensor or a Slot, got ${describe(x)}`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function checkOut(op: string, out: unknown, want: readonly number[]): void {
  const shape = float32Operand(op, 'out', out);
  if (!sameShape(shape, want)) fail('E_SHAPE', `${op}: out is [${shape.join(', ')}], expected [${want.join(', ')}]`);
}

function floatValues(op: string, name: string, v: Tensor | Float32Array | readonly number[]): Float32Array {
  if (isTensor(v)) {
    if (v.dtype !== 'float32') fail('E_DTYPE', `${op}: ${name} must be float32, got ${v.dtype}`);
    return v.data as Float32Array;
  }
  if (v instanceof Float32Array) return v;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      if (typeof x !== 'number') fail('E_ARG', `${op}: ${name}[${i}] is not a number`);
    }
    return Float32Array.from(v as number[]);
  }
  fail('E_ARG', `${op}: ${name} must be a float32 Tensor, a Float32Array or an array of numbers, got ${describe(v)}`);
}

function biasValues(op: string, bias: Tensor | Float32Array | readonly number[] | null | undefined, count: number): Float32Array | null {
  if (bias === undefined || bias === null) return null;
  const values = floatValues(op, 'bias', bias);
  if (values.length !== count) fail('E_SHAPE', `${op}: bias has ${values.length} values, expected ${count}`);
  return values;
}

// ---------------------------------------------------------------- Conv

/** Conv weights packed for the active kernel path. Pack once, run many times. */
export class PackedConv2d {
  /** Output channels. */
  readonly m: number;
  /** Input channels per group. */
  readonly cg: number;
  readonly kh: number;
  readonly kw: number;
  readonly groups: number;
  /** Input channels (cg * groups). */
  readonly inChannels: number;
  /** groups == C == M: runs the depthwise kernel. */
  readonly depthwise: boolean;
  /** @internal */
  readonly handle: NativePackedConvF32;

  /** @internal use ops.packConv2d */
  constructor(handle: NativePackedConvF32) {
    this.handle = handle;
    this.m = handle.m;
    this.cg = handle.cg;
    this.kh = handle.kh;
    this.kw = handle.kw;
    this.groups = handle.groups;
    this.inChannels = handle.cg * handle.groups;
    this.depthwise = handle.depthwise;
  }

  /** The fp32 kernels these weights were packed for (ref, avx2, avx512, neon). */
  get kernels(): string { return this.handle.kernels; }
  get byteLength(): number { return this.handle.byteLength; }
}

/** Packs ONNX Conv weights [M, C/groups, kh, kw] (float32) and an optional bias [M]. */
export function packConv2d(weights: Tensor, bias?: Tensor | Float32Array | null, options: { groups?: number } = {}): PackedConv2d {
  const op = 'packConv2d';
  expectTensor(weights, op, 'weights', ['float32']);
  if (weights.rank !== 4) fail('E_SHAPE', `${op}: weights must be 4-D [M, C/groups, kh, kw], got [${weights.shape.join(', ')}]`);
  if (weights.shape.some((d) => d === 0)) fail('E_SHAPE', `${op}: weights must not be empty, got [${weights.shape.join(', ')}]`);
  const [m, cg, kh, kw] = weights.shape;
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) fail('E_RANGE', `${op}: groups must be a positive integer, got ${String(groups)}`);
  if (m % groups !== 0) fail('E_SHAPE', `${op}: M = ${m} output channels is not a multiple of groups = ${groups}`);
  const b = biasValues(op, bias, m);
  return new PackedConv2d(new native.PackedConvF32(weights.data as Float32Array, m, cg, kh, kw, groups, b));
}

function outExtent(op: string, axis: string, size: number, k: number, pad0: number, pad1: number, stride: number, dilation: number): number {
  const span = (k - 1) * dilation + 1;
  const padded = size + pad0 + pad1;
  if (padded < span) fail('E_SHAPE', `${op}: the padded input ${axis} ${padded} is smaller than the dilated filter (${span})`);
  return Math.floor((padded - span) / stride) + 1;
}

function checkInput(op: string, shape: readonly number[], channels: number): void {
  if (shape.length !== 4) fail('E_SHAPE', `${op}: x must be 4-D NHWC [N, H, W, C], got [${shape.join(', ')}]`);
  if (shape[3] !== channels) fail('E_SHAPE', `${op}: x has ${shape[3]} channels (last axis, NHWC), the weights expect ${channels}`);
}

/** The NHWC output shape [N, OH, OW, M] of conv2d on an input of shape `x` (NHWC). */
export function conv2dShape(x: readonly number[], packed: PackedConv2d, options: Conv2dOptions = {}): number[] {
  const op = 'conv2d';
  if (!(packed instanceof PackedConv2d)) fail('E_ARG', `${op}: packed must be a PackedConv2d (from ops.packConv2d), got ${describe(packed)}`);
  checkInput(op, x, packed.inChannels);
  const g = geometry(op, options);
  return [
    x[0],
    outExtent(op, 'height', x[1], packed.kh, g.pads[0], g.pads[2], g.strides[0], g.dilations[0]),
    outExtent(op, 'width', x[2], packed.kw, g.pads[1], g.pads[3], g.strides[1], g.dilations[1]),
    packed.m,
  ];
}

/** out [N, OH, OW, M] = activation(conv(x [N, H, W, C]) + bias), NHWC. With a Program, records the step. */
export function conv2dInto(x: Operand, packed: PackedConv2d, out: Operand, options: Conv2dOptions = {}, program?: Program): void {
  const op = 'conv2dInto';
  const xs = float32Operand(op, 'x', x);
  const want = conv2dShape(xs, packed, options);
  checkOut(op, out, want);
  const g = geometry(op, options);
  const [kind, params] = activationArgs(op, options.activation);
  const xn = nativeOperand(x) as Float32Array, on = nativeOperand(out) as Float32Array;
  // A trailing undefined would count as an argument: pass the program only when recording.
  if (program === undefined) {
    native.convF32(packed.handle, xn, xs[0], xs[1], xs[2], g.pads, g.strides, g.dilations, kind, params, on);
  } else {
    native.convF32(packed.handle, xn, xs[0], xs[1], xs[2], g.pads, g.strides, g.dilations, kind, params, on, program.recorder);
  }
}

/** NHWC convolution: x [N, H, W, C] -> a new [N, OH, OW, M] tensor. */
export function conv2d(x: Tensor, packed: PackedConv2d, options: Conv2dOptions = {}): Tensor {
  expectTensor(x, 'conv2d', 'x', ['float32']);
  const out = Tensor.zeros('float32', conv2dShape(x.shape, packed, options));
  conv2dInto(x, packed, out, options);
  return out;
}

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

/**
 * ONNX Conv `auto_pad` as explicit pads [top, left, bottom, right] for an input
 * of `[H, W]` (SAME_*: output = ceil(input / stride), the odd pixel at the end
 * for SAME_UPPER, at the start for SAME_LOWER; VALID: none).
 */
export function convAutoPads(autoPad: AutoPad, input: readonly number[], kernel: readonly number[],
                             strides: readonly number[] = [1, 1], dilations: readonly number[] = [1, 1]): number[] {
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') fail('E_ARG', `convAutoPads: auto_pad must be SAME_UPPER, SAME_LOWER or VALID, got ${String(autoPad)}`);
  const begin: number[] = [], end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const out = Math.ceil(input[i] / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - input[i]);
    const small = Math.floor(total / 2);
    begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
    end.push(autoPad === 'SAME_UPPER' ? total - small : small);
  }
  return [begin[0], begin[1], end[0], end[1]];
}

/** [N, C, H, W] <-> [N, H, W, C]. */
function nchwToNhwc(x: Tensor): Tensor {
  const [n, c, h, w] = x.shape;
  const src = x.data as Float32Array, dst = new Float32Array(src.length);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const s = (b * c + ch) * hw;
      for (let p = 0; p < hw; p++) dst[(b * hw + p) * c + ch] = src[s + p];
    }
  }
  return new Tensor('float32', dst, [n, h, w, c]);
}

function nhwcToNchw(x: Tensor): Tensor {
  const [n, h, w, c] = x.shape;
  const src = x.data as Float32Array, dst = new Float32Array(src.length);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < hw; p++) {
      const s = (b * hw + p) * c;
      for (let ch = 0; ch < c; ch++) dst[(b * c + ch) * hw + p] = src[s + ch];
    }
  }
  return new Tensor('float32', dst, [n, c, h, w]);
}

/** ONNX attributes for 2-D (4-D NCHW x); for 1-D (3-D NCL x) each has one value per axis, pads [begin, end]. */
export interface ConvNchwAttributes {
  /** ONNX pads [top, left, bottom, right]; ignored unless autoPad is NOTSET. */
  pads?: readonly number[];
  strides?: readonly number[];
  dilations?: readonly number[];
  group?: number;
  autoPad?: AutoPad;
  activation?: Activation;
}

function nchwInput(op: string, x: Tensor): void {
  expectTensor(x, op, 'x', ['float32']);
  if (x.rank !== 4 && x.rank !== 3) fail('E_SHAPE', `${op}: x must be 4-D NCHW or 3-D NCL, got [${x.shape.join(', ')}]`);
}

/** 1-D (N, C, L) operands and attributes as 2-D ones with H = 1; the output goes back to 3-D. */
interface Lifted {
  x: Tensor;
  w: Tensor;
  /** Per-axis values ([s] -> [fill, s]); 2-D values pass through. */
  axes: (v: readonly number[] | undefined, fill: number) => readonly number[] | undefined;
  /** Pads ([begin, end] -> [0, begin, 0, end]). */
  pads: (v: readonly number[] | undefined) => readonly number[] | undefined;
  lower: (y: Tensor) => Tensor;
}

function lift1d(op: string, x: Tensor, w: Tensor): Lifted {
  expectTensor(w, op, 'w', ['float32']);
  if (x.rank === 4) {
    if (w.rank !== 4) fail('E_SHAPE', `${op}: w must be 4-D for a 4-D x, got [${w.shape.join(', ')}]`);
    return { x, w, axes: (v) => v, pads: (v) => v, lower: (y) => y };
  }
  if (w.rank !== 3) fail('E_SHAPE', `${op}: w must be 3-D for a 3-D x, got [${w.shape.join(', ')}]`);
  const one = (name: string, v: readonly number[] | undefined, count: number) => {
    if (v !== undefined && (!Array.isArray(v) || v.length !== count)) {
      fail('E_SHAPE', `${op}: ${name} of a 1-D convolution must have ${count} value${count > 1 ? 's' : ''}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  return {
    x: x.reshape([x.shape[0], x.shape[1], 1, x.shape[2]]),
    w: w.reshape([w.shape[0], w.shape[1], 1, w.shape[2]]),
    axes: (v, fill) => (one('strides, dilations and outputPadding', v, 1) === undefined ? undefined : [fill, v![0]]),
    pads: (v) => (one('pads', v, 2) === undefined ? undefined : [0, v![0], 0, v![1]]),
    lower: (y) => y.reshape([y.shape[0], y.shape[1], y.shape[3]]),
  };
}

/**
 * ONNX Conv, NCHW in and out: x [N, C, H, W], w [M, C/group, kh, kw], bias [M]
 * (or 1-D: x [N, C, L], w [M, C/group, k], 1-D attributes). Packs w on every call.
 */
export function conv2dNchw(x: Tensor, w: Tensor, bias?: Tensor | null, attrs: ConvNchwAttributes = {}): Tensor {
  const op = 'conv2dNchw';
  nchwInput(op, x);
  const l = lift1d(op, x, w);
  const autoPad = attrs.autoPad ?? 'NOTSET';
  const strides = l.axes(attrs.strides, 1) ?? [1, 1], dilations = l.axes(attrs.dilations, 1) ?? [1, 1];
  const pads = autoPad === 'NOTSET'
    ? l.pads(attrs.pads)
    : convAutoPads(autoPad, [l.x.shape[2], l.x.shape[3]], [l.w.shape[2], l.w.shape[3]], strides, dilations);
  const packed = packConv2d(l.w, bias, { groups: attrs.group ?? 1 });
  const y = conv2d(nchwToNhwc(l.x), packed, { pads, strides, dilations, activation: attrs.activation });
  return l.lower(nhwcToNchw(y));
}

// ---------------------------------------------------------------- ConvTranspose

/** ConvTranspose weights packed for the active kernel path. */
export class PackedConvTranspose {
  /** Input channels. */
  readonly c: number;
  /** Output channels per group. */
  readonly mg: number;
  readonly kh: number;
  readonly kw: number;
  readonly groups: number;
  /** Output channels (mg * groups). */
  readonly outChannels: number;
  /** @internal */
  readonly handle: NativePackedConvTransposeF32;

  /** @internal use ops.packConvTranspose */
  constructor(handle: NativePackedConvTransposeF32) {
    this.handle = handle;
    this.c = handle.c;
    this.mg = handle.mg;
    this.kh = handle.kh;
    this.kw = handle.kw;
    this.groups = handle.groups;
    this.outChannels = handle.mg * handle.groups;
  }

  get kernels(): string { return this.handle.kernels; }
  get byteLength(): number { return this.handle.byteLength; }
}

/** Packs ONNX ConvTranspose weights [C, M/groups, kh, kw] (float32) and an optional bias [M]. */
export function packConvTranspose(weights: Tensor, bias?: Tensor | Float32Array | null, options: { groups?: number } = {}): PackedConvTranspose {
  const op = 'packConvTranspose';
  expectTensor(weights, op, 'weights', ['float32']);
  if (weights.rank !== 4) fail('E_SHAPE', `${op}: weights must be 4-D [C, M/groups, kh, kw], got [${weights.shape.join(', ')}]`);
  if (weights.shape.some((d) => d === 0)) fail('E_SHAPE', `${op}: weights must not be empty, got [${weights.shape.join(', ')}]`);
  const [c, mg, kh, kw] = weights.shape;
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) fail('E_RANGE', `${op}: groups must be a positive integer, got ${String(groups)}`);
  if (c % groups !== 0) fail('E_SHAPE', `${op}: C = ${c} input channels is not a multiple of groups = ${groups}`);
  const b = biasValues(op, bias, mg * groups);
  return new PackedConvTranspose(new native.PackedConvTransposeF32(weights.data as Float32Array, c, mg, kh, kw, groups, b));
}

function transposeExtent(op: string, axis: string, size: number, k: number, pad0: number, pad1: number, stride: number,
                         dilation: number, outPad: number): number {
  if (outPad >= Math.max(stride, dilation)) fail('E_RANGE', `${op}: outputPadding along ${axis} (${outPad}) must be smaller than its stride or dilation`);
  const full = stride * (size - 1) + outPad + (k - 1) * dilation + 1;
  if (size === 0 || full <= pad0 + pad1) fail('E_SHAPE', `${op}: the pads (${pad0} + ${pad1}) leave no output along ${axis}`);
  return full - pad0 - pad1;
}

/** The NHWC output shape [N, OH, OW, M] of convTranspose on an NHWC input of shape `x`. */
export function convTransposeShape(x: readonly number[], packed: PackedConvTranspose, options: ConvTransposeOptions = {}): number[] {
  const op = 'convTranspose';
  if (!(packed instanceof PackedConvTranspose)) fail('E_ARG', `${op}: packed must be a PackedConvTranspose (from ops.packConvTranspose), got ${describe(packed)}`);
  checkInput(op, x, packed.c);
  const g = geometry(op, options);
  const op2 = ints(op, 'outputPadding', options.outputPadding, 2, 0, 0);
  return [
    x[0],
    transposeExtent(op, 'height', x[1], packed.kh, g.pads[0], g.pads[2], g.strides[0], g.dilations[0], op2[0]),
    transposeExtent(op, 'width', x[2], packed.kw, g.pads[1], g.pads[3], g.strides[1], g.dilations[1], op2[1]),
    packed.outChannels,
  ];
}

/** out [N, OH, OW, M] = activation(convTranspose(x [N, H, W, C]) + bias), NHWC. */
export function convTransposeInto(x: Operand, packed: PackedConvTranspose, out: Operand, options: ConvTransposeOptions = {},
                                  program?: Program): void {
  const op = 'convTransposeInto';
  const xs = float32Operand(op, 'x', x);
  checkOut(op, out, convTransposeShape(xs, packed, options));
  const g = geometry(op, options);
  const outPad = ints(op, 'outputPadding', options.outputPadding, 2, 0, 0);
  const [kind, params] = activationArgs(op, options.activation);
  const xn = nativeOperand(x) as Float32Array, on = nativeOperand(out) as Float32Array;
  if (program === undefined) {
    native.convTransposeF32(packed.handle, xn, xs[0], xs[1], xs[2], g.pads, g.strides, g.dilations, outPad, kind, params, on);
  } else {
    native.convTransposeF32(packed.handle, xn, xs[0], xs[1], xs[2], g.pads, g.strides, g.dilations, outPad, kind, params, on,
                            program.recorder);
  }
}

/** NHWC transposed convolution: x [N, H, W, C] -> a new [N, OH, OW, M] tensor. */
export function convTranspose(x: Tensor, packed: PackedConvTranspose, options: ConvTransposeOptions = {}): Tensor {
  expectTensor(x, 'convTranspose', 'x', ['float32']);
  const out = Tensor.zeros('float32', convTransposeShape(x.shape, packed, options));
  convTransposeInto(x, packed, out, options);
  return out;
}

export interface ConvTransposeNchwAttributes extends ConvNchwAttributes {
  outputPadding?: readonly number[];
  /** ONNX output_shape [OH, OW]: the pads are derived from it (and autoPad). */
  outputShape?: readonly number[];
}

/**
 * ONNX ConvTranspose pads [top, left, bottom, right] for a requested output
 * size (`output_shape`, or input * stride for SAME_* auto_pad): total padding
 * stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - out, split with
 * the odd one at the end for SAME_UPPER, at the start otherwise.
 */
export function convTransposePads(input: readonly number[], kernel: readonly number[], outputShape: readonly number[],
                                  strides: readonly number[] = [1, 1], dilations: readonly number[] = [1, 1],
                                  outputPadding: readonly number[] = [0, 0], autoPad: AutoPad = 'NOTSET'): number[] {
  const begin: number[] = [], end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const total = strides[i] * (input[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - outputShape[i];
    if (total < 0) fail('E_UNSUPPORTED', `convTransposePads: output size ${outputShape[i]} needs negative padding (${total})`);
    const half = Math.floor(total / 2);
    begin.push(autoPad === 'SAME_UPPER' ? half : total - half);
    end.push(autoPad === 'SAME_UPPER' ? total - half : half);
  }
  return [begin[0], begin[1], end[0], end[1]];
}

/**
 * ONNX ConvTranspose, NCHW in and out: x [N, C, H, W], w [C, M/group, kh, kw], bias [M]
 * (or 1-D: x [N, C, L], w [C, M/group, k], 1-D attributes). Packs w on every call.
 */
export function convTransposeNchw(x: Tensor, w: Tensor, bias?: Tensor | null, attrs: ConvTransposeNchwAttributes = {}): Tensor {
  const op = 'convTransposeNchw';
  nchwInput(op, x);
  const l = lift1d(op, x, w);
  const strides = l.axes(attrs.strides, 1) ?? [1, 1], dilations = l.axes(attrs.dilations, 1) ?? [1, 1];
  const outputPadding = l.axes(attrs.outputPadding, 0) ?? [0, 0];
  const autoPad = attrs.autoPad ?? 'NOTSET';
  const input = [l.x.shape[2], l.x.shape[3]], kernel = [l.w.shape[2], l.w.shape[3]];
  let pads = l.pads(attrs.pads);
  const outputShape = attrs.outputShape === undefined ? undefined : x.rank === 3 ? [1, ...attrs.outputShape] : attrs.outputShape;
  if (outputShape !== undefined) {
    pads = convTransposePads(input, kernel, outputShape, strides, dilations, outputPadding, autoPad);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = convTransposePads(input, kernel, [input[0] * strides[0], input[1] * strides[1]], strides, dilations, outputPadding, autoPad);
  } else if (autoPad === 'VALID') {
    pads = [0, 0, 0, 0];
  }
  const packed = packConvTranspose(l.w, bias, { groups: attrs.group ?? 1 });
  const y = convTranspose(nchwToNhwc(l.x), packed, { pads, strides, dilations, outputPadding, activation: attrs.activation });
  return l.lower(nhwcToNchw(y));
}

// ---------------------------------------------------------------- GEMM

/** fp32 GEMM weights B [K, N] (+ bias [N]) packed for the active kernel path. */
export class PackedMatrixF32 {
  readonly k: number;
  readonly n: number;
  /** @internal */
  readonly handle: NativePackedMatrixF32;

  /** @internal use ops.packGemmF32 */
  constructor(handle: NativePackedMatrixF32) {
    this.handle = handle;
    this.k = handle.k;
    this.n = handle.n;
  }

  get kernels(): string { return this.handle.kernels; }
  get byteLength(): number { return this.handle.byteLength; }
}

export interface PackGemmF32Options {
  /** b is [N, K] (ONNX Gemm transB = 1). */
  transB?: boolean;
  /** Added to every row: a number, or 1 or N values (ONNX Gemm's C when it broadcasts along rows). */
  bias?: Tensor | Float32Array | readonly number[] | number | null;
  /** B is scaled by alpha when packed (ONNX Gemm alpha); default 1. */
  alpha?: number;
  /** The bias is scaled by beta (ONNX Gemm beta); default 1. */
  beta?: number;
}

/** Packs fp32 B [K, N] (or [N, K] with transB) once, with an optional per-column bias. */
export function packGemmF32(b: Tensor, options: PackGemmF32Options = {}): PackedMatrixF32 {
  const op = 'packGemmF32';
  expectTensor(b, op, 'b', ['float32']);
  if (b.rank !== 2) fail('E_SHAPE', `${op}: b must be 2-D, got [${b.shape.join(', ')}]`);
  if (b.shape[0] === 0 || b.shape[1] === 0) fail('E_SHAPE', `${op}: b must not be empty, got [${b.shape.join(', ')}]`);
  const transB = options.transB ?? false;
  if (typeof transB !== 'boolean') fail('E_ARG', `${op}: transB must be a boolean, got ${describe(transB)}`);
  const [k, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  const alpha = options.alpha ?? 1, beta = options.beta ?? 1;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) fail('E_RANGE', `${op}: alpha must be a finite number, got ${String(options.alpha)}`);
  if (typeof beta !== 'number' || !Number.isFinite(beta)) fail('E_RANGE', `${op}: beta must be a finite number, got ${String(options.beta)}`);
  let data = b.data as Float32Array;
  if (alpha !== 1) data = data.map((v) => v * alpha);
  let bias: Float32Array | null = null;
  const raw = options.bias;
  if (raw !== undefined && raw !== null) {
    const values = typeof raw === 'number' ? Float32Array.of(raw) : floatValues(op, 'bias', raw);
    if (values.length !== 1 && values.length !== n) fail('E_SHAPE', `${op}: bias has ${values.length} values, expected 1 or ${n}`);
    bias = values.length === n ? Float32Array.from(values, (v) => v * beta) : new Float32Array(n).fill(values[0] * beta);
  }
  return new PackedMatrixF32(new native.PackedMatrixF32(data, k, n, transB, bias));
}

function gemmRows(op: string, shape: readonly number[], k: number): number {
  if (shape.length < 1) fail('E_SHAPE', `${op}: a must have at least 1 dimension`);
  if (shape[shape.length - 1] !== k) fail('E_SHAPE', `${op}: a is [${shape.join(', ')}], its last axis must be K = ${k}`);
  return shape.slice(0, -1).reduce((x, y) => x * y, 1);
}

/** out [..., N] = activation(a [..., K] * B + bias); the leading axes of a are rows. */
export function gemmF32Into(a: Operand, b: PackedMatrixF32, out: Operand, options: GemmF32Options = {}, program?: Program): void {
  const op = 'gemmF32Into';
  if (!(b instanceof PackedMatrixF32)) fail('E_ARG', `${op}: b must be a PackedMatrixF32 (from ops.packGemmF32), got ${describe(b)}`);
  const as = float32Operand(op, 'a', a);
  const m = gemmRows(op, as, b.k);
  checkOut(op, out, [...as.slice(0, -1), b.n]);
  const [kind, params] = activationArgs(op, options.activation);
  const an = nativeOperand(a) as Float32Array, on = nativeOperand(out) as Float32Array;
  if (program === undefined) native.gemmF32(b.handle, an, m, on, kind, params);
  else native.gemmF32(b.handle, an, m, on, kind, params, program.recorder);
}

/** a [..., K] * B -> a new [..., N] tensor. */
export function gemmF32(a: Tensor, b: PackedMatrixF32, options: GemmF32Options = {}): Tensor {
  expectTensor(a, 'gemmF32', 'a', ['float32']);
  if (!(b instanceof PackedMatrixF32)) fail('E_ARG', `gemmF32: b must be a PackedMatrixF32 (from ops.packGemmF32), got ${describe(b)}`);
  gemmRows('gemmF32', a.shape, b.k);
  const out = Tensor.zeros('float32', [...a.shape.slice(0, -1), b.n]);
  gemmF32Into(a, b, out, options);
  return out;
}

function broadcastBatch(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail('E_SHAPE', `${op}: batch dimensions [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Index of the (possibly broadcast) operand batch that feeds output batch i. */
function sourceBatch(i: number, out: readonly number[], src: readonly number[]): number {
  let idx = 0, stride = 1;
  for (let d = out.length - 1, rem = i; d >= 0; d--) {
    const coord = rem % out[d];
    rem = Math.floor(rem / out[d]);
    const sd = d - (out.length - src.length);
    if (sd >= 0) {
      if (src[sd] !== 1) idx += coord * stride;
      stride *= src[sd];
    }
  }
  return idx;
}

/**
 * ONNX MatMul on float32 (numpy matmul): a [..., M, K] (or [K]) times b [..., K, N]
 * (or [K]), batch axes broadcast; or times packed weights (b 2-D, packed once).
 */
export function matmulF32(a: Tensor, b: Tensor | PackedMatrixF32, options: GemmF32Options = {}): Tensor {
  const op = 'matmulF32';
  expectTensor(a, op, 'a', ['float32']);
  if (a.rank < 1) fail('E_SHAPE', `${op}: a must have at least 1 dimension`);
  if (b instanceof PackedMatrixF32) {
    if (a.rank === 1) return gemmF32(a.reshape([1, a.shape[0]]), b, options).reshape([b.n]);
    return gemmF32(a, b, options);
  }
  expectTensor(b, op, 'b', ['float32']);
  if (b.rank < 1) fail('E_SHAPE', `${op}: b must have at least 1 dimension`);
  const squeezeM = a.rank === 1, squeezeN = b.rank === 1;
  const as = squeezeM ? [1, a.shape[0]] : [...a.shape];
  const bs = squeezeN ? [b.shape[0], 1] : [...b.shape];
  const m = as[as.length - 2], k = as[as.length - 1], kb = bs[bs.length - 2], n = bs[bs.length - 1];
  if (k !== kb) fail('E_SHAPE', `${op}: a is [${a.shape.join(', ')}] and b is [${b.shape.join(', ')}]: inner dimensions ${k} and ${kb} differ`);
  const aBatch = as.slice(0, -2), bBatch = bs.slice(0, -2);
  const batch = broadcastBatch(op, aBatch, bBatch);
  const shape = [...batch, ...(squeezeM ? [] : [m]), ...(squeezeN ? [] : [n])];
  const out = Tensor.zeros('float32', shape);
  if (m === 0 || n === 0 || batch.some((d) => d === 0)) return out;
  if (k === 0) {
    if (options.activation !== undefined && options.activation !== 'none') {
      fail('E_UNSUPPORTED', `${op}: an activation with K = 0 is not supported`);
    }
    return out;
  }
  const [kind, params] = activationArgs(op, options.activation);
  const aData = a.data as Float32Array, bData = b.data as Float32Array, oData = out.data as Float32Array;
  const batches = batch.reduce((x, y) => x * y, 1);
  const packs = new Map<number, NativePackedMatrixF32>();
  const packFor = (i: number) => {
    let p = packs.get(i);
    if (p === undefined) {
      p = new native.PackedMatrixF32(bData.subarray(i * k * n, (i + 1) * k * n), k, n, false, null);
      packs.set(i, p);
    }
    return p;
  };
  // A 2-D B with batched A: one call over all rows.
  if (bBatch.every((d) => d === 1) && sameShape(aBatch, batch)) {
    native.gemmF32(packFor(0), aData, batches * m, oData, kind, params);
    return out;
  }
  for (let i = 0; i < batches; i++) {
    const ai = sourceBatch(i, batch, aBatch), bi = sourceBatch(i, batch, bBatch);
    native.gemmF32(packFor(bi), aData.subarray(ai * m * k, (ai + 1) * m * k), m, oData.subarray(i * m * n, (i + 1) * m * n), kind, params);
  }
  return out;
}

export interface GemmOnnxAttributes {
  alpha?: number;
  beta?: number;
  transA?: number | boolean;
  transB?: number | boolean;
}

/** ONNX Gemm on float32: Y = alpha * A' * B' + beta * C, A and B 2-D, C broadcastable to [M, N]. Packs B on every call. */
export function gemmF32Onnx(a: Tensor, b: Tensor, c?: Tensor | null, attrs: GemmOnnxAttributes = {}): Tensor {
  const op = 'gemmF32Onnx';
  expectTensor(a, op, 'a', ['float32']);
  expectTensor(b, op, 'b', ['float32']);
  if (a.rank !== 2) fail('E_SHAPE', `${op}: a must be 2-D, got [${a.shape.join(', ')}]`);
  if (b.rank !== 2) fail('E_SHAPE', `${op}: b must be 2-D, got [${b.shape.join(', ')}]`);
  const transA = Boolean(attrs.transA ?? 0), transB = Boolean(attrs.transB ?? 0);
  const alpha = attrs.alpha ?? 1, beta = attrs.beta ?? 1;
  let at = a;
  if (transA) {
    const [r, cl] = a.shape, src = a.data as Float32Array, dst = new Float32Array(src.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < cl; j++) dst[j * r + i] = src[i * cl + j];
    at = new Tensor('float32', dst, [cl, r]);
  }
  const [m, k] = at.shape;
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (k !== kb) fail('E_SHAPE', `${op}: A' is [${m}, ${k}] and B' is [${kb}, ${n}]: inner dimensions differ`);
  // C as a per-column bias when it broadcasts along rows; otherwise added after.
  let bias: Float32Array | null = null;
  let full: Tensor | null = null;
  if (c !== undefined && c !== null) {
    expectTensor(c, op, 'c', ['float32']);
    const cs = c.shape;
    if (cs.length > 2) fail('E_SHAPE', `${op}: c must have at most 2 dimensions, got [${cs.join(', ')}]`);
    const rows = cs.length === 2 ? cs[0] : 1, cols = cs.length === 0 ? 1 : cs[cs.length - 1];
    if ((rows !== 1 && rows !== m) || (cols !== 1 && cols !== n)) fail('E_SHAPE', `${op}: c [${cs.join(', ')}] does not broadcast to [${m}, ${n}]`);
    if (rows === 1) bias = cols === n ? (c.data as Float32Array) : new Float32Array(n).fill((c.data as Float32Array)[0]);
    else full = c;
  }
  if (m === 0 || n === 0) return Tensor.zeros('float32', [m, n]);
  if (k === 0) fail('E_SHAPE', `${op}: K must be positive`);
  const packed = packGemmF32(b, { transB, alpha, beta, bias });
  const y = gemmF32(at, packed);
  if (full !== null) {
    const yd = y.data as Float32Array, cd = full.data as Float32Array, cols = full.shape[1];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) yd[i * n + j] += beta * cd[i * cols + (cols === 1 ? 0 : j)];
    }
  }
  return y;
}
