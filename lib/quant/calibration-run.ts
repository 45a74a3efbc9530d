// The fp32 model run for calibration, with each observed activation's batch
// statistics computed inside the run: a min/max or |x| histogram step is
// recorded into the model's native Program right after the step that makes
// the activation, while its data is still in cache.
//
// The alternative (a Session returning every activation as an extra output)
// keeps all of them alive at once, transposes NHWC ones back to NCHW and copies
// them out to fresh arrays every batch: for a small CNN, ~10x the cost of the
// inference itself. Statistics do not depend on element order, so they are taken
// in whatever layout the runtime keeps a value, and only a few bytes per
// activation (min/max) leave the run; histogram states stay in native memory
// (AbsHistogramBuffer) that the steps of every run and every plan update in
// place, and are copied into the observers once, by collect().
//
// With more than one thread, consecutive batches run at once, one thread each
// (kernels single-threaded; Program.runParts, as Session's batch split): small
// CNN layers split across threads ran slower than on one. The observers still
// take the batches in order, so the ranges do not depend on the thread count:
// min/max results go to them batch by batch after the run, and each histogram
// step waits for its batch's turn (AbsHistogramBuffer.pass).
import { fail } from '../errors';
import { describeNode, Graph } from '../graph/ir';
import { optimize } from '../graph/passes';
import { AbsHistogramBuffer, absHistogramAddInto, minMaxInto } from '../ops/stats';
import { native } from '../native';
import { handlerFor } from '../runtime/handlers';
import { Program, type RunPart } from '../ops/program';
import { Plan, Planner } from '../runtime/planner';
import type { Feeds } from '../runtime/session';
import { Tensor } from '../tensor/tensor';
import { ExtremesObserver, HistogramObserver, isExtremesObserver, Observer } from './observers';

/** Where one observer's batch statistics come from (`output`: an index into the run's outputs). */
type Sink =
  | { kind: 'extremes'; observer: ExtremesObserver; output: number }
  | { kind: 'values'; observer: Observer; output: number }
  | { kind: 'constant'; observer: Observer; data: Float32Array };

interface CalibrationPlan {
  plan: Plan;
  sinks: Sink[];
  /** Element counts of the run's outputs (float32), fresh arrays each batch. */
  outputSizes: number[];
}

/** A batch handed over: its inputs (the turn last) and fresh output arrays. */
interface PendingBatch {
  c: CalibrationPlan;
  turn: number;
  inputs: ArrayBufferView[];
  outputs: Float32Array[];
  /** Copies of the inputs (spares to give back once run), for a batch that waited for its group. */
  copies?: ArrayBufferView[];
}

const MAX_PLANS = 16;
/** The plan input holding the batch's turn (its number in the calibration). */
const TURN = '#turn';
/** Below this many operations a batch runs alone, with the whole pool (as Session's batch split). */
const MIN_CONCURRENT_COST = 1e6;

export class CalibrationRun {
  private readonly cache = new Map<string, unknown>();
  private readonly plans = new Map<string, CalibrationPlan>();
  private readonly inputNames: string[];
  /** Each histogram observer's state, kept natively across batches and plans. */
  private readonly histograms = new Map<HistogramObserver, AbsHistogramBuffer>();
  /** Batches handed over so far (the next batch's turn). */
  private turns = 0;
  /** Batches gathered to run together, one thread each. */
  private readonly group: PendingBatch[] = [];
  /** Arrays for copies of inputs, by kind and size, reused batch after batch. */
  private readonly spares = new Map<string, ArrayBufferView[]>();

  /** graph: a copy this run may change (passes run on it). */
  constructor(private readonly graph: Graph, private readonly observers: Map<string, Observer>) {
    const known = new Set<string>([...graph.inputs.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)]);
    // As graph outputs, observed values stay materialised: passes do not fuse them away.
    for (const name of observers.keys()) {
      if (!known.has(name)) fail('E_ARG', `calibration: '${name}' is not a value of the model`);
      if (!graph.isGraphOutput(name)) graph.outputs.push({ name, dtype: 'float32', shape: [] });
    }
    optimize(graph);
    for (const n of graph.nodes) {
      if (!handlerFor(n)) fail('E_UNSUPPORTED_OP', `${describeNode(n)} is not supported by lowbit${n.domain ? '' : ` (opset ${graph.opset})`}`);
    }
    this.inputNames = graph.inputs.map((i) => i.name);
    for (const o of observers.values()) {
      if (!(o instanceof HistogramObserver) || this.histograms.has(o)) continue;
      const buffer = new AbsHistogramBuffer(o.histogram.bins);
      buffer.write(o.histogram.state);
      this.histograms.set(o, buffer);
    }
  }

  /**
   * Copies the histogram states kept natively into their observers' own
   * arrays: call it after the last batch, before asking histogram observers
   * for ranges (min-max observers are up to date after every run).
   */
  collect(): void {
    for (const [o, buffer] of this.histograms) buffer.read(o.histogram.state);
  }

  /**
   * Hands one batch over (its inputs are copied before it returns: the caller
   * may reuse its arrays). With more than one thread, batches are gathered and
   * run a group at a time (Program.runParts), one thread each: a group of
   * `threads` batches, or fewer at drain(). Errors of a batch come out of a
   * later add() or of drain(), which the caller awaits after the last batch.
   */
  async add(feeds: Feeds): Promise<void> {
    const c = this.planFor(this.check(feeds));
    const threads = native.getThreads();
    const concurrent = threads > 1 && c.plan.program.cost >= MIN_CONCURRENT_COST;
    const turn = this.turns++;
    const batch: PendingBatch = {
      c,
      turn,
      inputs: [...this.graph.inputs.map((i) => feeds[i.name].data as ArrayBufferView), Float32Array.of(turn)],
      outputs: c.outputSizes.map((n) => new Float32Array(n)),
    };
    if (!concurrent) {
      // Alone, with the whole pool: after every batch before it.
      await this.drain();
      await this.observeInOrder([batch], c.plan.program.run(batch.inputs, c.plan.inputOffsets, batch.outputs, c.plan.outputs.map((o) => o.offset)));
      return;
    }
    this.group.push(batch);
    if (this.group.length >= threads) {
      await this.flush();
    } else {
      // It waits for the rest of its group: keep a copy, the caller may refill its arrays.
      batch.copies = batch.inputs.map((a) => this.copyOf(a));
      batch.inputs = batch.copies;
    }
  }

  /** A copy of `a` in a spare array of its kind (fresh arrays of a batch's size cost page faults and GC). */
  private copyOf(a: ArrayBufferView): ArrayBufferView {
    const key = `${a.constructor.name}:${a.byteLength}`;
    const copy = this.spares.get(key)?.pop() ?? new (a.constructor as new (n: number) => Uint8Array)(a.byteLength / (a as Uint8Array).BYTES_PER_ELEMENT);
    (copy as Uint8Array).set(a as Uint8Array);
    return copy;
  }

  private release(copies: ArrayBufferView[]): void {
    for (const a of copies) {
      const key = `${a.constructor.name}:${a.byteLength}`;
      const list = this.spares.get(key) ?? [];
      if (list.length < 4) list.push(a);
      this.spares.set(key, list);
    }
  }

  /** Runs what is gathered and waits for every batch: its statistics are then with the observers. */
  async drain(): Promise<void> {
    await this.flush();
  }

  private async flush(): Promise<void> {
    const group = this.group.splice(0);
    if (group.length === 0) return;
    const parts = group.map((b): RunPart => ({
      program: b.c.plan.program,
      inputs: b.inputs,
      inputOffsets: b.c.plan.inputOffsets,
      outputs: b.outputs,
      outputOffsets: b.c.plan.outputs.map((o) => o.offset),
    }));
    try {
      await this.observeInOrder(group, Program.runParts(parts, true));
    } finally {
      for (const b of group) if (b.copies) this.release(b.copies);
    }
  }

  /** After `ran`, the batches' statistics to the observers, in order; every histogram then lets the next turn go. */
  private async observeInOrder(batches: PendingBatch[], ran: Promise<void>): Promise<void> {
    let error: unknown;
    try {
      await ran;
      for (const b of batches) this.observe(b.c, b.outputs);
    } catch (e) {
      error = e;
    }
    // Histograms these runs did not add to (all of them after a failure) let later turns go.
    for (const b of batches) for (const buffer of this.histograms.values()) buffer.pass(b.turn);
    if (error !== undefined) throw error;
  }

  private observe(c: CalibrationPlan, outputs: Float32Array[]): void {
    for (const s of c.sinks) {
      if (s.kind === 'extremes') s.observer.observeExtremes(outputs[s.output][0], outputs[s.output][1]);
      else if (s.kind === 'values') s.observer.observe(outputs[s.output]);
      else this.observeConstant(s.observer, s.data);
    }
  }

  private observeConstant(observer: Observer, data: Float32Array): void {
    const buffer = observer instanceof HistogramObserver ? this.histograms.get(observer) : undefined;
    // A histogram observer's state is the native one until collect(): add to that (as observe() would to its own).
    if (buffer) absHistogramAddInto(new Tensor('float32', data, [data.length]), buffer, buffer.bins, undefined, (observer as HistogramObserver).histogram.sample);
    else observer.observe(data);
  }

  private check(feeds: Feeds): Record<string, readonly number[]> {
    if (feeds === null || typeof feeds !== 'object') fail('E_ARG', 'calibration: each batch must be an object of input name -> Tensor');
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) fail('E_ARG', `calibration: '${name}' is not an input of the model (inputs: ${this.inputNames.join(', ')})`);
    }
    const shapes: Record<string, readonly number[]> = {};
    for (const info of this.graph.inputs) {
      const t = feeds[info.name];
      if (!(t instanceof Tensor)) fail('E_ARG', `calibration: input '${info.name}' is missing or not a Tensor`);
      if (t.dtype !== info.dtype) fail('E_DTYPE', `calibration: input '${info.name}' must be ${info.dtype}, got ${t.dtype}`);
      if (t.shape.length !== info.shape.length || info.shape.some((d, i) => typeof d === 'number' && d !== t.shape[i])) {
        fail('E_SHAPE', `calibration: input '${info.name}' must have shape [${info.shape.join(', ')}], got [${t.shape.join(', ')}]`);
      }
      shapes[info.name] = t.shape;
    }
    return shapes;
  }

  private planFor(shapes: Record<string, readonly number[]>): CalibrationPlan {
    const key = this.inputNames.map((n) => shapes[n].join('x')).join(';');
    const hit = this.plans.get(key);
    if (hit) return hit;
    const g = this.graph;
    const p = new Planner(g, this.cache);
    for (const [name, t] of g.constants) p.constant(name, t);
    for (const info of g.inputs) p.values.set(info.name, { name: info.name, dtype: info.dtype, shape: [...shapes[info.name]], layout: 'nchw' });
    const turn = { name: TURN, dtype: 'float32' as const, shape: [1], layout: 'nchw' as const };
    p.values.set(TURN, turn);
    const sinks: Sink[] = [];
    const outNames: string[] = [], outputSizes: number[] = [];
    const observe = (name: string) => {
      const observer = this.observers.get(name);
      const v = p.value(name);
      if (!observer || !v || v.dtype !== 'float32') return;
      if (v.constant) {
        sinks.push({ kind: 'constant', observer, data: v.constant.data as Float32Array });
      } else if (observer instanceof HistogramObserver) {
        const buffer = this.histograms.get(observer)!, sample = observer.histogram.sample;
        p.step(`abs_histogram ${name}`, [v, turn], [], (ins, _outs, program) => absHistogramAddInto(ins[0], buffer, buffer.bins, program, sample, ins[1]));
      } else if (isExtremesObserver(observer)) {
        const out = p.output(`${name}#minmax`, 'float32', [2]);
        p.step(`min_max ${name}`, [v], [out], (ins, outs, program) => minMaxInto(ins[0], outs[0], program));
        sinks.push({ kind: 'extremes', observer, output: outNames.length });
        outNames.push(out.name);
        outputSizes.push(2);
      } else {
        // Any other observer gets the values (in the runtime's layout: same multiset).
        sinks.push({ kind: 'values', observer, output: outNames.length });
        outNames.push(name);
        outputSizes.push(v.shape.reduce((a, b) => a * b, 1));
      }
    };
    for (const info of g.inputs) observe(info.name);
    for (const node of g.nodes) {
      p.planNode(node);
      for (const out of node.outputs) observe(out);
    }
    const plan = p.finish([...this.inputNames, TURN], outNames);
    const c: CalibrationPlan = { plan, sinks, outputSizes };
    if (this.plans.size >= MAX_PLANS) this.plans.delete(this.plans.keys().next().value as string);
    this.plans.set(key, c);
    return c;
  }
}
