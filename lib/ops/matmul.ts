// ONNX MatMulInteger and QLinearMatMul over the int8 GEMM kernels, with weights
// that can be packed once (packMatrix) and reused for every call.
import type { NativePackedMatrix } from '../../binding';
import { fail } from '../errors';
import { native } from '../native';
import { Tensor } from '../tensor/tensor';
import { describe, expectTensor, isTensor, ParamValue, scaleParam, zeroPointParam } from './params';
import { makeRequantization } from './requantize';

type Int8Type = 'int8' | 'uint8';

/** Weights [K, N] packed for the active kernel path. Pack once, run many times. */
export class PackedMatrix {
  readonly k: number;
  readonly n: number;
  readonly dtype: Int8Type;
  readonly zeroPoint: Int32Array;
  /** @internal */
  readonly handle: NativePackedMatrix;

  /** @internal use ops.packMatrix */
  constructor(b: Tensor, zeroPoint: Int32Array) {
    const [k, n] = b.shape;
    this.k = k;
    this.n = n;
    this.dtype = b.dtype as Int8Type;
    this.zeroPoint = zeroPoint;
    this.handle = new native.PackedMatrix(b.data as Int8Array | Uint8Array, k, n, zeroPoint);
  }

  /** The kernel path these weights were packed for. */
  get isa(): string { return this.handle.isa; }
  get byteLength(): number { return this.handle.byteLength; }
}

/** Packs int8/uint8 weights B [K, N] with their zero point (scalar or one per column). */
export function packMatrix(b: Tensor, bZeroPoint?: ParamValue): PackedMatrix {
  expectTensor(b, 'packMatrix', 'b', ['int8', 'uint8']);
  if (b.rank !== 2) fail('E_SHAPE', `packMatrix: b must be 2-D [K, N], got [${b.shape.join(', ')}]`);
  if (b.shape[0] === 0 || b.shape[1] === 0) fail('E_SHAPE', `packMatrix: b must not be empty, got [${b.shape.join(', ')}]`);
  const zp = zeroPointParam(bZeroPoint, 'packMatrix', 'bZeroPoint', b.dtype as Int8Type, [1, b.shape[1]]);
  return new PackedMatrix(b, zp);
}

interface Operands {
  a: Tensor;
  /** Output batch dims, M, N; flags for 1-D operands whose axis is dropped. */
  batch: number[];
  m: number;
  k: number;
  n: number;
  squeezeM: boolean;
  squeezeN: boolean;
  aBatch: number[];
  bBatch: number[];
}

function broadcastBatch(a: number[], b: number[], op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail('E_SHAPE', `${op}: batch dimensions [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function operands(op: string, a: Tensor, bShape: readonly number[]): Operands {
  if (a.rank < 1) fail('E_SHAPE', `${op}: a must have at least 1 dimension`);
  if (bShape.length < 1) fail('E_SHAPE', `${op}: b must have at least 1 dimension`);
  const squeezeM = a.rank === 1, squeezeN = bShape.length === 1;
  const aShape = squeezeM ? [1, a.shape[0]] : [...a.shape];
  const bs = squeezeN ? [bShape[0], 1] : [...bShape];
  const m = aShape[aShape.length - 2], k = aShape[aShape.length - 1];
  const kb = bs[bs.length - 2], n = bs[bs.length - 1];
  if (k !== kb) fail('E_SHAPE', `${op}: a is [${a.shape.join(', ')}] and b is [${bShape.join(', ')}]: inner dimensions ${k} and ${kb} differ`);
  const aBatch = aShape.slice(0, -2), bBatch = bs.slice(0, -2);
  return { a, batch: broadcastBatch(aBatch, bBatch, op), m, k, n, squeezeM, squeezeN, aBatch, bBatch };
}

function outputShape(o: Operands): number[] {
  const s = [...o.batch];
  if (!o.squeezeM) s.push(o.m);
  if (!o.squeezeN) s.push(o.n);
  return s;
}

/** Index of the operand batch (which may be broadcast) that feeds output batch `i`. */
function sourceBatch(i: number, out: number[], src: number[]): number {
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
 * Runs the GEMM for every output batch. With 2-D weights the batches fold into
 * the rows of one call; batched weights are packed per batch.
 */
function runBatches(o: Operands, b: Tensor | PackedMatrix, bZp: Int32Array, aZp: number,
                    out: Int32Array | Int8Array | Uint8Array, rq: ReturnType<typeof makeRequantization> | null): void {
  const aData = o.a.data as Int8Array | Uint8Array;
  if (b instanceof PackedMatrix || o.bBatch.every((d) => d === 1)) {
    const packed = b instanceof PackedMatrix ? b.handle : packFor(b, o, bZp, 0);
    if (o.aBatch.length === o.batch.length && o.aBatch.every((d, i) => d === o.batch[i])) {
      native.gemm(packed, aData, (aData.length / o.k) | 0, aZp, out, rq);
      return;
    }
  }
  const batches = o.batch.reduce((x, y) => x * y, 1);
  const mk = o.m * o.k, mn = o.m * o.n;
  const packs = new Map<number, NativePackedMatrix>();
  for (let i = 0; i < batches; i++) {
    const ai = sourceBatch(i, o.batch, o.aBatch);
    let packed: NativePackedMatrix;
    if (b instanceof PackedMatrix) {
      packed = b.handle;
    } else {
      const bi = sourceBatch(i, o.batch, o.bBatch);
      packed = packs.get(bi) ?? packFor(b, o, bZp, bi);
      packs.set(bi, packed);
    }
    native.gemm(packed, aData.subarray(ai * mk, (ai + 1) * mk), o.m, aZp, out.subarray(i * mn, (i + 1) * mn), rq);
  }
}

function packFor(b: Tensor, o: Operands, zp: Int32Array, batch: number): NativePackedMatrix {
  const kn = o.k * o.n;
  const data = (b.data as Int8Array | Uint8Array).subarray(batch * kn, (batch + 1) * kn);
  return new native.PackedMatrix(data, o.k, o.n, zp);
}

function weights(op: string, b: unknown): Tensor | PackedMatrix {
  if (b instanceof PackedMatrix) return b;
  if (!isTensor(b)) fail('E_ARG', `${op}: b must be a Tensor or a PackedMatrix, got ${describe(b)}`);
  return expectTensor(b, op, 'b', ['int8', 'uint8']);
}

function bZeroPointFor(op: string, b: Tensor | PackedMatrix, bZeroPoint: ParamValue | undefined, n: number): Int32Array {
  if (b instanceof PackedMatrix) {
    if (bZeroPoint !== undefined && bZeroPoint !== null) {
      const given = zeroPointParam(bZeroPoint, op, 'bZeroPoint', b.dtype, [1, n]);
      const same = given.length === b.zeroPoint.length && given.every((z, i) => z === b.zeroPoint[i]);
      if (!same) fail('E_ARG', `${op}: bZeroPoint differs from the one b was packed with; pass it to packMatrix`);
    }
    return b.zeroPoint;
  }
  return zeroPointParam(bZeroPoint, op, 'bZeroPoint', b.dtype as Int8Type, [1, n]);
}

/**
 * Options of matmulInteger and qlinearMatmul.
 * `out`: a tensor of the output's dtype and shape to write the result into and
 * return, instead of allocating one per call. Reusing one output buffer across
 * calls avoids the allocation, its zero fill and the page faults of fresh
 * memory, which at 512^3 cost about as much as a quarter of the GEMM itself.
 * It must not share memory with `a` (or with `b` when `b` is a Tensor).
 */
export interface MatmulOptions<T extends 'int32' | 'int8' | 'uint8' = 'int32' | 'int8' | 'uint8'> {
  out?: Tensor<T>;
}

function isOptions(v: unknown): v is MatmulOptions {
  return typeof v === 'object' && v !== null && !isTensor(v) && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function overlaps(x: ArrayBufferView, y: ArrayBufferView): boolean {
  return x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

/** The caller's output tensor, checked against the output's dtype and shape, or a new one. */
function outputTensor<T extends 'int32' | 'int8' | 'uint8'>(op: string, options: MatmulOptions | undefined, dtype: T,
                                                            shape: number[], inputs: Tensor[]): Tensor<T> {
  if (options !== undefined && !isOptions(options)) fail('E_ARG', `${op}: options must be an object, got ${describe(options)}`);
  const out = options?.out;
  if (out === undefined) return Tensor.zeros(dtype, shape);
  if (!isTensor(out)) fail('E_ARG', `${op}: options.out must be a Tensor, got ${describe(out)}`);
  if (out.dtype !== dtype) fail('E_DTYPE', `${op}: options.out must be ${dtype}, got ${out.dtype}`);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    fail('E_SHAPE', `${op}: options.out is [${out.shape.join(', ')}], the output is [${shape.join(', ')}]`);
  }
  for (const t of inputs) {
    if (overlaps(out.data, t.data)) fail('E_ARG', `${op}: options.out shares memory with an input`);
  }
  return out as Tensor<T>;
}

/**
 * ONNX MatMulInteger: (a - aZeroPoint) x (b - bZeroPoint) in exact int32.
 * a: int8/uint8 [..., M, K]; b: int8/uint8 [..., K, N] or a PackedMatrix;
 * aZeroPoint: scalar; bZeroPoint: scalar or one per column.
 * `options.out` (an int32 tensor of the output shape) is written and returned:
 * `matmulInteger(a, packed, { out })` or `matmulInteger(a, packed, za, zb, { out })`.
 */
export function matmulInteger(a: Tensor, b: Tensor | PackedMatrix, options: MatmulOptions<'int32'>): Tensor<'int32'>;
export function matmulInteger(a: Tensor, b: Tensor | PackedMatrix, aZeroPoint?: ParamValue, bZeroPoint?: ParamValue,
                              options?: MatmulOptions<'int32'>): Tensor<'int32'>;
export function matmulInteger(a: Tensor, b: Tensor | PackedMatrix, aZeroPoint?: ParamValue | MatmulOptions<'int32'>,
                              bZeroPoint?: ParamValue, options?: MatmulOptions<'int32'>): Tensor<'int32'> {
  const op = 'matmulInteger';
  if (isOptions(aZeroPoint)) {
    if (bZeroPoint !== undefined || options !== undefined) fail('E_ARG', `${op}: options come last: (a, b, options) or (a, b, aZeroPoint, bZeroPoint, options)`);
    options = aZeroPoint;
    aZeroPoint = undefined;
  }
  expectTensor(a, op, 'a', ['int8', 'uint8']);
  const w = weights(op, b);
  const o = operands(op, a, w instanceof PackedMatrix ? [w.k, w.n] : w.shape);
  const aZp = zeroPointParam(aZeroPoint, op, 'aZeroPoint', a.dtype as Int8Type, [1]);
  const bZp = bZeroPointFor(op, w, bZeroPoint, o.n);
  const y = outputTensor(op, options, 'int32', outputShape(o), w instanceof PackedMatrix ? [a] : [a, w]);
  if (y.size > 0) {
    if (o.k === 0) y.data.fill(0);
    else runBatches(o, w, bZp, aZp[0], y.data, null);
  }
  return y;
}

/**
 * ONNX QLinearMatMul: y = saturate(round((a - za)(b - zb) * aScale * bScale / yScale) + zy),
 * rounding half to even. bScale and bZeroPoint may be per column. The output
 * dtype is yZeroPoint's when it is a Tensor, else a's dtype. `options.out`, a
 * tensor of that dtype and the output shape, is written and returned.
 */
export function qlinearMatmul(a: Tensor, aScale: ParamValue, aZeroPoint: ParamValue | undefined,
                              b: Tensor | PackedMatrix, bScale: ParamValue, bZeroPoint: ParamValue | undefined,
                              yScale: ParamValue, yZeroPoint?: ParamValue,
                              options?: MatmulOptions<'int8' | 'uint8'>): Tensor<'int8' | 'uint8'> {
  const op = 'qlinearMatmul';
  expectTensor(a, op, 'a', ['int8', 'uint8']);
  const w = weights(op, b);
  const o = operands(op, a, w instanceof PackedMatrix ? [w.k, w.n] : w.shape);
  const sa = scaleParam(aScale, op, 'aScale', [1]);
  const sb = scaleParam(bScale, op, 'bScale', [1, o.n]);
  const sy = scaleParam(yScale, op, 'yScale', [1]);
  const aZp = zeroPointParam(aZeroPoint, op, 'aZeroPoint', a.dtype as Int8Type, [1]);
  const bZp = bZeroPointFor(op, w, bZeroPoint, o.n);
  const outType: Int8Type = isTensor(yZeroPoint) ? (expectTensor(yZeroPoint, op, 'yZeroPoint', ['int8', 'uint8']).dtype as Int8Type) : (a.dtype as Int8Type);
  const yZp = zeroPointParam(yZeroPoint, op, 'yZeroPoint', outType, [1]);
  // The combined scale in float32, as onnxruntime computes it: (aScale * bScale) / yScale.
  const scale = sb.map((s) => Math.fround(Math.fround(sa[0] * s) / sy[0]));
  const rq = makeRequantization(op, { mode: 'fp32', scale, zeroPoint: yZp[0], outType });
  const y = outputTensor(op, options, outType, outputShape(o), w instanceof PackedMatrix ? [a] : [a, w]);
  if (y.size > 0) {
    if (o.k === 0) y.data.fill(yZp[0]);
    else runBatches(o, w, bZp, aZp[0], y.data, rq);
  }
  return y;
}
