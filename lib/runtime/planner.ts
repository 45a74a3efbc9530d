// Plans a graph for one set of input shapes: infers shapes and layouts node by
// node, folds what is known at plan time, lays every buffer out in one arena,
// and records each kernel call into a Program.
import { fail, LowbitError } from '../errors';
import { describeNode, Graph, Node } from '../graph/ir';
import { Program, Slot } from '../ops/program';
import type { Operand } from '../ops/program';
import type { DType } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { handlerFor } from './handlers';
import { permuteTensor } from './tensor-utils';
import { bytesOf, elementCount, Layout, layoutIsFree, physicalShape, root, RtValue, storageBytes } from './value';

/**
 * One kernel call: reads `inputs`, writes `outputs` (tensors in physical order).
 * `emit` runs it at once when given Tensors, or records it into `program`.
 */
export interface Step {
  label: string;
  inputs: RtValue[];
  outputs: RtValue[];
  emit(inputs: Operand[], outputs: Operand[], program?: Program): void;
}

export type Handler = (p: Planner, node: Node, inputs: (RtValue | undefined)[]) => RtValue[];

export interface PlannedOutput {
  name: string;
  dtype: DType;
  shape: number[];
  offset: number;
}

export interface Plan {
  program: Program;
  inputs: { name: string; offset: number; bytes: number }[];
  /** inputs' offsets, as a run passes them. */
  inputOffsets: number[];
  outputs: PlannedOutput[];
  /** Steps in order, for inspection. */
  labels: string[];
}

const ALIGN = 64;

export class Planner {
  readonly values = new Map<string, RtValue>();
  readonly steps: Step[] = [];
  private readonly nchwCopies = new Map<RtValue, RtValue>();
  private readonly nhwcCopies = new Map<RtValue, RtValue>();
  private tmp = 0;

  constructor(readonly graph: Graph,
              /** Survives across plans of one session: packed weights and the like. */
              readonly cache: Map<string, unknown>) {}

  /** Packed weights etc., made once per session. */
  cached<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }

  value(name: string): RtValue | undefined {
    return this.values.get(name);
  }

  constant(name: string, t: Tensor): RtValue {
    const v: RtValue = { name, dtype: t.dtype, shape: t.shape, layout: 'nchw', constant: t };
    this.values.set(name, v);
    return v;
  }

  /** A fresh value the planner owns (not in the graph). */
  temp(base: string, dtype: DType, shape: readonly number[], layout: Layout): RtValue {
    return { name: `${base}#${this.tmp++}`, dtype, shape: [...shape], layout: shape.length === 4 ? layout : 'nchw' };
  }

  /** A node output. */
  output(name: string, dtype: DType, shape: readonly number[], layout: Layout = 'nchw'): RtValue {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) fail('E_SHAPE', `value '${name}' would have shape [${shape.join(', ')}]`);
    }
    const v: RtValue = { name, dtype, shape: [...shape], layout: shape.length === 4 ? layout : 'nchw' };
    this.values.set(name, v);
    return v;
  }

  /** `name` shares `of`'s memory under another logical shape (same layout rules as a Reshape). */
  alias(name: string, of: RtValue, shape: readonly number[], layout: Layout = 'nchw'): RtValue {
    if (of.constant) {
      return this.constant(name, new Tensor(of.dtype, of.constant.data as never, [...shape]));
    }
    const v: RtValue = { name, dtype: of.dtype, shape: [...shape], layout: shape.length === 4 ? layout : 'nchw', aliasOf: of };
    this.values.set(name, v);
    return v;
  }

  /**
   * Adds a kernel call. When every input is known at plan time the step runs
   * now (constant folding) and its outputs become constants; returns the
   * outputs to use either way.
   */
  step(label: string, inputs: RtValue[], outputs: RtValue[], emit: Step['emit']): RtValue[] {
    if (inputs.length > 0 && inputs.every((v) => v.constant !== undefined)) {
      const ins = inputs.map((v) => physicalTensor(v));
      const outs = outputs.map((v) => Tensor.zeros(v.dtype, physicalShape(v)));
      emit(ins, outs);
      return outputs.map((v, i) => {
        const t = v.layout === 'nhwc' ? permuteTensor(outs[i], [0, 3, 1, 2]) : outs[i];
        return this.constant(v.name, new Tensor(v.dtype, t.data as never, [...v.shape]));
      });
    }
    this.steps.push({ label, inputs, outputs, emit });
    return outputs;
  }

  /** The value in the wanted layout: itself, a free alias, a transposed constant, or a transpose step. */
  toLayout(v: RtValue, layout: Layout, transpose: (p: Planner, from: RtValue, to: RtValue) => void): RtValue {
    if (v.shape.length !== 4 || v.layout === layout) return v;
    const cache = layout === 'nchw' ? this.nchwCopies : this.nhwcCopies;
    const hit = cache.get(v);
    if (hit) return hit;
    let out: RtValue;
    if (v.constant) {
      // Constants stay in logical (NCHW) order; physicalTensor() permutes on use.
      out = { ...v, name: `${v.name}#${layout}`, layout };
    } else if (layoutIsFree(v.shape)) {
      out = { name: `${v.name}#${layout}`, dtype: v.dtype, shape: v.shape, layout, aliasOf: v };
    } else {
      out = this.temp(v.name, v.dtype, v.shape, layout);
      transpose(this, v, out);
    }
    cache.set(v, out);
    return out;
  }

  /** Plans one node: its inputs must be planned already; errors name the node. */
  planNode(node: Node): void {
    const inputs = node.inputs.map((name) => {
      if (name === '') return undefined;
      const v = this.value(name);
      if (!v) fail('E_MODEL_INVALID', `${describeNode(node)} reads '${name}', which nothing produces`);
      return v;
    });
    const handler = handlerFor(node);
    if (!handler) fail('E_UNSUPPORTED_OP', `${describeNode(node)} is not supported by lowbit`);
    try {
      handler(this, node, inputs);
    } catch (err) {
      if (err instanceof LowbitError && !err.message.includes(node.name)) throw new LowbitError(err.code, `${describeNode(node)}: ${err.message}`);
      throw err;
    }
  }

  fail(node: Node, message: string): never {
    fail('E_UNSUPPORTED_OP', `${describeNode(node)}: ${message}`);
  }

  /** Assigns arena offsets and records every step into a new Program. */
  finish(inputNames: string[], outputNames: string[]): Plan {
    const last = new Map<RtValue, number>();
    const first = new Map<RtValue, number>();
    const touch = (v: RtValue, i: number) => {
      if (v.constant) return;
      const r = root(v);
      if (!first.has(r)) first.set(r, i);
      last.set(r, Math.max(last.get(r) ?? i, i));
    };
    const inputs = inputNames.map((n) => this.values.get(n)!);
    inputs.forEach((v) => touch(v, -1));
    this.steps.forEach((s, i) => {
      s.outputs.forEach((v) => touch(v, i));
      s.inputs.forEach((v) => touch(v, i));
    });
    const outputs = outputNames.map((n) => this.values.get(n)!);
    outputs.forEach((v) => touch(v, this.steps.length));

    // Greedy first fit over lifetimes, in order of definition.
    const roots = [...first.keys()].sort((a, b) => first.get(a)! - first.get(b)!);
    const offsets = new Map<RtValue, number>();
    const live: { start: number; end: number; until: number }[] = [];
    let arena = 0;
    for (const r of roots) {
      const bytes = Math.max(ALIGN, Math.ceil(storageBytes(r) / ALIGN) * ALIGN);
      const born = first.get(r)!;
      for (let i = live.length - 1; i >= 0; i--) if (live[i].until < born) live.splice(i, 1);
      live.sort((a, b) => a.start - b.start);
      let at = 0;
      for (const b of live) {
        if (b.start - at >= bytes) break;
        at = Math.max(at, b.end);
      }
      live.push({ start: at, end: at + bytes, until: last.get(r)! });
      offsets.set(r, at);
      arena = Math.max(arena, at + bytes);
    }

    const program = new Program(arena);
    const constSlots = new Map<Tensor, Slot>();
    const slotOf = (v: RtValue): Slot => {
      const shape = physicalShape(v);
      if (v.constant) {
        const t = physicalTensor(v);
        const key = v.layout === 'nhwc' ? t : v.constant;
        let s = constSlots.get(key);
        if (!s) {
          s = program.constant(t);
          constSlots.set(key, s);
        }
        return { dtype: v.dtype, shape, ref: s.ref };
      }
      return { dtype: v.dtype, shape, ref: offsets.get(root(v))! };
    };
    for (const s of this.steps) s.emit(s.inputs.map(slotOf), s.outputs.map(slotOf), program);

    const plannedInputs = inputs.map((v) => ({ name: v.name, offset: offsets.get(root(v)) ?? 0, bytes: bytesOf(v.dtype, elementCount(v.shape)) }));
    return {
      program,
      inputs: plannedInputs,
      inputOffsets: plannedInputs.map((i) => i.offset),
      outputs: outputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: [...v.shape], offset: v.constant ? -1 : offsets.get(root(v))! })),
      labels: this.steps.map((s) => s.label),
    };
  }
}

/** A constant value's data in its physical order. */
export function physicalTensor(v: RtValue): Tensor {
  const t = v.constant!;
  if (v.layout === 'nhwc' && t.shape.length === 4) return permuteTensor(t, [0, 2, 3, 1]);
  return t;
}
