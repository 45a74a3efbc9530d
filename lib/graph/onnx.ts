// ONNX protobuf decoding through onnx-proto (protobufjs generated from the
// official onnx.proto): ModelProto bytes in, plain objects and Tensors out.
import { onnx } from 'onnx-proto';
import { fail } from '../errors';
import { Tensor } from '../tensor/tensor';

export { onnx };

/** ONNX TensorProto.DataType names, by enum value. */
export const ONNX_DTYPE_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128',
  16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz',
  21: 'uint4', 22: 'int4', 23: 'float4e2m1', 24: 'float8e8m0', 25: 'uint2', 26: 'int2',
};

export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    fail('E_MODEL_INVALID', `not a valid ONNX model: ${(err as Error).message}`);
  }
}

export function decodeTensor(bytes: Uint8Array): onnx.TensorProto {
  try {
    return onnx.TensorProto.decode(bytes);
  } catch (err) {
    fail('E_MODEL_INVALID', `not a valid ONNX TensorProto: ${(err as Error).message}`);
  }
}

function toNumber(v: number | Long | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}
type Long = { low: number; high: number; unsigned: boolean; toNumber(): number };

/** The values of a TensorProto as a lowbit Tensor (float32, uint8, int8, int32; int64 fits int32 or fails). */
export function tensorFromProto(t: onnx.ITensorProto, what = t.name ?? 'tensor'): Tensor {
  const dims = (t.dims ?? []).map(toNumber);
  const type = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const copy = (bytes: Uint8Array) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    fail('E_UNSUPPORTED', `${what}: external data must be resolved before decoding`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  // A truncated or padded file, or a wrong shape: named here, not a RangeError from a typed array.
  const values = <T extends { length: number }>(v: T, unit: string): T => {
    if (v.length !== count) fail('E_MODEL_INVALID', `${what}: shape [${dims.join(', ')}] needs ${count} values, the data holds ${v.length} ${unit}`);
    return v;
  };
  const rawOf = (bytesPer: number) => {
    if (raw!.length !== count * bytesPer) fail('E_MODEL_INVALID', `${what}: shape [${dims.join(', ')}] needs ${count * bytesPer} bytes of data, got ${raw!.length}`);
    return copy(raw!);
  };
  switch (type) {
    case 1: return new Tensor('float32', raw ? new Float32Array(rawOf(4)) : Float32Array.from(values(t.floatData ?? [], 'floats')), dims);
    case 2: return new Tensor('uint8', raw ? new Uint8Array(rawOf(1)) : Uint8Array.from(values(t.int32Data ?? [], 'values')), dims);
    case 3: return new Tensor('int8', raw ? new Int8Array(rawOf(1)) : Int8Array.from(values(t.int32Data ?? [], 'values')), dims);
    case 6: return new Tensor('int32', raw ? new Int32Array(rawOf(4)) : Int32Array.from(values(t.int32Data ?? [], 'values')), dims);
    case 21: case 22: {
      // 4-bit values, two per byte, low nibble first (raw_data, or one byte per int32_data entry).
      const n = count;
      const bytes = raw ?? Uint8Array.from(t.int32Data ?? []);
      if (bytes.length !== Math.ceil(n / 2)) fail('E_MODEL_INVALID', `${what}: ${bytes.length} bytes of 4-bit data for ${n} values`);
      const out = type === 22 ? new Int8Array(n) : new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const nibble = (bytes[i >> 1] >> ((i & 1) * 4)) & 15;
        out[i] = type === 22 && nibble >= 8 ? nibble - 16 : nibble;
      }
      return new Tensor(type === 22 ? 'int8' : 'uint8', out, dims);
    }
    case 7: {
      const ints = raw ? Array.from(new BigInt64Array(rawOf(8)), Number) : values(t.int64Data ?? [], 'values').map(toNumber);
      for (const v of ints) {
        if (v < -2147483648 || v > 2147483647) fail('E_UNSUPPORTED', `${what}: int64 value ${v} does not fit int32`);
      }
      return new Tensor('int32', Int32Array.from(ints), dims);
    }
    default:
      fail('E_UNSUPPORTED', `${what}: element type ${ONNX_DTYPE_NAMES[type] ?? type} is not supported (lowbit tensors are float32, uint8, int8 or int32)`);
  }
}

/** The ONNX enum value of a lowbit dtype. */
export function onnxDataType(dtype: string): number {
  switch (dtype) {
    case 'float32': return 1;
    case 'uint8': return 2;
    case 'int8': return 3;
    case 'int32': return 6;
    default: fail('E_UNSUPPORTED', `no ONNX element type for ${dtype}`);
  }
}

/** A TensorProto holding a lowbit Tensor (raw little-endian data). */
export function tensorToProto(name: string, t: Tensor): onnx.TensorProto {
  const d = t.data as ArrayBufferView;
  return onnx.TensorProto.create({
    name,
    dims: [...t.shape],
    dataType: onnxDataType(t.dtype),
    rawData: new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)),
  });
}

/** A TensorProto of 4-bit values (int8 values in [-8, 7] -> INT4, uint8 in [0, 15] -> UINT4), two per byte, low nibble first. */
export function tensorToProto4(name: string, t: Tensor): onnx.TensorProto {
  const signed = t.dtype === 'int8';
  if (!signed && t.dtype !== 'uint8') fail('E_DTYPE', `${name}: 4-bit tensors hold int8 or uint8 values, got ${t.dtype}`);
  const v = t.data as Int8Array | Uint8Array;
  const packed = new Uint8Array(Math.ceil(v.length / 2));
  for (let i = 0; i < v.length; i++) {
    if (signed ? v[i] < -8 || v[i] > 7 : v[i] > 15) fail('E_RANGE', `${name}: value ${v[i]} at ${i} does not fit 4 bits`);
    packed[i >> 1] |= (v[i] & 15) << ((i & 1) * 4);
  }
  return onnx.TensorProto.create({ name, dims: [...t.shape], dataType: signed ? 22 : 21, rawData: packed });
}
