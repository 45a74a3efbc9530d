// ONNX Cast between float32, int32, int8 and uint8, and Identity (a copy).
//
// Rules (ONNX, with lowbit's choice where ONNX leaves it open):
// - float -> integer truncates toward zero; out-of-range values saturate to
//   the target's range and NaN becomes 0 (ONNX: undefined);
// - integer -> integer keeps the low bits (200 as int32 -> -56 as int8), as ONNX says;
// - integer -> float32 rounds to nearest even (exact below 2^24).
import { fail } from '../errors';
import { native } from '../native';
import type { DType } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { expectOut, invoke, native_, operandInfo } from './operand';
import type { Operand, Program } from './program';

const CAST_TYPES: readonly DType[] = ['float32', 'int32', 'int8', 'uint8'];

/** out = Cast(x) to out's dtype. */
export function castInto(x: Operand, out: Operand, program?: Program): void {
  const op = 'cast';
  const xi = operandInfo(x, op, 'x', CAST_TYPES);
  const oi = operandInfo(out, op, 'out', CAST_TYPES);
  expectOut(out, op, oi.dtype, xi.shape);
  invoke(native.cast, [native_(x), native_(out), xi.size], program);
}

export function cast(x: Tensor, to: DType): Tensor {
  if (!CAST_TYPES.includes(to)) fail('E_DTYPE', `cast: the target type must be ${CAST_TYPES.join(', ')}, got ${String(to)}`);
  const xi = operandInfo(x, 'cast', 'x', CAST_TYPES);
  const out = Tensor.zeros(to, xi.shape);
  castInto(x, out);
  return out;
}

/** out = x (same dtype and element count; the shapes may differ, as for Reshape/Flatten/Squeeze). */
export function copyInto(x: Operand, out: Operand, program?: Program): void {
  const op = 'copy';
  const xi = operandInfo(x, op, 'x');
  const oi = operandInfo(out, op, 'out');
  if (oi.dtype !== xi.dtype) fail('E_DTYPE', `${op}: out must be ${xi.dtype}, got ${oi.dtype}`);
  if (oi.size !== xi.size) fail('E_SHAPE', `${op}: out has ${oi.size} elements, x has ${xi.size}`);
  invoke(native.copyRows, [native_(x), xi.size, 0, 0, native_(out), oi.size, 0, 0, 1, xi.size], program);
}

/** ONNX Identity: a copy of x. */
export function identity(x: Tensor): Tensor {
  const xi = operandInfo(x, 'identity', 'x');
  const out = Tensor.zeros(xi.dtype, xi.shape);
  copyInto(x, out);
  return out;
}
