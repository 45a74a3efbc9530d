// NumPy .npy files (format 1.0-3.0, little-endian float32 / int32 / int64 /
// uint8 / int8, C order) as Tensors: calibration batches prepared in Python.
import * as fs from 'node:fs';
import { fail } from '../../errors';
import { Tensor } from '../../tensor/tensor';

export function parseNpy(bytes: Uint8Array, what = 'npy'): Tensor {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) fail('E_ARG', `${what}: not a .npy file`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(start, start + headerLen)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) fail('E_ARG', `${what}: unreadable header`);
  if (fortran === 'True') fail('E_UNSUPPORTED', `${what}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail('E_ARG', `${what}: bad shape (${shapeText}) in the header`);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = bytes.slice(start + headerLen);
  const need = (n: number) => {
    if (data.byteLength < n * count) fail('E_ARG', `${what}: ${data.byteLength} data bytes for ${count} elements of ${descr}`);
  };
  switch (descr) {
    case '<f4': need(4); return new Tensor('float32', new Float32Array(data.buffer, 0, count), shape);
    case '<i4': need(4); return new Tensor('int32', new Int32Array(data.buffer, 0, count), shape);
    case '|u1': need(1); return new Tensor('uint8', new Uint8Array(data.buffer, 0, count), shape);
    case '|i1': need(1); return new Tensor('int8', new Int8Array(data.buffer, 0, count), shape);
    case '<f8': need(8); return new Tensor('float32', Float32Array.from(new Float64Array(data.buffer, 0, count)), shape);
    case '<i8': {
      need(8);
      const v = new BigInt64Array(data.buffer, 0, count);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        if (v[i] < -2147483648n || v[i] > 2147483647n) fail('E_UNSUPPORTED', `${what}: int64 value ${v[i]} does not fit int32`);
        out[i] = Number(v[i]);
      }
      return new Tensor('int32', out, shape);
    }
    default: fail('E_UNSUPPORTED', `${what}: element type ${descr} is not supported (float32, float64, int32, int64, uint8, int8)`);
  }
}

export function readNpy(file: string): Tensor {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    fail('E_ARG', `cannot read ${file}: ${(err as Error).message}`);
  }
  return parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}
