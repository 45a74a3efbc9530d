// The int8 GEMM as a plannable step: out[M x N] = (a[M x K] - aZeroPoint) x packed
// weights, int32 out or requantized to 8 bits. The runtime records it into a
// Program; callers with their own buffers run it at once.
import type { NativeRequantization } from '../../binding';
import { fail } from '../errors';
import { native } from '../native';
import { PackedMatrix } from './matmul';
import { nativeOperand, Operand, Program } from './program';
import { makeRequantization, RequantizeOptions } from './requantize';

/** A prepared int32 -> 8-bit output stage, reusable across calls. */
export class OutputStage {
  /** @internal */
  readonly handle: NativeRequantization;
  readonly outType: 'int8' | 'uint8';
  constructor(options: RequantizeOptions) {
    this.handle = makeRequantization('OutputStage', options);
    this.outType = options.outType ?? 'uint8';
  }
  get channels(): number { return this.handle.channels; }
}

/**
 * a: int8/uint8 [M, K] operand; b: packed [K, N]; out: int32 [M, N] without an
 * output stage, else int8/uint8 as the stage says. With a Program, records the step.
 */
export function gemmInto(b: PackedMatrix, a: Operand, m: number, aZeroPoint: number, out: Operand,
                         stage: OutputStage | null, program?: Program): void {
  if (!(b instanceof PackedMatrix)) fail('E_ARG', 'gemmInto: b must be a PackedMatrix');
  const rq = stage === null ? null : stage.handle;
  // A trailing undefined would count as an argument: pass the program only when recording.
  if (program === undefined) native.gemm(b.handle, nativeOperand(a) as never, m, aZeroPoint, nativeOperand(out) as never, rq);
  else native.gemm(b.handle, nativeOperand(a) as never, m, aZeroPoint, nativeOperand(out) as never, rq, program.recorder);
}
