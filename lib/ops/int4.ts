// int4 weight-only GEMM (docs/int4.md): y [M, N] = clamp(x [M, K] * W^T + bias),
// x float32, W int4 symmetric (-8..7) with float32 scales per output channel or
// per block of 32, 64 or 128 along K. Weights are packed once (still 4 bits per
// weight) and run on every kernel path without packing again; every path gives
// the same bits.
//
//   const q = ops.quantizeInt4(w, { axis: 1, blockSize: 32 });   // w float32 [N, K]
//   const packed = ops.packInt4Weights(q.data, { scales: q.scales, blockSize: 32 });
//   const y = ops.int4Gemm(x, packed);                            // x [..., K] -> y [..., N]
import type { NativePackedInt4 } from '../../binding';
import { fail } from '../errors';
import { native } from '../native';
import { Tensor } from '../tensor/tensor';
import { describe, expectTensor, isTensor } from './params';
import { invoke, native_, operandInfo, shapeString } from './operand';
import type { Operand, Program } from './program';

/** 'nk': weights [N, K] (output channels first); 'kn': weights [K, N] (ONNX MatMul's B). */
export type Int4Layout = 'nk' | 'kn';
/** 0 (or undefined): one scale per output channel; else a scale per block of K. */
export type Int4BlockSize = 0 | 32 | 64 | 128;

/** ONNX int4 data as stored in a model: two's complement nibbles, two per byte, low nibble first. */
export interface OnnxInt4Bytes {
  readonly format: 'onnx-int4';
  readonly data: Uint8Array;
  /** The tensor's shape, [N, K] or [K, N] as `layout` says. */
  readonly shape: readonly [number, number];
}

export interface PackInt4Options {
  /** Layout of the weights (and of blocked scales); default 'nk'. */
  layout?: Int4Layout;
  /**
   * float32 scales: N values per channel; blocked: [N, ceil(K / blockSize)] for 'nk',
   * [ceil(K / blockSize), N] for 'kn' (ONNX blocked DequantizeLinear's scale shape).
   */
  scales: Tensor | Float32Array | readonly number[];
  blockSize?: Int4BlockSize;
  /** N float32 values added to every row. */
  bias?: Tensor | Float32Array | readonly number[] | null;
}

/** int4 weights (+ scales, bias) packed once; see ops.packInt4Weights. */
export class PackedInt4 {
  readonly n: number;
  readonly k: number;
  readonly blockSize: Int4BlockSize;
  /** @internal */
  readonly handle: NativePackedInt4;

  /** @internal use ops.packInt4Weights */
  constructor(handle: NativePackedInt4) {
    this.handle = handle;
    this.n = handle.n;
    this.k = handle.k;
    this.blockSize = handle.blockSize as Int4BlockSize;
  }

  /** Bytes held natively: 4-bit weights (16-column tiles), scales and bias. */
  get byteLength(): number { return this.handle.byteLength; }
}

function blockSizeOption(op: string, v: unknown): Int4BlockSize {
  if (v === undefined || v === 0 || v === 32 || v === 64 || v === 128) return (v ?? 0) as Int4BlockSize;
  fail('E_RANGE', `${op}: blockSize must be 0 (per channel), 32, 64 or 128, got ${String(v)}`);
}

function layoutOption(op: string, v: unknown): Int4Layout {
  if (v === undefined || v === 'nk' || v === 'kn') return (v ?? 'nk') as Int4Layout;
  fail('E_ARG', `${op}: layout must be 'nk' or 'kn', got ${JSON.stringify(v)}`);
}

function floats(op: string, name: string, v: unknown, count: number): Float32Array {
  let out: Float32Array;
  if (isTensor(v)) {
    if (v.dtype !== 'float32') fail('E_DTYPE', `${op}: ${name} must be float32, got ${v.dtype}`);
    out = v.data as Float32Array;
  } else if (v instanceof Float32Array) {
    out = v;
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => { if (typeof x !== 'number') fail('E_ARG', `${op}: ${name}[${i}] is not a number`); });
    out = Float32Array.from(v as number[]);
  } else {
    fail('E_ARG', `${op}: ${name} must be a float32 Tensor, a Float32Array or an array of numbers, got ${describe(v)}`);
  }
  if (out.length !== count) fail('E_SHAPE', `${op}: ${name} has ${out.length} values, expected ${count}`);
  return out;
}

function isOnnxInt4(v: unknown): v is OnnxInt4Bytes {
  return typeof v === 'object' && v !== null && (v as OnnxInt4Bytes).format === 'onnx-int4';
}

/**
 * Packs int4 weights once: an int8 Tensor of values in [-8, 7] (from quantizeInt4),
 * or ONNX int4 bytes, shaped [N, K] (layout 'nk', default) or [K, N] ('kn').
 */
export function packInt4Weights(weights: Tensor | OnnxInt4Bytes, options: PackInt4Options): PackedInt4 {
  const op = 'packInt4Weights';
  if (typeof options !== 'object' || options === null) fail('E_ARG', `${op}: options with scales are required`);
  const layout = layoutOption(op, options.layout);
  const blockSize = blockSizeOption(op, options.blockSize);
  let shape: readonly number[];
  let data: Int8Array | Uint8Array;
  let format: 'int8' | 'onnx';
  if (isOnnxInt4(weights)) {
    if (!(weights.data instanceof Uint8Array)) fail('E_DTYPE', `${op}: onnx-int4 data must be a Uint8Array, got ${describe(weights.data)}`);
    shape = weights.shape;
    data = weights.data;
    format = 'onnx';
  } else {
    expectTensor(weights, op, 'weights', ['int8']);
    shape = weights.shape;
    data = weights.data as Int8Array;
    format = 'int8';
  }
  if (!Array.isArray(shape) || shape.length !== 2 || shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) {
    fail('E_SHAPE', `${op}: weights must be 2-D and not empty, got ${Array.isArray(shape) ? shapeString(shape) : describe(shape)}`);
  }
  const [n, k] = layout === 'nk' ? [shape[0], shape[1]] : [shape[1], shape[0]];
  if (format === 'onnx' && data.length !== Math.ceil((n * k) / 2)) {
    fail('E_SHAPE', `${op}: onnx-int4 data of shape ${shapeString(shape)} needs ${Math.ceil((n * k) / 2)} bytes, got ${data.length}`);
  }
  if (format === 'int8') {
    const bad = (data as Int8Array).findIndex((v) => v < -8 || v > 7);
    if (bad >= 0) fail('E_RANGE', `${op}: weights[${bad}] = ${data[bad]} is outside the int4 range [-8, 7]`);
  }
  const blocks = blockSize === 0 ? 1 : Math.ceil(k / blockSize);
  const scales = floats(op, 'scales', options.scales, n * blocks);
  const badScale = scales.findIndex((s) => !Number.isFinite(s));
  if (badScale >= 0) fail('E_RANGE', `${op}: scales[${badScale}] = ${scales[badScale]} is not finite`);
  const bias = options.bias === undefined || options.bias === null ? null : floats(op, 'bias', options.bias, n);
  return new PackedInt4(new native.PackedInt4(data, format, n, k, layout === 'kn', scales, blockSize, bias));
}

/** An activation fused into the output: 'relu' = clip(0, +inf), 'relu6' = clip(0, 6), or a clip. */
export type Int4Activation = 'none' | 'relu' | 'relu6' | { kind: 'clip'; min?: number; max?: number };

export interface Int4GemmOptions {
  activation?: Int4Activation;
}

function clampOf(op: string, a: Int4Activation | undefined): [number, number] {
  if (a === undefined || a === 'none') return [-Infinity, Infinity];
  if (a === 'relu') return [0, Infinity];
  if (a === 'relu6') return [0, 6];
  if (typeof a === 'object' && a !== null && a.kind === 'clip') {
    const min = a.min ?? -Infinity, max = a.max ?? Infinity;
    if (typeof min !== 'number' || Number.isNaN(min)) fail('E_RANGE', `${op}: activation clip min must be a number, got ${String(a.min)}`);
    if (typeof max !== 'number' || Number.isNaN(max)) fail('E_RANGE', `${op}: activation clip max must be a number, got ${String(a.max)}`);
    if (Math.fround(min) > Math.fround(max)) fail('E_RANGE', `${op}: activation clip min ${min} is above max ${max}`);
    return [min, max];
  }
  fail('E_ARG', `${op}: activation must be 'none', 'relu', 'relu6' or {kind: 'clip', min, max}, got ${JSON.stringify(a)}`);
}

/**
 * out [m, N] = activation(x [m, K] * dequantized weights + bias). x and out may
 * have any leading axes whose product is m. Runs now (Tensors) or records a step
 * into `program` (Slots).
 */
export function int4GemmInto(packed: PackedInt4, x: Operand, m: number, out: Operand, options: Int4GemmOptions = {},
                             program?: Program): void {
  const op = 'int4GemmInto';
  if (!(packed instanceof PackedInt4)) fail('E_ARG', `${op}: packed must be a PackedInt4 (from ops.packInt4Weights), got ${describe(packed)}`);
  if (!Number.isSafeInteger(m) || m < 0) fail('E_RANGE', `${op}: m must be a non-negative integer, got ${String(m)}`);
  const xi = operandInfo(x, op, 'x', ['float32']);
  if (xi.size !== m * packed.k || (xi.shape.length > 0 && xi.shape[xi.shape.length - 1] !== packed.k)) {
    fail('E_SHAPE', `${op}: x is ${shapeString(xi.shape)}, expected ${m} rows of K = ${packed.k}`);
  }
  const oi = operandInfo(out, op, 'out', ['float32']);
  if (oi.size !== m * packed.n || (oi.shape.length > 0 && oi.shape[oi.shape.length - 1] !== packed.n)) {
    fail('E_SHAPE', `${op}: out is ${shapeString(oi.shape)}, expected ${m} rows of N = ${packed.n}`);
  }
  const [lo, hi] = clampOf(op, options.activation);
  invoke(native.int4Gemm, [packed.handle, native_(x), m, native_(out), lo, hi], program);
}

/** x [..., K] (float32) times packed int4 weights -> a new [..., N] tensor. */
export function int4Gemm(x: Tensor, packed: PackedInt4, options: Int4GemmOptions = {}): Tensor {
  const op = 'int4Gemm';
  expectTensor(x, op, 'x', ['float32']);
  if (!(packed instanceof PackedInt4)) fail('E_ARG', `${op}: packed must be a PackedInt4 (from ops.packInt4Weights), got ${describe(packed)}`);
  if (x.rank < 1 || x.shape[x.rank - 1] !== packed.k) {
    fail('E_SHAPE', `${op}: x is ${shapeString(x.shape)}, its last axis must be K = ${packed.k}`);
  }
  const m = x.size / packed.k;
  const out = Tensor.zeros('float32', [...x.shape.slice(0, -1), packed.n]);
  int4GemmInto(packed, x, m, out, options);
  return out;
}

/** The int4 kernels the active path runs: 'ref', 'avx2', 'avx512' or 'neon'. */
export function int4KernelPath(): string {
  return native.int4KernelPath();
}

export interface QuantizeInt4Options {
  /** The K axis (reduced by the GEMM, blocked along): 1 for w [N, K], 0 for w [K, N]. */
  axis: 0 | 1;
  /** Default 0: one scale per output channel. */
  blockSize?: Int4BlockSize;
}

export interface Int4Quantized {
  /** int8 values in [-8, 7] (the quantizer uses [-7, 7]), w's shape. */
  data: Tensor<'int8'>;
  /** float32 [N, blocks] (axis 1) or [blocks, N] (axis 0). */
  scales: Tensor<'float32'>;
  blockSize: Int4BlockSize;
  /** What packInt4Weights needs to read values and scales. */
  layout: Int4Layout;
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Symmetric int4 quantization of float32 weights: per output channel, or per
 * block of K: scale = max|w| / 7 (float32; 1 for an all-zero group), q =
 * round-half-even(w / scale) clamped to [-8, 7].
 */
export function quantizeInt4(w: Tensor, options: QuantizeInt4Options): Int4Quantized {
  const op = 'quantizeInt4';
  expectTensor(w, op, 'w', ['float32']);
  if (w.rank !== 2 || w.size === 0) fail('E_SHAPE', `${op}: w must be 2-D and not empty, got ${shapeString(w.shape)}`);
  if (typeof options !== 'object' || options === null) fail('E_ARG', `${op}: options with axis are required`);
  if (options.axis !== 0 && options.axis !== 1) fail('E_RANGE', `${op}: axis (the K axis) must be 0 or 1, got ${String(options.axis)}`);
  const blockSize = blockSizeOption(op, options.blockSize);
  const kAxis = options.axis;
  const [n, k] = kAxis === 1 ? [w.shape[0], w.shape[1]] : [w.shape[1], w.shape[0]];
  const bk = blockSize === 0 ? k : blockSize;
  const blocks = Math.ceil(k / bk);
  const src = w.data as Float32Array;
  const at = (j: number, kk: number) => (kAxis === 1 ? j * k + kk : kk * n + j);
  const values = new Int8Array(n * k);
  const scales = new Float32Array(n * blocks);
  for (let j = 0; j < n; j++) {
    for (let b = 0; b < blocks; b++) {
      const k0 = b * bk, k1 = Math.min(k, k0 + bk);
      let max = 0;
      for (let kk = k0; kk < k1; kk++) {
        const v = src[at(j, kk)];
        if (!Number.isFinite(v)) fail('E_RANGE', `${op}: w[${at(j, kk)}] = ${v} is not finite`);
        max = Math.max(max, Math.abs(v));
      }
      const scale = max === 0 ? 1 : Math.fround(max / 7);
      scales[kAxis === 1 ? j * blocks + b : b * n + j] = scale;
      for (let kk = k0; kk < k1; kk++) {
        const q = roundHalfEven(src[at(j, kk)] / scale);
        values[at(j, kk)] = Math.max(-8, Math.min(7, q));
      }
    }
  }
  return {
    data: new Tensor('int8', values, w.shape),
    scales: new Tensor('float32', scales, kAxis === 1 ? [n, blocks] : [blocks, n]),
    blockSize,
    layout: kAxis === 1 ? 'nk' : 'kn',
  };
}
