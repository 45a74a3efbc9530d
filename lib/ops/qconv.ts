// Int8 2-D convolution: ONNX ConvInteger and QLinearConv on the int8 kernels
// (native/include/lowbit/conv_s8.h). Activations are channels-last (NHWC), as the
// runtime keeps them between convolutional ops; weights keep ONNX's layout
// [M, C/groups, kh, kw] and are packed once (packConvInt8). A depthwise
// convolution (groups == C == M) runs a dedicated kernel, everything else the
// int8 GEMM (directly over the input rows for 1x1 stride-1 convolutions, through
// im2col otherwise), with requantization, bias and a fused clamp in the output
// stage. `qlinearConvNchw` / `convIntegerNchw` take and return ONNX's NCHW layout.
import type { NativePackedConvS8 } from '../../binding';
import { fail } from '../errors';
import { native } from '../native';
import { arrayClass } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { OutputStage } from './gemm';
import { describe, expectTensor, intOption, isTensor, ParamValue, scaleParam, zeroPointParam } from './params';
import { isSlot, nativeOperand, Operand, Program } from './program';
import { RequantMode } from './requantize';

type Int8Type = 'int8' | 'uint8';

/** Pads, strides and dilations beyond this are rejected (the native limit). */
const MAX_GEOMETRY = 1 << 20;

/** Weights [M, C/groups, kh, kw] packed for the active kernel path. Pack once, run many times. */
export class PackedConvInt8 {
  readonly m: number;
  /** Input channels per group (C / groups). */
  readonly cg: number;
  readonly kh: number;
  readonly kw: number;
  readonly groups: number;
  readonly dtype: Int8Type;
  /** The weight zero point as packed: one value, or one per output channel. */
  readonly zeroPoint: Int32Array;
  /** @internal */
  readonly handle: NativePackedConvS8;

  /** @internal use ops.packConvInt8 */
  constructor(w: Tensor, groups: number, zeroPoint: Int32Array) {
    const [m, cg, kh, kw] = w.shape;
    this.m = m;
    this.cg = cg;
    this.kh = kh;
    this.kw = kw;
    this.groups = groups;
    this.dtype = w.dtype as Int8Type;
    this.zeroPoint = zeroPoint;
    this.handle = new native.PackedConvS8(w.data as Int8Array | Uint8Array, m, cg, kh, kw, groups, zeroPoint);
  }

  /** Input channels C. */
  get channels(): number { return this.cg * this.groups; }
  /** groups == C == M: the dedicated depthwise kernel runs it. */
  get depthwise(): boolean { return this.handle.depthwise; }
  /** The kernel path these weights were packed for. */
  get isa(): string { return this.handle.isa; }
  get byteLength(): number { return this.handle.byteLength; }
}

export interface PackConvInt8Options {
  /** ONNX `group` (default 1). The input has groups * w.shape[1] channels. */
  groups?: number;
  /** One value (default 0) or one per output channel, in w's type. */
  wZeroPoint?: ParamValue;
}

/** Packs int8/uint8 convolution weights in ONNX layout [M, C/groups, kh, kw]. */
export function packConvInt8(w: Tensor, options: PackConvInt8Options = {}): PackedConvInt8 {
  const op = 'packConvInt8';
  expectTensor(w, op, 'w', ['int8', 'uint8']);
  if (options === null || typeof options !== 'object') fail('E_ARG', `${op}: options must be an object, got ${describe(options)}`);
  if (w.rank !== 4) fail('E_SHAPE', `${op}: w must be 4-D [M, C/groups, kh, kw], got [${w.shape.join(', ')}]`);
  if (w.size === 0) fail('E_SHAPE', `${op}: w must not be empty, got [${w.shape.join(', ')}]`);
  const [m, , kh, kw] = w.shape;
  if (kh > MAX_GEOMETRY || kw > MAX_GEOMETRY) fail('E_RANGE', `${op}: kernel extents must be at most 2^20, got ${kh}x${kw}`);
  const groups = intOption(options.groups ?? 1, op, 'groups', 1, m);
  if (m % groups !== 0) fail('E_SHAPE', `${op}: M = ${m} output channels are not a multiple of groups = ${groups}`);
  const zp = zeroPointParam(options.wZeroPoint, op, 'wZeroPoint', w.dtype as Int8Type, [1, m]);
  return new PackedConvInt8(w, groups, zp);
}

/** Convolution geometry of an NHWC call: pads [top, left, bottom, right] (ONNX's order), strides and dilations [h, w]. */
export interface ConvGeometry {
  pads?: readonly number[];
  strides?: readonly number[];
  dilations?: readonly number[];
}

interface Geometry {
  pads: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
}

function intList(v: unknown, op: string, name: string, length: number, lo: number, dflt: number): number[] {
  if (v === undefined || v === null) return new Array<number>(length).fill(dflt);
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) fail('E_ARG', `${op}: ${name} must be an array of ${length} integers, got ${describe(v)}`);
  const a = Array.from(v as ArrayLike<number>, Number);
  if (a.length !== length) fail('E_SHAPE', `${op}: ${name} must have ${length} values, got ${a.length}`);
  a.forEach((x, i) => intOption(x, op, `${name}[${i}]`, lo, MAX_GEOMETRY));
  return a;
}

function geometry(op: string, o: ConvGeometry): Geometry {
  return {
    pads: intList(o.pads, op, 'pads', 4, 0, 0) as Geometry['pads'],
    strides: intList(o.strides, op, 'strides', 2, 1, 1) as Geometry['strides'],
    dilations: intList(o.dilations, op, 'dilations', 2, 1, 1) as Geometry['dilations'],
  };
}

function outExtent(input: number, begin: number, end: number, k: number, stride: number, dilation: number): number {
  const span = dilation * (k - 1) + 1;
  const padded = input + begin + end;
  return padded < span ? 0 : Math.floor((padded - span) / stride) + 1;
}

function outputShapeOf(op: string, xShape: readonly number[], packed: PackedConvInt8, g: Geometry): [number, number, number, number] {
  if (xShape.length !== 4) fail('E_SHAPE', `${op}: x must be 4-D NHWC [N, H, W, C], got [${xShape.join(', ')}]`);
  const [n, h, w, c] = xShape;
  if (c !== packed.channels) fail('E_SHAPE', `${op}: x has ${c} channels (NHWC [${xShape.join(', ')}]), the weights expect ${packed.channels} (groups ${packed.groups} x ${packed.cg})`);
  if (h === 0 || w === 0) fail('E_SHAPE', `${op}: x must have a positive height and width, got [${xShape.join(', ')}]`);
  const oh = outExtent(h, g.pads[0], g.pads[2], packed.kh, g.strides[0], g.dilations[0]);
  const ow = outExtent(w, g.pads[1], g.pads[3], packed.kw, g.strides[1], g.dilations[1]);
  if (oh === 0 || ow === 0) {
    fail('E_SHAPE', `${op}: the ${packed.kh}x${packed.kw} kernel (dilations [${g.dilations.join(', ')}]) does not fit the ${h}x${w} input with pads [${g.pads.join(', ')}]`);
  }
  return [n, oh, ow, packed.m];
}

/** The NHWC output shape [N, OH, OW, M] of a convolution (for planners). */
export function convInt8OutputShape(xShape: readonly number[], packed: PackedConvInt8, options: ConvGeometry = {}): number[] {
  const op = 'convInt8OutputShape';
  if (!(packed instanceof PackedConvInt8)) fail('E_ARG', `${op}: packed must be a PackedConvInt8 (from packConvInt8), got ${describe(packed)}`);
  return outputShapeOf(op, xShape, packed, geometry(op, options ?? {}));
}

export interface ConvInt8IntoOptions extends ConvGeometry {
  /** The activation zero point (default 0), in x's type. */
  xZeroPoint?: number;
  /** Requantize to 8 bits (fused bias, scale, clamp); null or absent: int32 output. */
  stage?: OutputStage | null;
}

function operandInfo(v: unknown, op: string, name: string): { dtype: string; shape: readonly number[] } {
  if (v instanceof Tensor) return v;
  if (isSlot(v)) {
    if (!Array.isArray(v.shape)) fail('E_ARG', `${op}: ${name} slot must have a shape`);
    return v;
  }
  fail('E_ARG', `${op}: ${name} must be a Tensor or a Slot, got ${describe(v)}`);
}

function overlaps(x: ArrayBufferView, y: ArrayBufferView): boolean {
  return x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

/**
 * The int8 convolution as a plannable step. x: uint8/int8 NHWC [N, H, W, C];
 * out: NHWC [N, OH, OW, M], int32 without an output stage, else the stage's
 * type. With a Program, x and out are Slots and the call is recorded.
 */
export function convInt8Into(x: Operand, packed: PackedConvInt8, out: Operand, options: ConvInt8IntoOptions = {},
                             program?: Program): void {
  const op = 'convInt8Into';
  if (!(packed instanceof PackedConvInt8)) fail('E_ARG', `${op}: packed must be a PackedConvInt8 (from packConvInt8), got ${describe(packed)}`);
  if (options === null || typeof options !== 'object') fail('E_ARG', `${op}: options must be an object, got ${describe(options)}`);
  if (program !== undefined && !(program instanceof Program)) fail('E_ARG', `${op}: program must be a Program, got ${describe(program)}`);
  const xi = operandInfo(x, op, 'x'), oi = operandInfo(out, op, 'out');
  if (xi.dtype !== 'uint8' && xi.dtype !== 'int8') fail('E_DTYPE', `${op}: x must be uint8 or int8, got ${xi.dtype}`);
  const g = geometry(op, options);
  const shape = outputShapeOf(op, xi.shape, packed, g);
  const stage = options.stage ?? null;
  if (stage !== null && !(stage instanceof OutputStage)) fail('E_ARG', `${op}: stage must be an OutputStage or null, got ${describe(stage)}`);
  if (stage !== null && stage.channels !== 1 && stage.channels !== packed.m) {
    fail('E_SHAPE', `${op}: the output stage has ${stage.channels} channels, the convolution has ${packed.m} output channels`);
  }
  const outType = stage === null ? 'int32' : stage.outType;
  if (oi.dtype !== outType) fail('E_DTYPE', `${op}: out must be ${outType}${stage === null ? ' (no output stage)' : ' (the output stage\'s type)'}, got ${oi.dtype}`);
  if (oi.shape.length !== 4 || oi.shape.some((d, i) => d !== shape[i])) {
    fail('E_SHAPE', `${op}: out is [${oi.shape.join(', ')}], the output is NHWC [${shape.join(', ')}]`);
  }
  const [lo, hi] = xi.dtype === 'int8' ? [-128, 127] : [0, 255];
  const xZp = intOption(options.xZeroPoint ?? 0, op, 'xZeroPoint', lo, hi);
  if (x instanceof Tensor && out instanceof Tensor && overlaps(x.data, out.data)) fail('E_ARG', `${op}: out shares memory with x`);
  const [n, h, w, c] = xi.shape;
  const geo = Int32Array.of(...g.pads, ...g.strides, ...g.dilations);
  const rq = stage === null ? null : stage.handle;
  // A trailing undefined would count as an argument: pass the program only when recording.
  if (program === undefined) native.convS8(packed.handle, nativeOperand(x) as never, n, h, w, c, xZp, geo, nativeOperand(out) as never, rq);
  else native.convS8(packed.handle, nativeOperand(x) as never, n, h, w, c, xZp, geo, nativeOperand(out) as never, rq, program.recorder);
}

function weightsOf(op: string, w: unknown, groups: number | undefined, wZeroPoint: ParamValue | undefined): PackedConvInt8 {
  if (w instanceof PackedConvInt8) {
    if (groups !== undefined && groups !== w.groups) fail('E_ARG', `${op}: groups ${groups} differs from the ${w.groups} the weights were packed with`);
    if (wZeroPoint !== undefined && wZeroPoint !== null) {
      const given = zeroPointParam(wZeroPoint, op, 'wZeroPoint', w.dtype, [1, w.m]);
      const same = given.length === w.zeroPoint.length ? given.every((z, i) => z === w.zeroPoint[i])
        : given.every((z) => w.zeroPoint.every((p) => p === z));
      if (!same) fail('E_ARG', `${op}: wZeroPoint differs from the one the weights were packed with; pass it to packConvInt8`);
    }
    return w;
  }
  if (!isTensor(w)) fail('E_ARG', `${op}: w must be a Tensor or a PackedConvInt8, got ${describe(w)}`);
  return packConvInt8(w, { groups, wZeroPoint });
}

function outputTensor<T extends 'int32' | 'int8' | 'uint8'>(op: string, out: unknown, dtype: T, shape: number[]): Tensor<T> {
  if (out === undefined) return Tensor.zeros(dtype, shape);
  if (!isTensor(out)) fail('E_ARG', `${op}: options.out must be a Tensor, got ${describe(out)}`);
  if (out.dtype !== dtype) fail('E_DTYPE', `${op}: options.out must be ${dtype}, got ${out.dtype}`);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    fail('E_SHAPE', `${op}: options.out is [${out.shape.join(', ')}], the output is [${shape.join(', ')}]`);
  }
  return out as Tensor<T>;
}

export interface ConvIntegerOptions extends ConvGeometry {
  /** ONNX `group`, when w is a Tensor (packed weights carry theirs). */
  groups?: number;
  /** Activation zero point: one value in x's type (default 0). */
  xZeroPoint?: ParamValue;
  /** Weight zero point: one value or one per output channel (default 0). */
  wZeroPoint?: ParamValue;
  /** An int32 NHWC tensor of the output shape to write into and return. */
  out?: Tensor<'int32'>;
}

/**
 * ONNX ConvInteger on NHWC activations: (x - xZeroPoint) * (w - wZeroPoint) summed
 * in exact int32. x: uint8/int8 [N, H, W, C]; w: [M, C/groups, kh, kw] or packed.
 * Returns int32 [N, OH, OW, M].
 */
export function convInteger(x: Tensor, w: Tensor | PackedConvInt8, options: ConvIntegerOptions = {}): Tensor<'int32'> {
  const op = 'convInteger';
  expectTensor(x, op, 'x', ['int8', 'uint8']);
  if (options === null || typeof options !== 'object') fail('E_ARG', `${op}: options must be an object, got ${describe(options)}`);
  const packed = weightsOf(op, w, options.groups, options.wZeroPoint);
  const xZp = zeroPointParam(options.xZeroPoint, op, 'xZeroPoint', x.dtype as Int8Type, [1]);
  const g = geometry(op, options);
  const y = outputTensor(op, options.out, 'int32', outputShapeOf(op, x.shape, packed, g));
  if (y.size > 0) convInt8Into(x, packed, y, { ...g, xZeroPoint: xZp[0], stage: null });
  return y;
}

export interface QLinearConvOptions extends ConvGeometry {
  /** ONNX `group`, when w is a Tensor. */
  groups?: number;
  /** A fused activation as an output range in y's type (ReLU: min = yZeroPoint). */
  min?: number;
  max?: number;
  /** 'fp32' (ONNX, default) or 'fixedpoint' (TFLite multipliers from the same scales). */
  mode?: RequantMode;
  /** A tensor of y's type and the output shape to write into and return. */
  out?: Tensor<'int8' | 'uint8'>;
}

/** The output stage of QLinearConv: combined scales as onnxruntime computes them. */
function qlinearStage(op: string, xScale: ParamValue, wScale: ParamValue, yScale: ParamValue, yZeroPoint: number,
                      outType: Int8Type, m: number, bias: ParamValue | undefined, options: QLinearConvOptions): OutputStage {
  const sx = scaleParam(xScale, op, 'xScale', [1]);
  const sw = scaleParam(wScale, op, 'wScale', [1, m]);
  const sy = scaleParam(yScale, op, 'yScale', [1]);
  // float32, in onnxruntime's order: (xScale * wScale[i]) / yScale.
  const scale = sw.map((s) => Math.fround(Math.fround(sx[0] * s) / sy[0]));
  let biasValues: Int32Array | undefined;
  if (bias !== undefined && bias !== null) {
    if (isTensor(bias) && bias.dtype !== 'int32') fail('E_DTYPE', `${op}: bias must be int32, got ${bias.dtype}`);
    const b = isTensor(bias) ? Array.from(bias.data as Int32Array) : typeof bias === 'number' ? [bias] : Array.from(bias as ArrayLike<number>, Number);
    if (b.length !== m) fail('E_SHAPE', `${op}: bias has ${b.length} values, expected ${m} (one per output channel)`);
    b.forEach((v, i) => intOption(v, op, `bias[${i}]`, -2147483648, 2147483647));
    biasValues = Int32Array.from(b);
  }
  const mode = options.mode ?? 'fp32';
  return new OutputStage({ mode, scale, zeroPoint: yZeroPoint, outType, bias: biasValues, min: options.min, max: options.max });
}

function outputTypeOf(op: string, x: Tensor, yZeroPoint: ParamValue | undefined): Int8Type {
  return isTensor(yZeroPoint) ? (expectTensor(yZeroPoint, op, 'yZeroPoint', ['int8', 'uint8']).dtype as Int8Type) : (x.dtype as Int8Type);
}

/**
 * ONNX QLinearConv on NHWC activations:
 * y = saturate(round((x - xZp) * (w - wZp) * xScale * wScale / yScale + bias-term) + yZp),
 * rounding half to even, with the combined scale computed in float32 as
 * onnxruntime does. x: uint8/int8 [N, H, W, C]; w: [M, C/groups, kh, kw] or packed;
 * wScale / wZeroPoint: one value or one per output channel; bias: int32 [M].
 * y has yZeroPoint's type when it is a Tensor, else x's. Returns NHWC [N, OH, OW, M].
 */
export function qlinearConv(x: Tensor, xScale: ParamValue, xZeroPoint: ParamValue | undefined,
                            w: Tensor | PackedConvInt8, wScale: ParamValue, wZeroPoint: ParamValue | undefined,
                            yScale: ParamValue, yZeroPoint?: ParamValue, bias?: ParamValue,
                            options: QLinearConvOptions = {}): Tensor<'int8' | 'uint8'> {
  const op = 'qlinearConv';
  expectTensor(x, op, 'x', ['int8', 'uint8']);
  if (options === null || typeof options !== 'object') fail('E_ARG', `${op}: options must be an object, got ${describe(options)}`);
  const packed = weightsOf(op, w, options.groups, wZeroPoint);
  const xZp = zeroPointParam(xZeroPoint, op, 'xZeroPoint', x.dtype as Int8Type, [1]);
  const outType = outputTypeOf(op, x, yZeroPoint);
  const yZp = zeroPointParam(yZeroPoint, op, 'yZeroPoint', outType, [1]);
  const stage = qlinearStage(op, xScale, wScale, yScale, yZp[0], outType, packed.m, bias, options);
  const g = geometry(op, options);
  const y = outputTensor(op, options.out, outType, outputShapeOf(op, x.shape, packed, g));
  if (y.size > 0) convInt8Into(x, packed, y, { ...g, xZeroPoint: xZp[0], stage });
  return y;
}

// ---- ONNX layout (NCHW) conveniences ----------------------------------------

/** ONNX Conv attributes (2-D, or 1-D with a single spatial axis). */
export interface OnnxConvAttributes {
  group?: number;
  /** [x1_begin, x2_begin, x1_end, x2_end] (2-D) or [begin, end] (1-D). */
  pads?: readonly number[];
  strides?: readonly number[];
  dilations?: readonly number[];
  kernel_shape?: readonly number[];
  auto_pad?: 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER';
}

function transpose4<T extends Tensor>(t: T, perm: [number, number, number, number]): T {
  const s = t.shape;
  const shape = perm.map((p) => s[p]);
  const src = t.data as ArrayLike<number>;
  const dst = new (arrayClass(t.dtype))(t.size);
  const strides = [s[1] * s[2] * s[3], s[2] * s[3], s[3], 1];
  const ps = perm.map((p) => strides[p]);
  let i = 0;
  for (let a = 0; a < shape[0]; a++) {
    for (let b = 0; b < shape[1]; b++) {
      for (let c = 0; c < shape[2]; c++) {
        const base = a * ps[0] + b * ps[1] + c * ps[2];
        for (let d = 0; d < shape[3]; d++) dst[i++] = src[base + d * ps[3]];
      }
    }
  }
  return new Tensor(t.dtype, dst, shape) as T;
}

interface NchwCall {
  x: Tensor;            // NHWC
  w: Tensor;            // [M, C/g, kh, kw]
  oneD: boolean;
  groups: number;
  geometry: Geometry;
}

/** Checks ONNX attributes and brings x (and w) to 2-D NHWC form; resolves auto_pad. */
function nchwCall(op: string, x: Tensor, w: Tensor, attrs: OnnxConvAttributes): NchwCall {
  expectTensor(x, op, 'x', ['int8', 'uint8']);
  expectTensor(w, op, 'w', ['int8', 'uint8']);
  if (attrs === null || typeof attrs !== 'object') fail('E_ARG', `${op}: attributes must be an object, got ${describe(attrs)}`);
  if (x.rank !== 3 && x.rank !== 4) fail('E_SHAPE', `${op}: x must be NCHW [N, C, H, W] (or [N, C, L]), got [${x.shape.join(', ')}]`);
  if (w.rank !== x.rank) fail('E_SHAPE', `${op}: w must have rank ${x.rank} like x, got [${w.shape.join(', ')}]`);
  const oneD = x.rank === 3;
  const x4 = oneD ? x.reshape([x.shape[0], x.shape[1], 1, x.shape[2]]) : x;
  const w4 = oneD ? w.reshape([w.shape[0], w.shape[1], 1, w.shape[2]]) : w;
  const spatial = oneD ? 1 : 2;
  const kernel = [w4.shape[2], w4.shape[3]];
  if (attrs.kernel_shape !== undefined) {
    const ks = intList(attrs.kernel_shape, op, 'kernel_shape', spatial, 1, 1);
    if (ks.some((k, i) => k !== w.shape[2 + i])) fail('E_SHAPE', `${op}: kernel_shape [${ks.join(', ')}] does not match w [${w.shape.join(', ')}]`);
  }
  const lift = (v: readonly number[] | undefined, name: string, length: number, lo: number, dflt: number): number[] => {
    const a = intList(v, op, name, length * spatial, lo, dflt);
    if (!oneD) return a;
    return length === 1 ? [1, a[0]] : [0, a[0], 0, a[1]];
  };
  const strides = lift(attrs.strides, 'strides', 1, 1, 1) as [number, number];
  const dilations = lift(attrs.dilations, 'dilations', 1, 1, 1) as [number, number];
  let pads = lift(attrs.pads, 'pads', 2, 0, 0) as [number, number, number, number];
  const autoPad = attrs.auto_pad ?? 'NOTSET';
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(autoPad)) fail('E_ARG', `${op}: unknown auto_pad ${String(autoPad)}`);
  if (autoPad !== 'NOTSET') {
    if (attrs.pads !== undefined) fail('E_ARG', `${op}: pads and auto_pad ${autoPad} cannot both be given`);
    pads = [0, 0, 0, 0];
    if (autoPad !== 'VALID') {
      const input = [x4.shape[2], x4.shape[3]];
      for (let i = 0; i < 2; i++) {
        const out = Math.ceil(input[i] / strides[i]);
        const total = Math.max(0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - input[i]);
        const small = Math.floor(total / 2);
        pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
        pads[i + 2] = total - pads[i];
      }
    }
  }
  const groups = intOption(attrs.group ?? 1, op, 'group', 1, Math.max(1, w.shape[0]));
  if (x4.shape[1] !== groups * w4.shape[1]) {
    fail('E_SHAPE', `${op}: x has ${x4.shape[1]} channels, w [${w.shape.join(', ')}] with group ${groups} expects ${groups * w4.shape[1]}`);
  }
  return { x: transpose4(x4, [0, 2, 3, 1]), w: w4, oneD, groups, geometry: { pads, strides, dilations } };
}

function toNchw<T extends Tensor>(y: T, oneD: boolean): T {
  const t = transpose4(y, [0, 3, 1, 2]);
  return (oneD ? t.reshape([t.shape[0], t.shape[1], t.shape[3]]) : t) as T;
}

/**
 * ONNX QLinearConv, NCHW in and out, exactly as the operator is specified (and
 * as onnxruntime computes it). w: [M, C/group, kh, kw]; bias: int32 [M].
 */
export function qlinearConvNchw(x: Tensor, xScale: ParamValue, xZeroPoint: ParamValue | undefined,
                                w: Tensor, wScale: ParamValue, wZeroPoint: ParamValue | undefined,
                                yScale: ParamValue, yZeroPoint?: ParamValue, bias?: ParamValue,
                                attrs: OnnxConvAttributes = {}): Tensor<'int8' | 'uint8'> {
  const op = 'qlinearConvNchw';
  const c = nchwCall(op, x, w, attrs);
  const y = qlinearConv(c.x, xScale, xZeroPoint, c.w, wScale, wZeroPoint, yScale, yZeroPoint, bias,
    { groups: c.groups, ...c.geometry });
  return toNchw(y, c.oneD);
}

/** ONNX ConvInteger, NCHW in and out. w: [M, C/group, kh, kw]; wZeroPoint: one or one per output channel. */
export function convIntegerNchw(x: Tensor, w: Tensor, xZeroPoint?: ParamValue, wZeroPoint?: ParamValue,
                                attrs: OnnxConvAttributes = {}): Tensor<'int32'> {
  const op = 'convIntegerNchw';
  const c = nchwCall(op, x, w, attrs);
  const y = convInteger(c.x, c.w, { groups: c.groups, xZeroPoint, wZeroPoint, ...c.geometry });
  return toNchw(y, c.oneD);
}
