// Tensor: a dtype, a shape and contiguous data, optionally with quantization
// parameters. The constructor mirrors onnxruntime's `new Tensor(type, data, dims)`.
import { fail } from '../errors';
import { arrayClass, bitRowBytes, DataTypeMap, DType, integerRange, isDType, TensorData } from './dtype';

/** real = scale * (q - zeroPoint); per tensor (one value) or per channel along `axis`. */
export interface QuantParams {
  scale: number | readonly number[] | Float32Array;
  zeroPoint?: number | readonly number[] | Int32Array;
  axis?: number;
}

/** Normalised quantization parameters. */
export interface Quantization {
  readonly scale: Float32Array;
  readonly zeroPoint: Int32Array;
  /** The channel axis, or undefined for per-tensor parameters. */
  readonly axis?: number;
}

export type Shape = readonly number[];

function checkShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape) && !(ArrayBuffer.isView(shape) && !(shape instanceof DataView))) {
    fail('E_ARG', `${what} must be an array of non-negative integers`);
  }
  const src = shape as ArrayLike<unknown>;
  const dims = new Array<number>(src.length);
  let size = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = Number(src[i]);
    dims[i] = d;
    if (!Number.isSafeInteger(d) || d < 0) {
      fail('E_SHAPE', `${what}[${i}] must be a non-negative integer, got ${String((shape as ArrayLike<unknown>)[i])}`);
    }
    size *= d;
    if (size > Number.MAX_SAFE_INTEGER) fail('E_SHAPE', `${what} [${dims.join(', ')}] has too many elements`);
  }
  return dims;
}

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Number of data elements (bytes for 'bit') that a tensor of this shape holds. */
export function storageLength(dtype: DType, shape: Shape): number {
  if (dtype !== 'bit') return shapeSize(shape);
  if (shape.length === 0) return bitRowBytes(1);
  const last = shape[shape.length - 1];
  return (shapeSize(shape) / (last || 1)) * (last === 0 ? 0 : bitRowBytes(last));
}

export class Tensor<T extends DType = DType> {
  readonly dtype: T;
  readonly data: DataTypeMap[T];
  readonly shape: readonly number[];
  /** Element count (the product of the shape). */
  readonly size: number;
  readonly quantization?: Quantization;

  /**
   * @param dtype element type
   * @param data a typed array of that type (or plain numbers, converted), contiguous, row-major
   * @param shape dimensions; defaults to [data.length]
   * @param quant optional quantization parameters
   */
  constructor(dtype: T, data: DataTypeMap[T] | ArrayLike<number>, shape?: Shape, quant?: QuantParams) {
    if (!isDType(dtype)) fail('E_DTYPE', `Tensor: unknown dtype ${JSON.stringify(dtype)} (expected float32, int8, uint8, int32 or bit)`);
    const Ctor = arrayClass(dtype);
    let array: TensorData;
    if (data instanceof Ctor && !(dtype === 'uint8' && data instanceof Uint8ClampedArray)) {
      array = data as TensorData;
    } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
      fail('E_DTYPE', `Tensor: ${dtype} data must be a ${Ctor.name}, got ${data.constructor.name}`);
    } else if (Array.isArray(data)) {
      if (dtype === 'bit') fail('E_DTYPE', "Tensor: 'bit' data must be a Uint8Array of packed words (use ops.bitpack)");
      for (let i = 0; i < data.length; i++) {
        if (typeof data[i] !== 'number') fail('E_ARG', `Tensor: data[${i}] is not a number`);
      }
      array = Ctor.from(data as number[]);
    } else {
      fail('E_ARG', `Tensor: data must be a typed array or an array of numbers`);
    }
    const dims = shape === undefined ? (dtype === 'bit' ? fail('E_SHAPE', "Tensor: a 'bit' tensor needs its shape") : [array.length]) : checkShape(shape, 'Tensor: shape');
    const expected = storageLength(dtype, dims);
    if (array.length !== expected) {
      fail('E_SHAPE', `Tensor: shape [${dims.join(', ')}] needs ${expected} ${dtype === 'bit' ? 'bytes of packed bits' : 'elements'}, data has ${array.length}`);
    }
    this.dtype = dtype;
    this.data = array as DataTypeMap[T];
    this.shape = Object.freeze(dims);
    this.size = shapeSize(dims);
    if (quant !== undefined) this.quantization = normalizeQuant(quant, dims, dtype);
  }

  /** onnxruntime-style aliases. */
  get dims(): readonly number[] { return this.shape; }
  get type(): T { return this.dtype; }
  get rank(): number { return this.shape.length; }

  static zeros<T extends DType>(dtype: T, shape: Shape): Tensor<T> {
    const dims = checkShape(shape, 'Tensor.zeros: shape');
    const Ctor = arrayClass(dtype);
    return new Tensor(dtype, new Ctor(storageLength(dtype, dims)) as DataTypeMap[T], dims);
  }

  /** A tensor sharing this data with another shape; one dimension may be -1. */
  reshape(shape: Shape): Tensor<T> {
    const dims = Array.from(shape, Number);
    const inferred = dims.indexOf(-1);
    if (inferred >= 0) {
      if (dims.indexOf(-1, inferred + 1) >= 0) fail('E_SHAPE', 'reshape: only one dimension may be -1');
      const rest = shapeSize(dims.filter((_, i) => i !== inferred));
      if (rest === 0 || this.size % rest !== 0) fail('E_SHAPE', `reshape: cannot reshape [${this.shape.join(', ')}] to [${dims.join(', ')}]`);
      dims[inferred] = this.size / rest;
    }
    const checked = checkShape(dims, 'reshape: shape');
    if (shapeSize(checked) !== this.size) {
      fail('E_SHAPE', `reshape: [${this.shape.join(', ')}] has ${this.size} elements, [${checked.join(', ')}] has ${shapeSize(checked)}`);
    }
    if (this.dtype === 'bit' && checked[checked.length - 1] !== this.shape[this.shape.length - 1]) {
      fail('E_SHAPE', "reshape: a 'bit' tensor keeps its last (packed) axis");
    }
    const q = this.quantization;
    return new Tensor(this.dtype, this.data, checked, q && (q.axis === undefined || checked.length === this.shape.length)
      ? { scale: q.scale, zeroPoint: q.zeroPoint, axis: q.axis } : undefined);
  }

  /** The values as nested arrays (numpy's tolist); 'bit' tensors give +1 / -1. */
  toArray(): unknown {
    const flat = this.dtype === 'bit' ? unpackSigns(this.data as Uint8Array, this.shape) : Array.from(this.data as ArrayLike<number>);
    if (this.shape.length === 0) return flat[0];
    const build = (axis: number, offset: number): unknown[] => {
      const n = this.shape[axis];
      if (axis === this.shape.length - 1) return flat.slice(offset, offset + n);
      const stride = shapeSize(this.shape.slice(axis + 1));
      return Array.from({ length: n }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

function unpackSigns(bytes: Uint8Array, shape: Shape): number[] {
  const last = shape.length === 0 ? 1 : shape[shape.length - 1];
  const rows = last === 0 ? 0 : shapeSize(shape) / last;
  const rowBytes = bitRowBytes(last);
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < last; j++) {
      const bit = (bytes[r * rowBytes + (j >> 3)] >> (j & 7)) & 1;
      out.push(bit ? -1 : 1);
    }
  }
  return out;
}

function toFloat32Array(v: number | readonly number[] | Float32Array, what: string): Float32Array {
  const a = typeof v === 'number' ? Float32Array.of(v) : Float32Array.from(v);
  if (a.length === 0) fail('E_SHAPE', `${what} is empty`);
  return a;
}

/** Checks and normalises quantization parameters for a tensor of this shape and dtype. */
export function normalizeQuant(q: QuantParams, shape: Shape, dtype: DType): Quantization {
  if (q === null || typeof q !== 'object') fail('E_ARG', 'quantization parameters must be an object {scale, zeroPoint?, axis?}');
  const scale = toFloat32Array(q.scale, 'quantization scale');
  for (const [i, s] of scale.entries()) {
    if (!(s > 0) || !Number.isFinite(s)) fail('E_RANGE', `quantization scale[${i}] must be a positive finite number, got ${s}`);
  }
  const zp = q.zeroPoint === undefined ? new Int32Array(scale.length) : Int32Array.from(typeof q.zeroPoint === 'number' ? [q.zeroPoint] : q.zeroPoint);
  if (zp.length !== scale.length) fail('E_SHAPE', `quantization zeroPoint has ${zp.length} values, scale has ${scale.length}`);
  if (dtype === 'int8' || dtype === 'uint8' || dtype === 'int32') {
    const [lo, hi] = integerRange(dtype);
    for (const [i, z] of zp.entries()) {
      if (!Number.isInteger(z) || z < lo || z > hi) fail('E_RANGE', `quantization zeroPoint[${i}] = ${z} is outside the ${dtype} range`);
    }
  }
  if (scale.length === 1 && q.axis === undefined) return { scale, zeroPoint: zp };
  const rank = shape.length;
  const axis = q.axis === undefined ? fail('E_ARG', 'per-channel quantization needs an axis') : q.axis < 0 ? q.axis + rank : q.axis;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) fail('E_RANGE', `quantization axis ${q.axis} is out of range for rank ${rank}`);
  if (scale.length !== 1 && scale.length !== shape[axis]) {
    fail('E_SHAPE', `quantization has ${scale.length} scales, axis ${axis} has ${shape[axis]} channels`);
  }
  return { scale, zeroPoint: zp, axis };
}
