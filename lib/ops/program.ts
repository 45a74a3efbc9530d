// Programs: a graph planned once per input shape, run as one native call.
//
// The runtime plans buffers (arena offsets) and then calls each op's `...Into`
// function with Slots instead of Tensors and a Program last; the op binding
// records its kernel call as a step instead of running it (native/addon/op_call.h).
// Ops stay the only code that reaches native compute.
import type { NativeProgram, NativeRunPart, NativeSlot } from '../../binding';
import { fail } from '../errors';
import { native } from '../native';
import type { DType } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';

/** A tensor's place in a planned run: an arena offset (ref >= 0) or a program constant (ref < 0). */
export interface Slot extends NativeSlot {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** What an op's `...Into` function accepts: a Tensor now, or a Slot when recording. */
export type Operand = Tensor | Slot;

export function isSlot(x: unknown): x is Slot {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && typeof (x as Slot).ref === 'number';
}

/** The native argument for an operand: a typed array or the slot itself. */
export function nativeOperand(x: Operand): ArrayBufferView | NativeSlot {
  return x instanceof Tensor ? x.data : x;
}

/** One part of a batch split: a program and where its inputs and outputs go. */
export interface RunPart {
  program: Program;
  inputs: ArrayBufferView[];
  inputOffsets: number[];
  outputs: ArrayBufferView[];
  outputOffsets: number[];
}

export class Program {
  /** @internal */
  readonly handle: NativeProgram;
  private sealed = false;

  constructor(arenaBytes: number) {
    if (!Number.isSafeInteger(arenaBytes) || arenaBytes < 0) fail('E_ARG', `Program: arenaBytes must be a non-negative integer, got ${arenaBytes}`);
    this.handle = new native.Program();
    this.handle.setArenaBytes(arenaBytes);
  }

  /** Copies a tensor into program-owned memory; returns its slot. */
  constant(t: Tensor): Slot {
    const id = this.handle.addConstant(t.data);
    return { dtype: t.dtype, shape: t.shape, ref: -(id + 1) };
  }

  get stepCount(): number { return this.handle.stepCount; }
  get arenaBytes(): number { return this.handle.arenaBytes; }
  /** Rough operation count of one run. */
  get cost(): number { return this.handle.cost; }
  labels(): string[] { return this.handle.labels(); }
  /** Time every step of the runs that follow (off by default). */
  setProfiling(on: boolean): void { this.handle.setProfiling(on); }
  /** Seconds per step (with its label), summed since profiling was turned on. */
  profile(): { label: string; seconds: number }[] {
    const s = this.handle.profile(), labels = this.handle.labels();
    return labels.map((label, i) => ({ label, seconds: s[i] ?? 0 }));
  }

  runSync(inputs: ArrayBufferView[], inputOffsets: number[], outputs: ArrayBufferView[], outputOffsets: number[]): void {
    this.sealed = true;
    this.handle.runSync(inputs, inputOffsets, outputs, outputOffsets);
  }

  /** singleThread: keep this run's kernels on its own worker thread (for concurrent runs over parts of a batch). */
  run(inputs: ArrayBufferView[], inputOffsets: number[], outputs: ArrayBufferView[], outputOffsets: number[], singleThread = false): Promise<void> {
    this.sealed = true;
    // A trailing argument counts: pass it only when set.
    return singleThread ? this.handle.run(inputs, inputOffsets, outputs, outputOffsets, true) : this.handle.run(inputs, inputOffsets, outputs, outputOffsets);
  }

  /**
   * Runs the parts of one batch together, one thread each, with a single
   * hand-off off the event loop (async) or on the calling thread (sync).
   */
  static runParts(parts: RunPart[], async: true): Promise<void>;
  static runParts(parts: RunPart[], async: false): void;
  static runParts(parts: RunPart[], async: boolean): Promise<void> | void {
    const native_parts = parts.map((p): NativeRunPart => {
      p.program.sealed = true;
      return [p.program.handle, p.inputs, p.inputOffsets, p.outputs, p.outputOffsets];
    });
    return async ? native.Program.runParts(native_parts, true) : native.Program.runParts(native_parts, false);
  }

  /** @internal the native handle to pass as an op binding's last argument. */
  get recorder(): NativeProgram {
    if (this.sealed) fail('E_ARG', 'Program: steps cannot be added after the program has run');
    return this.handle;
  }
}
