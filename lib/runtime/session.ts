// Session: load an ONNX model once, run it many times.
//
// At create: import, optimise the graph (BatchNorm folding, activation and QDQ
// fusion, dead nodes), check every op is supported. Per set of input shapes
// (cached): plan shapes, layouts and one arena, pack weights once per session,
// record the kernel calls into a native Program. A run copies the feeds in,
// runs the program (off the event loop unless it is tiny) and copies outputs out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail } from '../errors';
import { describeNode, Graph, ValueInfo } from '../graph/ir';
import { importModel } from '../graph/import';
import { optimize, PassReport } from '../graph/passes';
import { native } from '../native';
import { Program, RunPart } from '../ops/program';
import { arrayClass, DType } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { batchIndependent } from './batch-split';
import { handlerFor } from './handlers';
import { Plan, Planner } from './planner';
import { toNchw } from './handlers/layout';

export interface SessionOptions {
  /** Kernel threads (process-wide, like ops.setThreads); default: one per core. */
  threads?: number;
  /** Force a kernel path (process-wide, like LOWBIT_ISA). */
  isa?: string;
  /** Run the graph passes (default true). */
  optimize?: boolean;
  /**
   * Inputs fixed at load time: they become constants, so they are folded and
   * packed once (e.g. weights or quantization parameters a model takes as inputs).
   */
  freeze?: Record<string, Tensor>;
  /**
   * Intermediate values to return as well (e.g. for calibration). They stay
   * materialised: passes do not fuse them away.
   */
  outputs?: string[];
  /**
   * With several threads, `run` and `runSync` split a batch into one part per
   * thread (each part single-threaded, all at once) when the model keeps batch items apart
   * (axis 0 of every input free, only ops that treat items independently):
   * small layers split badly inside one kernel call. Default true; the result
   * is the same either way.
   */
  batchSplit?: boolean;
}

export type Feeds = Record<string, Tensor>;
export type Results = Record<string, Tensor>;

export interface ValueMetadata {
  name: string;
  dtype: DType;
  /** Dimensions; a string is a symbolic (free) dimension. */
  shape: (number | string)[];
}

/** At most this many input-shape plans are kept per session. */
const MAX_PLANS = 16;

/** A part of a split batch must be at least this much work (program cost) to pay for its run. */
const MIN_PART_COST = 1e6;

/** Models with more constant bytes than this share one copy of their packed weights across the parts of a split batch. */
const MAX_REPLICATED_BYTES = 64 << 20;

export class Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  /** What the graph passes did. */
  readonly passes: PassReport | undefined;
  private readonly graph: Graph;
  private readonly splittable: boolean;

  /** Whether `run` may split a batch across threads (see SessionOptions.batchSplit). */
  get splitsBatches(): boolean {
    return this.splittable;
  }
  private readonly plans = new Map<string, Plan>();
  private readonly cache = new Map<string, unknown>();
  private readonly partCaches = new Map<number, Map<string, unknown>>();
  private readonly constantBytes: number;

  private constructor(graph: Graph, options: SessionOptions) {
    if (options.isa !== undefined) native.setIsa(options.isa);
    if (options.threads !== undefined) {
      if (!Number.isInteger(options.threads) || options.threads < 0) fail('E_ARG', `Session: threads must be a non-negative integer, got ${options.threads}`);
      native.setThreads(options.threads);
    }
    for (const [name, t] of Object.entries(options.freeze ?? {})) {
      const at = graph.inputs.findIndex((i) => i.name === name);
      if (at < 0) fail('E_ARG', `Session: freeze names '${name}', which is not an input (inputs: ${graph.inputs.map((i) => i.name).join(', ')})`);
      if (!(t instanceof Tensor)) fail('E_ARG', `Session: freeze['${name}'] must be a Tensor`);
      if (t.dtype !== graph.inputs[at].dtype) fail('E_DTYPE', `Session: freeze['${name}'] must be ${graph.inputs[at].dtype}, got ${t.dtype}`);
      graph.constants.set(name, t);
      graph.inputs.splice(at, 1);
    }
    const known = new Set<string>([...graph.inputs.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)]);
    for (const name of options.outputs ?? []) {
      if (!known.has(name)) fail('E_ARG', `Session: outputs names '${name}', which no node produces`);
      if (!graph.isGraphOutput(name)) graph.outputs.push({ name, dtype: 'float32', shape: [] });
    }
    this.passes = options.optimize === false ? undefined : optimize(graph);
    for (const n of graph.nodes) {
      if (!handlerFor(n)) fail('E_UNSUPPORTED_OP', `${describeNode(n)} is not supported by lowbit${n.domain ? '' : ` (opset ${graph.opset})`}`);
    }
    this.graph = graph;
    this.constantBytes = [...graph.constants.values()].reduce((a, t) => a + t.data.byteLength, 0);
    this.splittable = options.batchSplit !== false && graph.inputs.length > 0
      && graph.inputs.every((i) => i.shape.length > 0 && typeof i.shape[0] === 'string') && batchIndependent(graph);
    this.inputNames = graph.inputs.map((i) => i.name);
    this.outputNames = graph.outputs.map((o) => o.name);
    this.inputMetadata = graph.inputs.map(meta);
    this.outputMetadata = graph.outputs.map(meta);
  }

  /** Loads a model from a file path or bytes. */
  static async create(model: string | Uint8Array, options: SessionOptions = {}): Promise<Session> {
    if (typeof model === 'string') {
      const bytes = await fs.promises.readFile(model).catch((err: Error) => fail('E_ARG', `cannot read model '${model}': ${err.message}`));
      return new Session(importModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { baseDir: path.dirname(path.resolve(model)) }), options);
    }
    return Session.createSync(model, options);
  }

  static createSync(model: string | Uint8Array, options: SessionOptions = {}): Session {
    if (typeof model === 'string') {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(model);
      } catch (err) {
        fail('E_ARG', `cannot read model '${model}': ${(err as Error).message}`);
      }
      return new Session(importModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { baseDir: path.dirname(path.resolve(model)) }), options);
    }
    if (!(model instanceof Uint8Array)) fail('E_ARG', `Session.create: the model must be a file path or a Uint8Array, got ${typeof model}`);
    return new Session(importModel(model), options);
  }

  /** Runs the model; resolves with every output. Does not block the event loop on real work. */
  async run(feeds: Feeds): Promise<Results> {
    const split = this.splitRun(feeds);
    if (split) return split;
    const { plan, inputs, outputs, results } = this.prepare(feeds);
    await plan.program.run(inputs, plan.inputOffsets, outputs.arrays, outputs.offsets);
    return results;
  }

  /**
   * The batch split into one part per thread, each part run single-threaded and
   * all at once, the outputs written into place; undefined when it does not apply.
   */
  private splitRun(feeds: Feeds): Promise<Results> | undefined {
    const split = this.splitParts(feeds);
    return split && Program.runParts(split.parts, true).then(() => split.results);
  }

  private splitRunSync(feeds: Feeds): Results | undefined {
    const split = this.splitParts(feeds);
    if (split) Program.runParts(split.parts, false);
    return split?.results;
  }

  private splitParts(feeds: Feeds): { parts: RunPart[]; results: Results } | undefined {
    if (!this.splittable || feeds === null || typeof feeds !== 'object') return undefined;
    const threads = native.getThreads();
    if (threads < 2) return undefined;
    const first = feeds[this.inputNames[0]];
    if (!(first instanceof Tensor) || first.shape.length === 0) return undefined;
    const batch = first.shape[0];
    const inputs = this.inputNames.map((n) => feeds[n]);
    // 'bit' tensors pack their last axis into words: a part is not a plain subarray.
    if (batch < 2 || inputs.some((t) => !(t instanceof Tensor) || t.dtype === 'bit' || t.shape.length === 0 || t.shape[0] !== batch)) return undefined;
    const count = Math.min(threads, batch);
    const sizes = Array.from({ length: count }, (_, i) => Math.floor(batch / count) + (i < batch % count ? 1 : 0));
    // Plan each part (validating the feeds as a whole run would); give up unless
    // every output is computed (not constant) and carries the part on axis 0.
    let start = 0;
    const planned = sizes.map((b, index) => {
      const part: Feeds = {};
      this.inputNames.forEach((name, k) => {
        const t = inputs[k], per = t.size / batch;
        part[name] = new Tensor(t.dtype, (t.data as Float32Array).subarray(start * per, (start + b) * per) as never, [b, ...t.shape.slice(1)]);
      });
      const r = { start, b, ...this.prepare(part, index) };
      start += b;
      return r;
    });
    for (const r of planned) {
      if (r.plan.program.cost < MIN_PART_COST || r.plan.outputs.some((o) => o.offset < 0 || o.dtype === 'bit' || o.shape.length === 0 || o.shape[0] !== r.b)) return undefined;
    }
    const results: Results = {};
    for (const o of planned[0].plan.outputs) {
      const shape = [batch, ...o.shape.slice(1)];
      results[o.name] = new Tensor(o.dtype, new (arrayClass(o.dtype))(shape.reduce((a, c) => a * c, 1)) as never, shape);
    }
    const parts = planned.map((r): RunPart => ({
      program: r.plan.program,
      inputs: r.inputs,
      inputOffsets: r.plan.inputOffsets,
      outputs: r.plan.outputs.map((o) => {
        const full = results[o.name].data as Float32Array, per = full.length / batch;
        return full.subarray(r.start * per, (r.start + r.b) * per);
      }),
      outputOffsets: r.plan.outputs.map((o) => o.offset),
    }));
    return { parts, results };
  }

  /** Runs the model on the calling thread. */
  runSync(feeds: Feeds): Results {
    const split = this.splitRunSync(feeds);
    if (split) return split;
    const { plan, inputs, outputs, results } = this.prepare(feeds);
    plan.program.runSync(inputs, plan.inputOffsets, outputs.arrays, outputs.offsets);
    return results;
  }

  /** The steps planned for these input shapes (node names and inserted layout changes). */
  planFor(shapes: Record<string, readonly number[]>): { steps: string[]; arenaBytes: number } {
    const plan = this.planFor_(shapes);
    return { steps: plan.labels, arenaBytes: plan.program.arenaBytes };
  }

  /**
   * Runs the model `runs` times on these feeds with every step timed; returns
   * the steps, slowest first, with their share of the time.
   */
  async profile(feeds: Feeds, runs = 10): Promise<{ label: string; step: string; ms: number; share: number }[]> {
    const { plan } = this.prepare(feeds);
    plan.program.setProfiling(true);
    try {
      // The whole batch as one program (no split), so that every step is timed.
      for (let i = 0; i < runs; i++) {
        const { inputs, outputs } = this.prepare(feeds);
        plan.program.runSync(inputs, plan.inputOffsets, outputs.arrays, outputs.offsets);
      }
      const steps = plan.program.profile();
      const total = steps.reduce((a, s) => a + s.seconds, 0) || 1;
      // label: the kernel; step: the node (or inserted layout change) it runs.
      return steps.map((s, i) => ({ label: s.label, step: plan.labels[i] ?? '', ms: (1000 * s.seconds) / runs, share: s.seconds / total })).sort((a, b) => b.ms - a.ms);
    } finally {
      plan.program.setProfiling(false);
    }
  }

  /** part: which part of a split batch this run is (0 for a whole run). */
  private prepare(feeds: Feeds, part = 0) {
    if (feeds === null || typeof feeds !== 'object') fail('E_ARG', 'run: feeds must be an object of input name -> Tensor');
    for (const name in feeds) {
      if (!this.inputNames.includes(name)) fail('E_ARG', `run: '${name}' is not an input of this model (inputs: ${this.inputNames.join(', ')})`);
    }
    const shapes: Record<string, readonly number[]> = {};
    const inputs: ArrayBufferView[] = [];
    for (const info of this.graph.inputs) {
      const t = feeds[info.name];
      if (t === undefined) fail('E_ARG', `run: input '${info.name}' is missing`);
      if (!(t instanceof Tensor)) fail('E_ARG', `run: input '${info.name}' must be a Tensor`);
      if (t.dtype !== info.dtype) fail('E_DTYPE', `run: input '${info.name}' must be ${info.dtype}, got ${t.dtype}`);
      if (t.shape.length !== info.shape.length) fail('E_SHAPE', `run: input '${info.name}' must have rank ${info.shape.length} ([${info.shape.join(', ')}]), got [${t.shape.join(', ')}]`);
      for (let i = 0; i < info.shape.length; i++) {
        const d = info.shape[i];
        if (typeof d === 'number' && d !== t.shape[i]) fail('E_SHAPE', `run: input '${info.name}' dimension ${i} must be ${d} ([${info.shape.join(', ')}]), got [${t.shape.join(', ')}]`);
      }
      shapes[info.name] = t.shape;
      inputs.push(t.data as ArrayBufferView);
    }
    const plan = part === 0 ? this.planFor_(shapes) : this.planForKey(shapes, part);
    const results: Results = {};
    const arrays: ArrayBufferView[] = [];
    const offsets: number[] = [];
    for (const o of plan.outputs) {
      const data = new (arrayClass(o.dtype))(o.shape.reduce((a, b) => a * b, 1));
      results[o.name] = new Tensor(o.dtype, data as never, o.shape);
      if (o.offset >= 0) {
        arrays.push(data);
        offsets.push(o.offset);
      } else {
        data.set(this.constantOutputs.get(plan)!.get(o.name)!.data as never);
      }
    }
    return { plan, inputs, outputs: { arrays, offsets }, results };
  }

  private readonly constantOutputs = new Map<Plan, Map<string, Tensor>>();

  /** The last plan used and its input shapes: most runs repeat the shapes of the run before. */
  private last?: { shapes: (readonly number[])[]; plan: Plan };

  private planFor_(shapes: Record<string, readonly number[]>): Plan {
    const last = this.last;
    if (last && this.inputNames.every((n, i) => sameShape(shapes[n], last.shapes[i]))) return last.plan;
    const plan = this.planForKey(shapes);
    this.last = { shapes: this.inputNames.map((n) => [...(shapes[n] ?? [])]), plan };
    return plan;
  }

  /**
   * The packed weights and tables the plans of part `part` of a split batch
   * use. Each part past the first gets its own copy (small models only): two
   * threads running the same batch split over one shared copy ran each part
   * 10-15% slower on this machine than over a copy each (the int8 classifier,
   * batch 8 in two parts: 0.71-0.79 ms a part against 0.64-0.67 ms, alone
   * 0.62), and a copy costs the weights' size once per extra thread.
   */
  private cacheFor(part: number): Map<string, unknown> {
    if (part === 0 || this.constantBytes > MAX_REPLICATED_BYTES) return this.cache;
    let c = this.partCaches.get(part);
    if (!c) this.partCaches.set(part, (c = new Map()));
    return c;
  }

  private planForKey(shapes: Record<string, readonly number[]>, part = 0): Plan {
    const key = this.inputNames.map((n) => (shapes[n] ?? []).join('x')).join(';') + (part > 0 ? `#part${part}` : '');
    const hit = this.plans.get(key);
    if (hit) return hit;
    const p = new Planner(this.graph, this.cacheFor(part));
    for (const [name, t] of this.graph.constants) p.constant(name, t);
    for (const info of this.graph.inputs) p.values.set(info.name, { name: info.name, dtype: info.dtype, shape: [...shapes[info.name]], layout: 'nchw' });
    for (const node of this.graph.nodes) p.planNode(node);
    const consts = new Map<string, Tensor>();
    const outNames: string[] = [];
    for (const o of this.graph.outputs) {
      let v = p.value(o.name);
      if (!v) fail('E_MODEL_INVALID', `output '${o.name}' is never produced`);
      v = toNchw(p, v);
      if (v.constant) consts.set(o.name, v.constant);
      p.values.set(`${o.name}#out`, v.constant ? v : { name: o.name, dtype: v.dtype, shape: v.shape, layout: 'nchw', aliasOf: v });
      outNames.push(`${o.name}#out`);
    }
    const plan = p.finish(this.inputNames as string[], outNames);
    plan.outputs.forEach((o, i) => (o.name = this.graph.outputs[i].name));
    this.constantOutputs.set(plan, consts);
    if (this.plans.size >= MAX_PLANS) this.plans.delete(this.plans.keys().next().value as string);
    this.plans.set(key, plan);
    return plan;
  }
}

function sameShape(a: readonly number[] | undefined, b: readonly number[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function meta(v: ValueInfo): ValueMetadata {
  return { name: v.name, dtype: v.dtype, shape: [...v.shape] };
}
