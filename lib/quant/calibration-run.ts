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
import { fail } from '../errors';
import { describeNode, Graph } from '../graph/ir';
import { optimize } from '../graph/passes';
import { AbsHistogramBuffer, absHistogramAddInto, minMaxInto } from '../ops/stats';
import { handlerFor } from '../runtime/handlers';
import { Plan, Planner } from '../runtime/planner';
import type { Feeds } from '../runtime/session';
import { Tensor } from '../tensor/tensor';
import { ExtremesObserver, HistogramObserver, isExtremesObserver, Observer } from './observers';

/** Where one observer's batch statistics come from. */
type Sink =
  | { kind: 'extremes'; observer: ExtremesObserver; out: Float32Array }
  | { kind: 'values'; observer: Observer; out: Float32Array }
  | { kind: 'constant'; observer: Observer; data: Float32Array };

interface CalibrationPlan {
  plan: Plan;
  sinks: Sink[];
  outputArrays: ArrayBufferView[];
}

const MAX_PLANS = 16;

export class CalibrationRun {
  private readonly cache = new Map<string, unknown>();
  private readonly plans = new Map<string, CalibrationPlan>();
  private readonly inputNames: string[];
  /** Each histogram observer's state, kept natively across batches and plans. */
  private readonly histograms = new Map<HistogramObserver, AbsHistogramBuffer>();

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

  /** Runs one batch and hands its statistics to the observers. */
  async run(feeds: Feeds): Promise<void> {
    const c = this.planFor(this.check(feeds));
    const inputs = this.graph.inputs.map((i) => feeds[i.name].data as ArrayBufferView);
    await c.plan.program.run(inputs, c.plan.inputOffsets, c.outputArrays, c.plan.outputs.map((o) => o.offset));
    for (const s of c.sinks) {
      if (s.kind === 'extremes') s.observer.observeExtremes(s.out[0], s.out[1]);
      else if (s.kind === 'values') s.observer.observe(s.out);
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
    const sinks: Sink[] = [];
    const outNames: string[] = [], outArrays: ArrayBufferView[] = [];
    const observe = (name: string) => {
      const observer = this.observers.get(name);
      const v = p.value(name);
      if (!observer || !v || v.dtype !== 'float32') return;
      if (v.constant) {
        sinks.push({ kind: 'constant', observer, data: v.constant.data as Float32Array });
      } else if (observer instanceof HistogramObserver) {
        const buffer = this.histograms.get(observer)!, sample = observer.histogram.sample;
        p.step(`abs_histogram ${name}`, [v], [], (ins, _outs, program) => absHistogramAddInto(ins[0], buffer, buffer.bins, program, sample));
      } else if (isExtremesObserver(observer)) {
        const out = p.output(`${name}#minmax`, 'float32', [2]);
        p.step(`min_max ${name}`, [v], [out], (ins, outs, program) => minMaxInto(ins[0], outs[0], program));
        const data = new Float32Array(2);
        outNames.push(out.name);
        outArrays.push(data);
        sinks.push({ kind: 'extremes', observer, out: data });
      } else {
        // Any other observer gets the values (in the runtime's layout: same multiset).
        const data = new Float32Array(v.shape.reduce((a, b) => a * b, 1));
        outNames.push(name);
        outArrays.push(data);
        sinks.push({ kind: 'values', observer, out: data });
      }
    };
    for (const info of g.inputs) observe(info.name);
    for (const node of g.nodes) {
      p.planNode(node);
      for (const out of node.outputs) observe(out);
    }
    const plan = p.finish(this.inputNames, outNames);
    const c: CalibrationPlan = { plan, sinks, outputArrays: outArrays };
    if (this.plans.size >= MAX_PLANS) this.plans.delete(this.plans.keys().next().value as string);
    this.plans.set(key, c);
    return c;
  }
}
