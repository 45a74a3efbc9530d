// Argument checks shared by the ops: every public op validates in JavaScript
// first, so errors name the parameter; the addon checks again and trusts nothing.
import { fail } from '../errors';
import { integerRange } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';

/** A scale or zero point: a number, a list, a typed array or a tensor. */
export type ParamValue = number | readonly number[] | Float32Array | Int32Array | Int8Array | Uint8Array | Tensor;

export function isTensor(v: unknown): v is Tensor {
  return v instanceof Tensor;
}

export function expectTensor(v: unknown, op: string, name: string, dtypes: readonly string[]): Tensor {
  if (!isTensor(v)) fail('E_ARG', `${op}: ${name} must be a Tensor, got ${describe(v)}`);
  if (!dtypes.includes(v.dtype)) fail('E_DTYPE', `${op}: ${name} must be ${dtypes.join(' or ')}, got ${v.dtype}`);
  return v;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

function values(v: ParamValue, op: string, name: string): number[] {
  if (typeof v === 'number') return [v];
  if (isTensor(v)) {
    if (v.dtype === 'bit') fail('E_DTYPE', `${op}: ${name} cannot be a bit tensor`);
    return Array.from(v.data as ArrayLike<number>);
  }
  if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) return Array.from(v as ArrayLike<number>, Number);
  fail('E_ARG', `${op}: ${name} must be a number, an array or a Tensor, got ${describe(v)}`);
}

/** Scales: positive finite float32 values, 1 or `count` of them. */
export function scaleParam(v: ParamValue | undefined, op: string, name: string, counts: readonly number[]): Float32Array {
  if (v === undefined || v === null) fail('E_ARG', `${op}: ${name} is required`);
  const raw = values(v, op, name);
  if (!counts.includes(raw.length)) fail('E_SHAPE', `${op}: ${name} has ${raw.length} values, expected ${[...new Set(counts)].join(' or ')}`);
  const out = Float32Array.from(raw);
  for (const [i, s] of out.entries()) {
    if (!(s > 0) || !Number.isFinite(s)) fail('E_RANGE', `${op}: ${name}[${i}] must be a positive finite number, got ${raw[i]}`);
  }
  return out;
}

/** Zero points: integers in the dtype's range, 1 or `count` of them (default one 0). */
export function zeroPointParam(v: ParamValue | undefined, op: string, name: string, dtype: 'int8' | 'uint8' | 'int32', counts: readonly number[]): Int32Array {
  if (v === undefined || v === null) return new Int32Array(1);
  if (isTensor(v) && v.dtype !== dtype) fail('E_DTYPE', `${op}: ${name} must be ${dtype} like its input, got ${v.dtype}`);
  const raw = values(v, op, name);
  if (!counts.includes(raw.length)) fail('E_SHAPE', `${op}: ${name} has ${raw.length} values, expected ${[...new Set(counts)].join(' or ')}`);
  const [lo, hi] = integerRange(dtype);
  for (const [i, z] of raw.entries()) {
    if (!Number.isInteger(z) || z < lo || z > hi) fail('E_RANGE', `${op}: ${name}[${i}] = ${z} is not an integer in the ${dtype} range [${lo}, ${hi}]`);
  }
  return Int32Array.from(raw);
}

/** An integer option within [lo, hi]. */
export function intOption(v: unknown, op: string, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    fail('E_RANGE', `${op}: ${name} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  }
  return v;
}

/** Normalises a possibly negative axis for a tensor of rank `rank`. */
export function axisParam(axis: unknown, rank: number, op: string): number {
  const a = intOption(axis, op, 'axis', -Math.max(rank, 1), Math.max(rank - 1, 0));
  return a < 0 ? a + rank : a;
}

/** [outer, channels, inner] of a tensor around one axis. */
export function splitAt(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}
