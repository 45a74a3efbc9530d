// Element types and the typed arrays that hold them.

export type DType = 'float32' | 'int8' | 'uint8' | 'int32' | 'bit';

export interface DataTypeMap {
  float32: Float32Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int32: Int32Array;
  /** 1-bit signs packed along the last axis into 64-bit little-endian words (see DESIGN.md). */
  bit: Uint8Array;
}

export type TensorData = DataTypeMap[DType];

export const DTYPES: readonly DType[] = ['float32', 'int8', 'uint8', 'int32', 'bit'];

export function isDType(v: unknown): v is DType {
  return typeof v === 'string' && (DTYPES as readonly string[]).includes(v);
}

/** The typed-array class of a dtype. */
export function arrayClass(dtype: DType): Float32ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor | Int32ArrayConstructor {
  switch (dtype) {
    case 'float32': return Float32Array;
    case 'int8': return Int8Array;
    case 'uint8': case 'bit': return Uint8Array;
    case 'int32': return Int32Array;
  }
}

/** The dtype a typed array holds (a Uint8Array is 'uint8'). */
export function dtypeOfArray(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int32Array) return 'int32';
  return undefined;
}

/** Integer range of an integer dtype. */
export function integerRange(dtype: 'int8' | 'uint8' | 'int32'): [number, number] {
  switch (dtype) {
    case 'int8': return [-128, 127];
    case 'uint8': return [0, 255];
    case 'int32': return [-2147483648, 2147483647];
  }
}

/** Bytes per row of a 'bit' tensor whose last axis holds `bits` values. */
export function bitRowBytes(bits: number): number {
  return Math.ceil(bits / 64) * 8;
}
