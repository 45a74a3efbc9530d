// Shared checks for the ops that take Operands (a Tensor now, or a Slot when
// recording into a Program): dtype and shape of either kind, and the one place
// that calls a binding with or without its trailing program.
import type { NativeProgram } from '../../binding';
import { fail } from '../errors';
import type { DType } from '../tensor/dtype';
import { shapeSize, Tensor } from '../tensor/tensor';
import { describe } from './params';
import { isSlot, nativeOperand, Operand, Program } from './program';

export interface OperandInfo {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly size: number;
}

/** The dtype and shape of a Tensor or Slot, checked against `dtypes` when given. */
export function operandInfo(x: unknown, op: string, name: string, dtypes?: readonly DType[]): OperandInfo {
  let dtype: DType;
  let shape: readonly number[];
  if (x instanceof Tensor) {
    dtype = x.dtype;
    shape = x.shape;
  } else if (isSlot(x)) {
    dtype = x.dtype;
    shape = x.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail('E_SHAPE', `${op}: ${name}.shape must be an array of non-negative integers`);
    }
  } else {
    fail('E_ARG', `${op}: ${name} must be a Tensor or a Slot, got ${describe(x)}`);
  }
  if (dtype === 'bit') fail('E_DTYPE', `${op}: ${name} cannot be a 'bit' tensor`);
  if (dtypes !== undefined && !dtypes.includes(dtype)) {
    fail('E_DTYPE', `${op}: ${name} must be ${dtypes.join(' or ')}, got ${dtype}`);
  }
  return { dtype, shape, size: shapeSize(shape) };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeString(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** Checks an output operand's dtype and shape. */
export function expectOut(out: unknown, op: string, dtype: DType, shape: readonly number[]): OperandInfo {
  const info = operandInfo(out, op, 'out');
  if (info.dtype !== dtype) fail('E_DTYPE', `${op}: out must be ${dtype}, got ${info.dtype}`);
  if (!sameShape(info.shape, shape)) fail('E_SHAPE', `${op}: out must have shape ${shapeString(shape)}, got ${shapeString(info.shape)}`);
  return info;
}

/** A possibly negative axis of a rank-`rank` tensor, normalised. */
export function axisOf(axis: unknown, rank: number, op: string, name = 'axis'): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= rank) {
    fail('E_RANGE', `${op}: ${name} must be an integer in [${-rank}, ${rank - 1}], got ${String(axis)}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** A list of integers (an array or an integer typed array). */
export function intList(v: unknown, op: string, name: string): number[] {
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    fail('E_ARG', `${op}: ${name} must be an array of integers, got ${describe(v)}`);
  }
  const out = Array.from(v as ArrayLike<number | bigint>, Number);
  for (const [i, x] of out.entries()) {
    if (!Number.isSafeInteger(x)) fail('E_RANGE', `${op}: ${name}[${i}] must be an integer, got ${String((v as ArrayLike<unknown>)[i])}`);
  }
  return out;
}

/** A number option (default when undefined). */
export function numberOption(v: unknown, op: string, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v)) fail('E_ARG', `${op}: ${name} must be a number, got ${String(v)}`);
  return v;
}

/** An operand argument of a binding call; invoke() checks it against the mode and unwraps it. */
class OperandArg {
  constructor(readonly x: Operand) {}
}

/** Marks an operand for invoke(): a typed array when running now, the slot when recording. */
export function native_(x: Operand): never {
  return new OperandArg(x) as never;
}

/**
 * Calls a binding now, or records it into `program` (the program goes last; a
 * trailing undefined would count as an argument, so it is passed only when
 * recording). Operands must all be Tensors (now) or all Slots (recording).
 */
export function invoke(fn: (...args: never[]) => void, args: unknown[], program?: Program): void {
  if (program !== undefined && !(program instanceof Program)) fail('E_ARG', `${fn.name}: program must be a Program, got ${describe(program)}`);
  const unwrapped = args.map((a) => {
    if (!(a instanceof OperandArg)) return a;
    if (program === undefined && isSlot(a.x)) {
      fail('E_ARG', `${fn.name}: a Slot was given without a Program: pass a Program to record the step, or Tensors to run it now`);
    }
    if (program !== undefined && a.x instanceof Tensor) {
      fail('E_ARG', `${fn.name}: a Tensor was given while recording into a Program: pass Slots (program.constant(t) for a constant)`);
    }
    return nativeOperand(a.x);
  });
  const call = fn as unknown as (...a: unknown[]) => void;
  if (program === undefined) call(...unwrapped);
  else call(...unwrapped, program.recorder as NativeProgram);
}
