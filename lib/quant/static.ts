// Post-training static quantization: calibrate activation ranges by running the
// fp32 model, then write a standard QDQ ONNX model (QuantizeLinear/
// DequantizeLinear around Conv, MatMul and Gemm; int8 per-channel weights, int32
// biases) that lowbit and onnxruntime both run.
import { fail } from '../errors';
import { exportModel } from '../graph/export';
import { importModel, importModelFile } from '../graph/import';
import { attrInt, Graph, Node } from '../graph/ir';
import { foldBatchNorm, matchHardSwish, removeDeadNodes } from '../graph/passes';
import { upgradeOpset } from '../graph/upgrade';
import { Session, type Feeds } from '../runtime/session';
import { CalibrationRun } from './calibration-run';
import { Tensor } from '../tensor/tensor';
import { CalibrationMethod, makeObserver, Observer, ObserverOptions } from './observers';
import { ActivationType, activationParams, QParams, quantizeWeights, roundHalfEven, sqnr } from './scheme';

export interface StaticOptions extends ObserverOptions {
  /** Batches of feeds for the fp32 model: an array, an iterable or an async iterable. */
  calibration: Iterable<Feeds> | AsyncIterable<Feeds>;
  method?: CalibrationMethod;
  /** Per-output-channel weight scales (default true). */
  perChannel?: boolean;
  activationType?: ActivationType;
  /** Symmetric activations (zero point 128 for uint8, 0 for int8). */
  symmetricActivations?: boolean;
  weightType?: 'int8';
  /** 7-bit weights. */
  reduceRange?: boolean;
  /** Nodes left in fp32: by node name or op type. */
  exclude?: { names?: string[]; opTypes?: string[] };
  /**
   * Quantize a Conv's output after a following HardSwish, not between the two
   * (default true). lowbit runs the pair as one int8 convolution that applies
   * HardSwish to the accumulators in float; the quantization step no longer
   * spends its levels on the values HardSwish flattens (0.9-1.8 dB more output
   * SQNR on the PaddleOCR classifier, a MobileNetV3; docs/quantization.md).
   * onnxruntime runs such a Conv in float; false writes the
   * QuantizeLinear between them, as onnxruntime's own quantizer does.
   */
  fuseHardSwish?: boolean;
  /** Also quantize the inputs and outputs of Add and Mul of two activations (default true). */
  quantizeElementwise?: boolean;
  /** Called after each calibration batch with the number done. */
  onProgress?: (batches: number) => void;
  /**
   * Per-layer error report: runs the fp32 and the quantized model on these feeds
   * (true: the first calibration batch) and compares every quantized activation.
   */
  report?: boolean | Feeds;
}

export interface TensorReport {
  name: string;
  range: [number, number];
  scale: number;
  zeroPoint: number;
}

/** One quantized activation: fp32 vs quantized-model values on the report feeds. */
export interface LayerReport {
  name: string;
  /** The op producing the value ('input' for a graph input). */
  producer: string;
  /** SQNR in dB of the value in the quantized model (after its QuantizeLinear/DequantizeLinear) against fp32. */
  sqnr: number;
  /** The chosen clipping range and the range the report feeds actually reached. */
  range: [number, number];
  observed: [number, number];
  /** Share of values outside the clipping range. */
  clipped: number;
  /** A 64-bin histogram of the fp32 values over `observed`. */
  histogram: number[];
}

export interface WeightReport {
  node: string;
  opType: string;
  min: number;
  max: number;
  channels: number;
}

export interface StaticResult {
  model: Uint8Array;
  activations: TensorReport[];
  weights: WeightReport[];
  calibrationBatches: number;
  calibrationMs: number;
  fp32Bytes: number;
  /** With options.report: per-layer errors, and the SQNR of each model output. */
  layers?: LayerReport[];
  outputs?: { name: string; sqnr: number }[];
}

const QUANTIZABLE = new Set(['Conv', 'MatMul', 'Gemm']);

export function loadGraph(model: string | Uint8Array): { graph: Graph; bytes: number } {
  if (typeof model === 'string') {
    const g = importModelFile(model);
    return { graph: g, bytes: require('node:fs').statSync(model).size as number };
  }
  if (!(model instanceof Uint8Array)) fail('E_ARG', 'the model must be a file path or a Uint8Array');
  return { graph: importModel(model), bytes: model.length };
}

/** The nodes whose inputs/weights get quantized, and the activation values to calibrate. */
function plan(g: Graph, o: StaticOptions): { nodes: Node[]; activations: string[]; outputOf: Map<Node, string> } {
  const names = new Set(o.exclude?.names ?? []), types = new Set(o.exclude?.opTypes ?? []);
  const consumers = g.consumers();
  const nodes = g.nodes.filter((n) => n.domain === '' && QUANTIZABLE.has(n.opType) && !names.has(n.name) && !types.has(n.opType)
    && g.constants.has(n.inputs[1]) && g.constants.get(n.inputs[1])!.dtype === 'float32' && !g.constants.has(n.inputs[0]));
  const activations = new Set<string>();
  const outputOf = new Map<Node, string>();
  for (const n of nodes) {
    activations.add(n.inputs[0]);
    // Quantize after a following Relu/Clip (or a Conv's HardSwish), so the
    // activation fuses into the int8 op.
    let out = n.outputs[0];
    const next = consumers.get(out) ?? [];
    const fused = (a: Node) => a.domain === '' && (a.opType === 'Relu' || a.opType === 'Clip'
      || (a.opType === 'HardSwish' && n.opType === 'Conv' && (o.fuseHardSwish ?? true))) && !names.has(a.name) && !types.has(a.opType);
    if (next.length === 1 && fused(next[0]) && !g.isGraphOutput(out)) out = next[0].outputs[0];
    outputOf.set(n, out);
    activations.add(out);
  }
  // Add and Mul of two activations (residuals, squeeze-excite scaling): their
  // inputs and output too, so they run as int8 ops (and the unary ops before
  // them as 8-bit tables) instead of in float between two conversions.
  if (o.quantizeElementwise ?? true) {
    for (const n of g.nodes) {
      if (n.domain !== '' || (n.opType !== 'Add' && n.opType !== 'Mul') || names.has(n.name) || types.has(n.opType)) continue;
      if (n.inputs.length !== 2 || n.inputs.some((i) => i === '' || g.constants.has(i))) continue;
      n.inputs.forEach((i) => activations.add(i));
      activations.add(n.outputs[0]);
    }
  }
  return { nodes, activations: [...activations], outputOf };
}

async function calibrate(graph: Graph, activations: string[], o: StaticOptions): Promise<{ observers: Map<string, Observer>; batches: number; ms: number }> {
  const start = Date.now();
  const observers = new Map(activations.map((a) => [a, makeObserver(o.method ?? 'minmax', o)]));
  // Statistics are taken inside the fp32 run (calibration-run.ts), on a copy of the graph
  // (a clone: an export/import round trip of the model cost ~15% of the inference itself).
  const run = new CalibrationRun(graph.clone(), observers);
  let batches = 0;
  for await (const feeds of o.calibration as AsyncIterable<Feeds>) {
    await run.add(feeds);
    batches++;
    o.onProgress?.(batches);
  }
  await run.drain();
  run.collect();
  if (batches === 0) fail('E_ARG', 'quantizeStatic: the calibration data is empty');
  return { observers, batches, ms: Date.now() - start };
}

/** Calibrates and quantizes; returns the QDQ model with what was chosen. */
export async function quantizeStaticDetailed(model: string | Uint8Array, o: StaticOptions): Promise<StaticResult> {
  if (o === null || typeof o !== 'object' || o.calibration === undefined) fail('E_ARG', 'quantizeStatic: options.calibration (batches of feeds) is required');
  const activationType = o.activationType ?? 'uint8';
  if (activationType !== 'uint8' && activationType !== 'int8') fail('E_ARG', `quantizeStatic: activationType must be 'uint8' or 'int8', got '${String(activationType)}'`);
  if (o.weightType !== undefined && o.weightType !== 'int8') fail('E_ARG', `quantizeStatic: weightType must be 'int8' (int4 is weight-only: quantizeWeightsInt4)`);
  const { graph, bytes } = loadGraph(model);
  foldBatchNorm(graph);
  // Opset 14 has HardSwish: exporters' Add/Clip/Mul/Div form becomes one node
  // (a smaller file, and one table lookup when run quantized).
  upgradeOpset(graph, 14);
  matchHardSwish(graph);
  removeDeadNodes(graph);
  const p = plan(graph, o);
  // The report runs on the first calibration batch: keep it as it goes by.
  let first: Feeds | undefined;
  const source = o.calibration as AsyncIterable<Feeds>;
  const calibration = {
    async *[Symbol.asyncIterator]() {
      for await (const feeds of source) {
        first ??= feeds;
        yield feeds;
      }
    },
  };
  const cal = await calibrate(graph, p.activations, { ...o, calibration });

  const params = new Map<string, QParams>();
  const activations: TensorReport[] = [];
  for (const name of p.activations) {
    const range = cal.observers.get(name)!.range();
    const q = activationParams(range[0], range[1], activationType, o.symmetricActivations ?? false);
    params.set(name, q);
    activations.push({ name, range, ...q });
  }
  const fp32 = o.report ? exportModel(graph) : undefined;
  const weights = insertQdq(graph, p.nodes, params, activationType, o);
  const result: StaticResult = { model: exportModel(graph, { producer: 'lowbit quantizeStatic', compactNames: true }), activations, weights, calibrationBatches: cal.batches, calibrationMs: cal.ms, fp32Bytes: bytes };
  if (fp32 && o.report) Object.assign(result, await layerReport(fp32, exportModel(graph), activations, graph, o.report === true ? first : o.report));
  return result;
}

function histogram(v: Float32Array, lo: number, hi: number, bins = 64): number[] {
  const h = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins || 1;
  for (const x of v) if (x === x) h[Math.min(bins - 1, Math.max(0, Math.floor((x - lo) / w)))]++;
  return h;
}

/** fp32 model vs quantized model (names kept, not compacted) on one batch of feeds. */
async function layerReport(fp32: Uint8Array, quantized: Uint8Array, activations: TensorReport[], g: Graph, feeds: Feeds | undefined):
  Promise<{ layers: LayerReport[]; outputs: { name: string; sqnr: number }[] }> {
  if (!feeds) fail('E_ARG', 'quantizeStatic: report needs feeds (the calibration data was empty)');
  const names = activations.map((a) => a.name);
  const ref = await Session.create(fp32, { outputs: names });
  const q = await Session.create(quantized, { outputs: names.map((n) => `${n}_dq`) });
  const [rf, rq] = [await ref.run(feeds), await q.run(feeds)];
  const producers = g.producers();
  const layers = activations.map((a): LayerReport => {
    const x = rf[a.name].data as Float32Array, y = rq[`${a.name}_dq`].data as Float32Array;
    let lo = Infinity, hi = -Infinity, out = 0;
    for (const v of x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (v < a.range[0] || v > a.range[1]) out++;
    }
    const producer = producers.get(a.name);
    return { name: a.name, producer: producer ? producer.opType : 'input', sqnr: sqnr(x, y), range: a.range, observed: [lo, hi], clipped: out / x.length, histogram: histogram(x, lo, hi) };
  });
  const outputs = ref.outputNames.filter((n) => !names.includes(n)).map((n) => ({ name: n, sqnr: sqnr(rf[n].data as Float32Array, rq[n].data as Float32Array) }));
  return { layers, outputs };
}

export async function quantizeStatic(model: string | Uint8Array, o: StaticOptions): Promise<Uint8Array> {
  return (await quantizeStaticDetailed(model, o)).model;
}

function scalarTensor(dtype: 'float32' | 'uint8' | 'int8', v: number): Tensor {
  return new Tensor(dtype, [v], []);
}

function insertQdq(g: Graph, nodes: Node[], params: Map<string, QParams>, type: ActivationType, o: StaticOptions): WeightReport[] {
  const perChannel = o.perChannel ?? true;
  const added: Node[] = [];
  // Short names for what the quantizer adds: names are a good part of a small model's file.
  let id = 0;
  const nodeName = (kind: string) => `${kind}${id++}`;
  // Activations: value -> Q -> DQ, every reader moved to the DQ output.
  for (const [name, q] of params) {
    const s = `${name}_s`, z = `${name}_z`, qv = `${name}_q`, dqv = `${name}_dq`;
    g.constants.set(s, scalarTensor('float32', q.scale));
    g.constants.set(z, scalarTensor(type, q.zeroPoint));
    g.replaceUses(name, dqv);
    added.push({ name: nodeName('Q'), opType: 'QuantizeLinear', domain: '', inputs: [name, s, z], outputs: [qv], attrs: {} });
    added.push({ name: nodeName('DQ'), opType: 'DequantizeLinear', domain: '', inputs: [qv, s, z], outputs: [dqv], attrs: {} });
  }
  const reports: WeightReport[] = [];
  for (const n of nodes) {
    const wName = n.inputs[1];
    const w = g.constants.get(wName)!;
    // The output-channel axis: Conv [M, C/g, kh, kw] -> 0; MatMul [K, N] -> 1; Gemm -> 0 if transB.
    const axis = n.opType === 'Conv' ? 0 : n.opType === 'Gemm' && attrInt(n, 'transB', 0) === 1 ? 0 : w.shape.length - 1;
    if (n.opType !== 'Conv' && w.shape.length !== 2) continue;
    const wq = quantizeWeights(w.data as Float32Array, w.shape, perChannel ? axis : undefined, o.reduceRange);
    let lo = Infinity, hi = -Infinity;
    for (const v of w.data as Float32Array) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    reports.push({ node: n.name, opType: n.opType, min: lo, max: hi, channels: wq.scales.length });
    // Symmetric int8 weights: the zero point is 0, DequantizeLinear's default, so it is left out.
    const qw = `${wName}_q${id}`, ws = `${wName}_s${id}`, dqw = `${wName}_dq${id}`;
    g.constants.set(qw, new Tensor('int8', wq.data, [...w.shape]));
    g.constants.set(ws, new Tensor('float32', wq.scales, wq.scales.length === 1 ? [] : [wq.scales.length]));
    added.push({ name: nodeName('DQ'), opType: 'DequantizeLinear', domain: '', inputs: [qw, ws], outputs: [dqw], attrs: wq.scales.length > 1 ? { axis } : {}, attrTypes: { axis: 2 } });
    n.inputs[1] = dqw;
    // Bias (Conv input 2, Gemm C as a vector): int32 with scale = x scale * w scale, zero point 0.
    const bName = n.inputs[2];
    const xName = n.inputs[0].replace(/_dq$/, '');
    const x = params.get(xName);
    if (bName && x && g.constants.has(bName) && (n.opType === 'Conv' || g.constants.get(bName)!.shape.length === 1)) {
      const b = g.constants.get(bName)!.data as Float32Array;
      const m = b.length;
      if (m === wq.scales.length || wq.scales.length === 1) {
        const bs = Float32Array.from({ length: m }, (_, c) => Math.fround(x.scale * wq.scales[wq.scales.length === 1 ? 0 : c]));
        const bq = Int32Array.from(b, (v, c) => Math.max(-2147483648, Math.min(2147483647, roundHalfEven(v / bs[c]))));
        const qb = `${bName}_q${id}`, bsn = `${bName}_s${id}`, dqb = `${bName}_dq${id}`;
        g.constants.set(qb, new Tensor('int32', bq, [m]));
        // The bias scale is x scale * w scale, computed by a Mul of the two
        // stored scales (a float32 multiply, as bs above) rather than stored:
        // a tenth of a small model's file. Runtimes fold it at load.
        added.push({ name: nodeName('M'), opType: 'Mul', domain: '', inputs: [`${xName}_s`, ws], outputs: [bsn], attrs: {} });
        added.push({ name: nodeName('DQ'), opType: 'DequantizeLinear', domain: '', inputs: [qb, bsn], outputs: [dqb], attrs: { axis: 0 }, attrTypes: { axis: 2 } });
        n.inputs[2] = dqb;
      }
    }
  }
  g.nodes.push(...added);
  g.sortTopologically();
  return reports;
}

export { roundHalfEven };
