// Binary (1-bit) operators: sign packing, XNOR-popcount convolution and GEMM
// with a fused per-channel output transform, and BinaryConnect GEMM (binary
// weights, int8/uint8/float32 activations). The arithmetic is in docs/binary.md.
//
// A value's sign is one bit (0 = +1, 1 = -1; sign(x) = -1 exactly when x < 0),
// packed along the last (reduction) axis into 64-bit words. Per output channel c:
//   v = float32(float32(alpha[c] * dot) + beta[c])
// then `output` picks float32 (v), int8 (ONNX QuantizeLinear of v with yScale,
// yZeroPoint) or bit (-1 exactly when v < threshold[c]).
import type { BinaryOutputKind, NativeBinaryOutput, NativeBinaryWeightMatrix, NativeBinaryWeights } from '../../binding';
import { fail } from '../errors';
import { native } from '../native';
import { bitRowBytes, type DType } from '../tensor/dtype';
import { shapeSize, storageLength, Tensor } from '../tensor/tensor';
import { invoke, native_, sameShape, shapeString } from './operand';
import { describe, expectTensor, intOption, isTensor, ParamValue } from './params';
import { isSlot, Operand, Program } from './program';

export type { BinaryOutputKind };

/** The per-output-channel transform of a binary layer. */
export interface BinaryOutputOptions {
  /** Scale per output channel (XNOR-Net alpha, folded batch norm): one value or one per channel. Default 1. */
  alpha?: ParamValue;
  /** Offset per output channel (folded batch norm, bias). Default 0. */
  beta?: ParamValue;
  /** 'float32' (default), 'int8' (requantized: needs yScale) or 'bit' (re-binarized for the next binary layer). */
  output?: BinaryOutputKind;
  /** 'bit' output: -1 where v < threshold. One value or one per channel. Default 0. */
  threshold?: ParamValue;
  /** 'int8' output: q = saturate(round_half_even(v / yScale) + yZeroPoint). */
  yScale?: number;
  yZeroPoint?: number;
}

export interface BinaryConv2dOptions extends BinaryOutputOptions {
  /** [strideH, strideW] or one value. Default 1. */
  strides?: number | readonly number[];
  /** [dilationH, dilationW] or one value. Default 1. */
  dilations?: number | readonly number[];
  /** [top, left, bottom, right] (ONNX order) or one value for all four. Default 0. */
  pads?: number | readonly number[];
  /**
   * 'zero' (default): the border holds zeros, as in the float model (exact,
   * through a per-position correction); 'one': the border holds +1.
   */
  padding?: 'zero' | 'one';
  /** Layout of float32/int8 weights: 'OHWI' (default, channels-last) or 'OIHW' (ONNX Conv). */
  weightLayout?: 'OHWI' | 'OIHW';
}

/** Options accepted with already packed weights: only a preallocated output. */
export interface RunOptions {
  /** A tensor of the output's dtype and shape to write into (returned). */
  out?: Tensor;
}

const OUTPUT_KINDS: readonly BinaryOutputKind[] = ['float32', 'int8', 'bit'];
const OUTPUT_OPTION_KEYS = ['alpha', 'beta', 'output', 'threshold', 'yScale', 'yZeroPoint'];
const CONV_OPTION_KEYS = [...OUTPUT_OPTION_KEYS, 'strides', 'dilations', 'pads', 'padding', 'weightLayout'];

function checkOptions(options: unknown, op: string, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail('E_ARG', `${op}: options must be an object`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      fail('E_ARG', `${op}: unknown option '${key}' (expected ${allowed.join(', ')})`);
    }
  }
  return options as Record<string, unknown>;
}

/** Float parameters: 1 or `n` values, each passing `check`. */
function floatParam(v: ParamValue | undefined, dflt: number, op: string, name: string, n: number,
                    check: (x: number) => boolean, expected: string): Float32Array {
  if (v === undefined || v === null) return Float32Array.of(dflt);
  let raw: number[];
  if (typeof v === 'number') raw = [v];
  else if (isTensor(v)) {
    if (v.dtype === 'bit') fail('E_DTYPE', `${op}: ${name} cannot be a bit tensor`);
    raw = Array.from(v.data as ArrayLike<number>);
  } else if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) raw = Array.from(v as ArrayLike<number>, Number);
  else fail('E_ARG', `${op}: ${name} must be a number, an array or a Tensor, got ${describe(v)}`);
  if (raw.length !== 1 && raw.length !== n) fail('E_SHAPE', `${op}: ${name} has ${raw.length} values, expected 1 or ${n}`);
  raw.forEach((x, i) => {
    if (typeof x !== 'number' || !check(x)) fail('E_RANGE', `${op}: ${name}[${i}] must be ${expected}, got ${String(x)}`);
  });
  const out = Float32Array.from(raw);
  out.forEach((x, i) => {
    if (!check(x)) fail('E_RANGE', `${op}: ${name}[${i}] = ${raw[i]} is not ${expected} in float32`);
  });
  return out;
}

/** The output stage described by the options, for n output channels. */
class OutputStage {
  readonly kind: BinaryOutputKind;
  readonly handle: NativeBinaryOutput;

  constructor(op: string, o: BinaryOutputOptions, n: number) {
    const kind = o.output ?? 'float32';
    if (!OUTPUT_KINDS.includes(kind)) fail('E_ARG', `${op}: output must be 'float32', 'int8' or 'bit', got ${String(kind)}`);
    const finite = (x: number) => Number.isFinite(x);
    const alpha = floatParam(o.alpha, 1, op, 'alpha', n, finite, 'a finite number');
    const beta = floatParam(o.beta, 0, op, 'beta', n, finite, 'a finite number');
    if (o.threshold !== undefined && kind !== 'bit') fail('E_ARG', `${op}: threshold applies to output 'bit' only`);
    const threshold = floatParam(o.threshold, 0, op, 'threshold', n, (x) => !Number.isNaN(x), 'a number (not NaN)');
    let yScale = 1, yZeroPoint = 0;
    if (kind === 'int8') {
      if (o.yScale === undefined) fail('E_ARG', `${op}: output 'int8' needs yScale`);
      yScale = o.yScale;
      if (typeof yScale !== 'number' || !(Math.fround(yScale) > 0) || !Number.isFinite(Math.fround(yScale))) {
        fail('E_RANGE', `${op}: yScale must be a positive finite float32, got ${String(o.yScale)}`);
      }
      yZeroPoint = intOption(o.yZeroPoint ?? 0, op, 'yZeroPoint', -128, 127);
    } else if (o.yScale !== undefined || o.yZeroPoint !== undefined) {
      fail('E_ARG', `${op}: yScale and yZeroPoint apply to output 'int8' only`);
    }
    this.kind = kind;
    this.handle = new native.BinaryOutput(kind, n, alpha, beta, threshold, yScale, yZeroPoint);
  }

  /** A fresh output tensor of this kind, or `out` after checking it. */
  outputTensor(op: string, shape: number[], out: Tensor | undefined): Tensor {
    const dtype = this.kind;
    if (out === undefined) return Tensor.zeros(dtype, shape);
    if (!isTensor(out)) fail('E_ARG', `${op}: out must be a Tensor, got ${describe(out)}`);
    if (out.dtype !== dtype) fail('E_DTYPE', `${op}: out must be ${dtype}, got ${out.dtype}`);
    if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
      fail('E_SHAPE', `${op}: out must have shape [${shape.join(', ')}], got [${out.shape.join(', ')}]`);
    }
    return out;
  }
}

/** Packed bits (a Uint8Array of rows) for signs given as float32/int8 values or a 'bit' tensor. */
function signBits(t: Tensor, rows: number, cols: number): Uint8Array {
  if (t.dtype === 'bit') return t.data as Uint8Array;
  const out = new Uint8Array(rows * bitRowBytes(cols));
  if (rows > 0) native.bitpack(t.data as Float32Array | Int8Array, rows, cols, out);
  return out;
}

/** The dtype and shape of a Tensor or Slot ('bit' included), checked against `dtypes`. */
function operandOf(x: unknown, op: string, name: string, dtypes: readonly DType[]): { dtype: DType; shape: readonly number[]; size: number } {
  let dtype: DType, shape: readonly number[];
  if (x instanceof Tensor) {
    ({ dtype, shape } = x);
  } else if (isSlot(x)) {
    ({ dtype, shape } = x);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail('E_SHAPE', `${op}: ${name}.shape must be an array of non-negative integers`);
    }
  } else {
    fail('E_ARG', `${op}: ${name} must be a Tensor or a Slot, got ${describe(x)}`);
  }
  if (!dtypes.includes(dtype)) fail('E_DTYPE', `${op}: ${name} must be ${dtypes.join(' or ')}, got ${dtype}`);
  return { dtype, shape, size: shapeSize(shape) };
}

function expectOutput(out: unknown, op: string, dtype: DType, shape: readonly number[]): void {
  const o = operandOf(out, op, 'out', [dtype]);
  if (!sameShape(o.shape, shape)) fail('E_SHAPE', `${op}: out must have shape ${shapeString(shape)}, got ${shapeString(o.shape)}`);
}

/** Running now, an output that shares memory with an input would be read after being written. */
function expectDisjoint(op: string, x: Operand, out: Operand): void {
  if (!(x instanceof Tensor && out instanceof Tensor) || x.data.buffer !== out.data.buffer) return;
  const a0 = x.data.byteOffset, a1 = a0 + x.data.byteLength, b0 = out.data.byteOffset, b1 = b0 + out.data.byteLength;
  if (a0 < b1 && b0 < a1) fail('E_ARG', `${op}: out shares memory with the input`);
}

function checkProgram(op: string, program: unknown): void {
  if (program !== undefined && !(program instanceof Program)) fail('E_ARG', `${op}: program must be a Program, got ${describe(program)}`);
}

// ---------------------------------------------------------------- packing

/** Packs the signs of x along its last axis: float32/int8 [..., C] -> bit [..., C]. */
export function bitpack(x: Tensor): Tensor<'bit'> {
  const op = 'bitpack';
  expectTensor(x, op, 'x', ['float32', 'int8']);
  if (x.rank === 0) fail('E_SHAPE', `${op}: x must have at least one dimension`);
  const out = new Tensor('bit', new Uint8Array(storageLength('bit', x.shape)), x.shape);
  bitpackInto(x, out);
  return out;
}

/**
 * bitpack as a plannable step: the signs of float32/int8 x [..., C] into the
 * 'bit' operand out of the same shape. With a Program, x and out are Slots and
 * the call is recorded.
 */
export function bitpackInto(x: Operand, out: Operand, program?: Program): void {
  const op = 'bitpackInto';
  checkProgram(op, program);
  const xi = operandOf(x, op, 'x', ['float32', 'int8']);
  if (xi.shape.length === 0) fail('E_SHAPE', `${op}: x must have at least one dimension`);
  expectOutput(out, op, 'bit', xi.shape);
  const cols = xi.shape[xi.shape.length - 1];
  if (xi.size === 0) return;
  invoke(native.bitpack, [native_(x), xi.size / cols, cols, native_(out)], program);
}

/** The +1 / -1 values of a 'bit' tensor, as float32 (default) or int8. */
export function bitunpack(x: Tensor, dtype: 'float32' | 'int8' = 'float32'): Tensor<'float32' | 'int8'> {
  const op = 'bitunpack';
  expectTensor(x, op, 'x', ['bit']);
  if (dtype !== 'float32' && dtype !== 'int8') fail('E_DTYPE', `${op}: dtype must be 'float32' or 'int8', got ${String(dtype)}`);
  if (x.rank === 0) fail('E_SHAPE', `${op}: x must have at least one dimension`);
  const out = Tensor.zeros(dtype, x.shape);
  bitunpackInto(x, out);
  return out;
}

/**
 * bitunpack as a plannable step: the +1 / -1 values of the 'bit' operand x into
 * out (float32 or int8, the same shape).
 */
export function bitunpackInto(x: Operand, out: Operand, program?: Program): void {
  const op = 'bitunpackInto';
  checkProgram(op, program);
  const xi = operandOf(x, op, 'x', ['bit']);
  if (xi.shape.length === 0) fail('E_SHAPE', `${op}: x must have at least one dimension`);
  const oi = operandOf(out, op, 'out', ['float32', 'int8']);
  if (!sameShape(oi.shape, xi.shape)) fail('E_SHAPE', `${op}: out must have shape ${shapeString(xi.shape)}, got ${shapeString(oi.shape)}`);
  const cols = xi.shape[xi.shape.length - 1];
  if (xi.size === 0) return;
  invoke(native.bitunpack, [native_(x), xi.size / cols, cols, native_(out)], program);
}

// ---------------------------------------------------------------- convolution

function pair(v: unknown, op: string, name: string, min: number, dflt: number): [number, number] {
  const list = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : fail('E_ARG', `${op}: ${name} must be a number or [h, w]`);
  if (list.length !== 2) fail('E_SHAPE', `${op}: ${name} must have 2 values [h, w], got ${list.length}`);
  return [intOption(list[0], op, `${name}[0]`, min, 1 << 20), intOption(list[1], op, `${name}[1]`, min, 1 << 20)];
}

function padList(v: unknown, op: string): [number, number, number, number] {
  const list = v === undefined ? [0, 0, 0, 0] : typeof v === 'number' ? [v, v, v, v] : Array.isArray(v) ? v : fail('E_ARG', `${op}: pads must be a number or [top, left, bottom, right]`);
  if (list.length !== 4) fail('E_SHAPE', `${op}: pads must have 4 values [top, left, bottom, right], got ${list.length}`);
  return list.map((p: unknown, i: number) => intOption(p, op, `pads[${i}]`, 0, 1 << 20)) as [number, number, number, number];
}

/** A binary convolution layer: weights packed once, geometry and output transform fixed. */
export class BinaryConv2d {
  readonly outChannels: number;
  readonly inChannels: number;
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pads: readonly [number, number, number, number];
  readonly padding: 'zero' | 'one';
  readonly output: BinaryOutputKind;
  /** @internal */
  readonly handle: NativeBinaryWeights;
  /** @internal */
  readonly stage: OutputStage;

  /** @internal use ops.packBinaryConv2d */
  constructor(w: Tensor, options: BinaryConv2dOptions) {
    const op = 'packBinaryConv2d';
    expectTensor(w, op, 'w', ['float32', 'int8', 'bit']);
    if (w.rank !== 4) fail('E_SHAPE', `${op}: w must be 4-D [Cout, kh, kw, Cin], got [${w.shape.join(', ')}]`);
    const layout = options.weightLayout ?? 'OHWI';
    if (layout !== 'OHWI' && layout !== 'OIHW') fail('E_ARG', `${op}: weightLayout must be 'OHWI' or 'OIHW', got ${String(layout)}`);
    if (layout === 'OIHW' && w.dtype === 'bit') fail('E_ARG', `${op}: a 'bit' weight tensor is packed along Cin and must be OHWI`);
    const [n, kh, kw, c] = layout === 'OHWI' ? w.shape : [w.shape[0], w.shape[2], w.shape[3], w.shape[1]];
    if (n === 0 || kh === 0 || kw === 0 || c === 0) fail('E_SHAPE', `${op}: w must not be empty, got [${w.shape.join(', ')}]`);
    if (kh > 64 || kw > 64) fail('E_RANGE', `${op}: kernel ${kh}x${kw} is above the 64x64 limit`);
    if (kh * kw * c > 1 << 24) fail('E_SHAPE', `${op}: K = kh x kw x Cin = ${kh * kw * c} is above the limit of 2^24`);
    const padding = options.padding ?? 'zero';
    if (padding !== 'zero' && padding !== 'one') fail('E_ARG', `${op}: padding must be 'zero' or 'one', got ${String(padding)}`);
    this.strides = pair(options.strides, op, 'strides', 1, 1);
    this.dilations = pair(options.dilations, op, 'dilations', 1, 1);
    this.pads = padList(options.pads, op);
    this.padding = padding;
    this.outChannels = n;
    this.inChannels = c;
    this.kernel = [kh, kw];
    this.stage = new OutputStage(op, options, n);
    this.output = this.stage.kind;
    let signs = w;
    if (layout === 'OIHW') {
      const src = w.data as Float32Array | Int8Array;
      const dst = new (src.constructor as Float32ArrayConstructor | Int8ArrayConstructor)(src.length);
      for (let o = 0; o < n; o++) for (let ci = 0; ci < c; ci++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
        dst[((o * kh + i) * kw + j) * c + ci] = src[((o * c + ci) * kh + i) * kw + j];
      }
      signs = new Tensor(w.dtype, dst, [n, kh, kw, c]);
    }
    this.handle = new native.BinaryWeights(signBits(signs, n * kh * kw, c), n, kh * kw, c);
  }

  /** The binary kernels the weights were packed for (ref, avx2, avx512vpopcnt, neon). */
  get kernelPath(): string { return this.handle.kernelPath; }
  get byteLength(): number { return this.handle.byteLength; }

  /** Output shape for an NHWC input shape. */
  outputShape(x: readonly number[]): number[] {
    const [kh, kw] = this.kernel, [sh, sw] = this.strides, [dh, dw] = this.dilations, [pt, pl, pb, pr] = this.pads;
    const oh = Math.floor((x[1] + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
    const ow = Math.floor((x[2] + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
    return [x[0], oh, ow, this.outChannels];
  }
}

/** Packs binary convolution weights [Cout, kh, kw, Cin] (signs of float32/int8, or 'bit') with the layer's options. */
export function packBinaryConv2d(w: Tensor, options: BinaryConv2dOptions = {}): BinaryConv2d {
  return new BinaryConv2d(w, checkOptions(options, 'packBinaryConv2d', CONV_OPTION_KEYS) as BinaryConv2dOptions);
}

/**
 * Binary 2-D convolution, NHWC, groups = 1: y[n, oy, ox, c] = transform_c(sum of
 * sign(x) * sign(w) over the kernel window). x: float32 or int8 (binarized on the
 * fly) or 'bit' [N, H, W, Cin]. w: packed (ops.packBinaryConv2d), or a tensor
 * packed for this call with `options`.
 */
export function binaryConv2d(x: Tensor, w: Tensor | BinaryConv2d, options: (BinaryConv2dOptions & RunOptions) | RunOptions = {}): Tensor {
  const op = 'binaryConv2d';
  let layer: BinaryConv2d;
  let out: Tensor | undefined;
  if (w instanceof BinaryConv2d) {
    out = checkOptions(options, op, ['out']).out as Tensor | undefined;
    layer = w;
  } else {
    if (!isTensor(w)) fail('E_ARG', `${op}: w must be a Tensor or a BinaryConv2d (ops.packBinaryConv2d), got ${describe(w)}`);
    const o = checkOptions(options, op, [...CONV_OPTION_KEYS, 'out']);
    out = o.out as Tensor | undefined;
    layer = new BinaryConv2d(w, o as BinaryConv2dOptions);
  }
  expectTensor(x, op, 'x', ['float32', 'int8', 'bit']);
  if (x.rank !== 4) fail('E_SHAPE', `${op}: x must be 4-D NHWC [N, H, W, C], got [${x.shape.join(', ')}]`);
  const y = layer.stage.outputTensor(op, convOutputShape(op, x.shape, layer), out);
  binaryConv2dInto(x, layer, y);
  return y;
}

/** The NHWC output shape of a layer for an NHWC input shape, checked. */
function convOutputShape(op: string, x: readonly number[], layer: BinaryConv2d): number[] {
  if (x[3] !== layer.inChannels) {
    fail('E_SHAPE', `${op}: x has ${x[3]} channels (NHWC [${x.join(', ')}]), the weights ${layer.inChannels}`);
  }
  const shape = layer.outputShape(x);
  if (!(shape[1] > 0 && shape[2] > 0)) {
    fail('E_SHAPE', `${op}: the ${layer.kernel.join('x')} kernel (dilations ${layer.dilations.join('x')}) does not fit the padded input [${x.join(', ')}]`);
  }
  return shape;
}

/**
 * The binary convolution as a plannable step. x: 'bit', float32 or int8 NHWC
 * [N, H, W, Cin]; out: NHWC [N, OH, OW, Cout] of the layer's output kind. With
 * a Program, x and out are Slots and the call is recorded (float32/int8 x is
 * binarized when the step runs).
 */
export function binaryConv2dInto(x: Operand, layer: BinaryConv2d, out: Operand, program?: Program): void {
  const op = 'binaryConv2dInto';
  if (!(layer instanceof BinaryConv2d)) fail('E_ARG', `${op}: layer must be a BinaryConv2d (ops.packBinaryConv2d), got ${describe(layer)}`);
  checkProgram(op, program);
  const xi = operandOf(x, op, 'x', ['float32', 'int8', 'bit']);
  if (xi.shape.length !== 4) fail('E_SHAPE', `${op}: x must be 4-D NHWC [N, H, W, C], got ${shapeString(xi.shape)}`);
  const shape = convOutputShape(op, xi.shape, layer);
  expectOutput(out, op, layer.output, shape);
  expectDisjoint(op, x, out);
  if (xi.size === 0) return;
  const [kh, kw] = layer.kernel, [sh, sw] = layer.strides, [dh, dw] = layer.dilations, [pt, pl, pb, pr] = layer.pads;
  const geometry = Int32Array.of(xi.shape[0], xi.shape[1], xi.shape[2], kh, kw, sh, sw, dh, dw, pt, pl, pb, pr);
  invoke(native.binaryConv2d, [layer.handle, layer.stage.handle, native_(x), geometry, layer.padding === 'zero', native_(out)], program);
}

// ---------------------------------------------------------------- GEMM

/** A binary GEMM layer: weights [N, K] (Gemm with transB = 1) packed once, output transform fixed. */
export class BinaryGemm {
  readonly n: number;
  readonly k: number;
  readonly output: BinaryOutputKind;
  /** @internal */
  readonly handle: NativeBinaryWeights;
  /** @internal */
  readonly stage: OutputStage;

  /** @internal use ops.packBinaryGemm */
  constructor(w: Tensor, options: BinaryOutputOptions) {
    const op = 'packBinaryGemm';
    expectTensor(w, op, 'w', ['float32', 'int8', 'bit']);
    if (w.rank !== 2) fail('E_SHAPE', `${op}: w must be 2-D [N, K], got [${w.shape.join(', ')}]`);
    const [n, k] = w.shape;
    if (n === 0 || k === 0) fail('E_SHAPE', `${op}: w must not be empty, got [${w.shape.join(', ')}]`);
    if (k > 1 << 24) fail('E_SHAPE', `${op}: K = ${k} is above the limit of 2^24`);
    this.n = n;
    this.k = k;
    this.stage = new OutputStage(op, options, n);
    this.output = this.stage.kind;
    this.handle = new native.BinaryWeights(signBits(w, n, k), n, 1, k);
  }

  get kernelPath(): string { return this.handle.kernelPath; }
  get byteLength(): number { return this.handle.byteLength; }
}

export function packBinaryGemm(w: Tensor, options: BinaryOutputOptions = {}): BinaryGemm {
  return new BinaryGemm(w, checkOptions(options, 'packBinaryGemm', OUTPUT_OPTION_KEYS) as BinaryOutputOptions);
}

function rowsOf(op: string, a: readonly number[], k: number, n: number): [number, number[]] {
  if (a.length < 1) fail('E_SHAPE', `${op}: a must have at least one dimension`);
  if (a[a.length - 1] !== k) fail('E_SHAPE', `${op}: a is [${a.join(', ')}], its last axis must be K = ${k}`);
  return [shapeSize(a.slice(0, -1)), [...a.slice(0, -1), n]];
}

/**
 * Binary GEMM: y[..., c] = transform_c(sum_k sign(a[..., k]) * sign(w[c, k])),
 * the XNOR-popcount dot K - 2 * popcount(a XOR w). a: float32 or int8
 * (binarized) or 'bit' [..., K]; w: packed (ops.packBinaryGemm) or [N, K].
 */
export function binaryGemm(a: Tensor, w: Tensor | BinaryGemm, options: (BinaryOutputOptions & RunOptions) | RunOptions = {}): Tensor {
  const op = 'binaryGemm';
  let layer: BinaryGemm;
  let out: Tensor | undefined;
  if (w instanceof BinaryGemm) {
    out = checkOptions(options, op, ['out']).out as Tensor | undefined;
    layer = w;
  } else {
    if (!isTensor(w)) fail('E_ARG', `${op}: w must be a Tensor or a BinaryGemm (ops.packBinaryGemm), got ${describe(w)}`);
    const o = checkOptions(options, op, [...OUTPUT_OPTION_KEYS, 'out']);
    out = o.out as Tensor | undefined;
    layer = new BinaryGemm(w, o as BinaryOutputOptions);
  }
  expectTensor(a, op, 'a', ['float32', 'int8', 'bit']);
  const [, shape] = rowsOf(op, a.shape, layer.k, layer.n);
  const y = layer.stage.outputTensor(op, shape, out);
  binaryGemmInto(a, layer, y);
  return y;
}

/**
 * The binary GEMM as a plannable step. a: 'bit', float32 or int8 [..., K];
 * out: [..., N] of the layer's output kind. With a Program, a and out are Slots
 * and the call is recorded.
 */
export function binaryGemmInto(a: Operand, layer: BinaryGemm, out: Operand, program?: Program): void {
  const op = 'binaryGemmInto';
  if (!(layer instanceof BinaryGemm)) fail('E_ARG', `${op}: layer must be a BinaryGemm (ops.packBinaryGemm), got ${describe(layer)}`);
  checkProgram(op, program);
  const ai = operandOf(a, op, 'a', ['float32', 'int8', 'bit']);
  const [m, shape] = rowsOf(op, ai.shape, layer.k, layer.n);
  expectOutput(out, op, layer.output, shape);
  expectDisjoint(op, a, out);
  if (m > 0) invoke(native.binaryGemm, [layer.handle, layer.stage.handle, native_(a), m, native_(out)], program);
}

// ---------------------------------------------------------------- BinaryConnect

/** BinaryConnect weights [N, K] (only their signs) with the output transform (alpha is the +-alpha scale). */
export class BinaryWeightGemm {
  readonly n: number;
  readonly k: number;
  readonly output: BinaryOutputKind;
  /** @internal */
  readonly handle: NativeBinaryWeightMatrix;
  /** @internal */
  readonly stage: OutputStage;

  /** @internal use ops.packBinaryWeightGemm */
  constructor(w: Tensor, options: BinaryOutputOptions) {
    const op = 'packBinaryWeightGemm';
    expectTensor(w, op, 'w', ['float32', 'int8', 'bit']);
    if (w.rank !== 2) fail('E_SHAPE', `${op}: w must be 2-D [N, K], got [${w.shape.join(', ')}]`);
    const [n, k] = w.shape;
    if (n === 0 || k === 0) fail('E_SHAPE', `${op}: w must not be empty, got [${w.shape.join(', ')}]`);
    if (k > 1 << 24 || n > 1 << 24) fail('E_SHAPE', `${op}: N and K must be at most 2^24`);
    this.n = n;
    this.k = k;
    this.stage = new OutputStage(op, options, n);
    this.output = this.stage.kind;
    this.handle = new native.BinaryWeightMatrix(signBits(w, n, k), n, k);
  }

  get kernelPath(): string { return this.handle.kernelPath; }
}

export function packBinaryWeightGemm(w: Tensor, options: BinaryOutputOptions = {}): BinaryWeightGemm {
  return new BinaryWeightGemm(w, checkOptions(options, 'packBinaryWeightGemm', OUTPUT_OPTION_KEYS) as BinaryOutputOptions);
}

export interface BinaryWeightRunOptions extends RunOptions {
  /** int8/uint8 activations: their zero point (default 0). */
  aZeroPoint?: number;
}

function activationZeroPoint(op: string, dtype: DType, v: unknown): number {
  if (v === undefined) return 0;
  if (dtype === 'float32') fail('E_ARG', `${op}: aZeroPoint applies to int8/uint8 activations only`);
  return dtype === 'int8' ? intOption(v, op, 'aZeroPoint', -128, 127) : intOption(v, op, 'aZeroPoint', 0, 255);
}

/**
 * BinaryConnect GEMM: y[..., c] = transform_c(sum_k (a[..., k] - aZeroPoint) * sign(w[c, k])).
 * a: int8 or uint8 (exact int32 sum, through the int8 GEMM kernels) or float32
 * (float32 sum in k order, every path the same); w: packed or [N, K].
 */
export function binaryWeightGemm(a: Tensor, w: Tensor | BinaryWeightGemm,
                                 options: (BinaryOutputOptions & BinaryWeightRunOptions) | BinaryWeightRunOptions = {}): Tensor {
  const op = 'binaryWeightGemm';
  let layer: BinaryWeightGemm;
  let o: Record<string, unknown>;
  if (w instanceof BinaryWeightGemm) {
    o = checkOptions(options, op, ['out', 'aZeroPoint']);
    layer = w;
  } else {
    if (!isTensor(w)) fail('E_ARG', `${op}: w must be a Tensor or a BinaryWeightGemm (ops.packBinaryWeightGemm), got ${describe(w)}`);
    o = checkOptions(options, op, [...OUTPUT_OPTION_KEYS, 'out', 'aZeroPoint']);
    layer = new BinaryWeightGemm(w, o as BinaryOutputOptions);
  }
  expectTensor(a, op, 'a', ['float32', 'int8', 'uint8']);
  const zp = activationZeroPoint(op, a.dtype, o.aZeroPoint);
  const [, shape] = rowsOf(op, a.shape, layer.k, layer.n);
  const y = layer.stage.outputTensor(op, shape, o.out as Tensor | undefined);
  binaryWeightGemmInto(a, layer, y, a.dtype === 'float32' ? {} : { aZeroPoint: zp });
  return y;
}

/**
 * BinaryConnect GEMM as a plannable step. a: int8, uint8 or float32 [..., K];
 * out: [..., N] of the layer's output kind. With a Program, a and out are Slots
 * and the call is recorded.
 */
export function binaryWeightGemmInto(a: Operand, layer: BinaryWeightGemm, out: Operand, options: { aZeroPoint?: number } = {},
                                     program?: Program): void {
  const op = 'binaryWeightGemmInto';
  if (!(layer instanceof BinaryWeightGemm)) fail('E_ARG', `${op}: layer must be a BinaryWeightGemm (ops.packBinaryWeightGemm), got ${describe(layer)}`);
  const o = checkOptions(options, op, ['aZeroPoint']);
  checkProgram(op, program);
  const ai = operandOf(a, op, 'a', ['float32', 'int8', 'uint8']);
  const zp = activationZeroPoint(op, ai.dtype, o.aZeroPoint);
  const [m, shape] = rowsOf(op, ai.shape, layer.k, layer.n);
  expectOutput(out, op, layer.output, shape);
  expectDisjoint(op, a, out);
  if (m > 0) invoke(native.binaryWeightGemm, [layer.handle, layer.stage.handle, native_(a), m, zp, native_(out)], program);
}

/** The binary kernels the active kernel path runs: ref, avx2, avx512vpopcnt or neon. */
export function binaryKernelPath(): string {
  return native.binaryKernelPath();
}
