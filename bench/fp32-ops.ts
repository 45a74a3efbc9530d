// fp32 ops and data movement: lowbit (output preallocated, the `...Into`
// form the runner records) against onnxruntime-node's single node on the same
// data in the same process, 1 thread, on every kernel path this machine has
// (ref shows what the SIMD paths buy). Activations of a MobileNet-sized layer:
// broadcast Add / Mul, activations, the 8-bit table, pooling (lowbit NHWC vs
// ORT NCHW), NCHW <-> NHWC transposes, Resize, Softmax, Concat, BatchNorm.
//
// Run alone: node dist/bench/fp32-ops.js [--budget MS] [--quick]
import { cpu, IsaName, ops, Tensor } from '../lib';
import { buildModel } from '../test/helpers/onnx-builder';
import { onnx } from '../lib/graph/onnx';
import { ort } from '../test/helpers/ort';
import { Measurement, medianMs, table } from './harness';

export interface Fp32OpsBenchOptions {
  budgetMs?: number;
  /** Kernel paths to time lowbit on (default: every available one). */
  isas?: IsaName[];
  /** Only these cases (substring match). */
  only?: string[];
}

interface OrtNode {
  op: string;
  inputs: Tensor[];
  /** int64 constant inputs appended after the tensors, or '' for an omitted optional one. */
  extra?: ({ name: string; int64?: number[]; float?: number[] } | '')[];
  attributes?: Record<string, number | number[] | string>;
  opset?: number;
  outDtype?: string;
  /** A whole model instead of one node (its feeds by name). */
  model?: { bytes: Uint8Array; feeds: Record<string, Tensor> };
}

interface Case {
  name: string;
  /** Elements touched (inputs + outputs): for GB/s. */
  bytes: number;
  lowbit: () => void;
  ort: OrtNode;
}

function random(n: number, seed: number, lo = -3, hi = 3): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return out;
}

const f32 = (shape: number[], seed: number, lo?: number, hi?: number) => new Tensor('float32', random(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape);
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function cases(): Case[] {
  const out: Case[] = [];
  const act = [1, 64, 56, 56], actNhwc = [1, 56, 56, 64];
  const x = f32(act, 1), y = f32(act, 2), xn = f32(actNhwc, 3);
  const chan = f32([64, 1, 1], 4), chanLast = f32([64], 5);
  const o = Tensor.zeros('float32', act), on = Tensor.zeros('float32', actNhwc);
  const n = size(act);
  out.push({ name: 'Add same shape [1,64,56,56]', bytes: 12 * n, lowbit: () => ops.binaryOpInto('add', x, y, o), ort: { op: 'Add', inputs: [x, y] } });
  out.push({ name: 'Add per channel NCHW + [64,1,1]', bytes: 8 * n, lowbit: () => ops.binaryOpInto('add', x, chan, o), ort: { op: 'Add', inputs: [x, chan] } });
  out.push({ name: 'Mul per channel NHWC * [64]', bytes: 8 * n, lowbit: () => ops.binaryOpInto('mul', xn, chanLast, on), ort: { op: 'Mul', inputs: [xn, chanLast] } });
  for (const [name, op, onnxOp, opset] of [['Relu', 'relu', 'Relu', 13], ['HardSwish', 'hardSwish', 'HardSwish', 14], ['Sigmoid', 'sigmoid', 'Sigmoid', 13], ['Tanh', 'tanh', 'Tanh', 13], ['Exp', 'exp', 'Exp', 13]] as const) {
    out.push({ name: `${name} [1,64,56,56]`, bytes: 8 * n, lowbit: () => ops.unaryOpInto(op, x, o), ort: { op: onnxOp, inputs: [x], opset } });
  }
  const q = new Tensor('uint8', Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24), act);
  const qo = Tensor.zeros('uint8', act);
  const table = ops.quantizedUnaryTable('hardSwish', { dtype: 'uint8', scale: 0.05, zeroPoint: 128 }, { dtype: 'uint8', scale: 0.03, zeroPoint: 20 });
  // ORT runs the quantized activation as DequantizeLinear -> HardSwish -> QuantizeLinear.
  const qdq = buildModel({
    opset: 14,
    nodes: [
      { op: 'DequantizeLinear', inputs: ['q', 'si', 'zi'], outputs: ['t'] },
      { op: 'HardSwish', inputs: ['t'], outputs: ['u'] },
      { op: 'QuantizeLinear', inputs: ['u', 'so', 'zo'], outputs: ['y'] },
    ],
    inputs: [{ name: 'q', dtype: 'uint8', shape: act }],
    outputs: [{ name: 'y', dtype: 'uint8', shape: act }],
    initializers: {
      si: new Tensor('float32', [0.05], []), zi: new Tensor('uint8', [128], []),
      so: new Tensor('float32', [0.03], []), zo: new Tensor('uint8', [20], []),
    },
  });
  out.push({ name: 'lut8: DQ->HardSwish->Q uint8 [1,64,56,56]', bytes: 2 * n, lowbit: () => ops.lut8Into(q, table, qo), ort: { op: '', inputs: [], model: { bytes: qdq, feeds: { q } } } });
  const bnScale = f32([64], 6, 0.5, 1.5), bnBias = f32([64], 7), bnMean = f32([64], 8), bnVar = f32([64], 9, 0.1, 2);
  out.push({ name: 'BatchNormalization NCHW [1,64,56,56]', bytes: 8 * n, lowbit: () => ops.batchNormalizationInto(x, bnScale, bnBias, bnMean, bnVar, o), ort: { op: 'BatchNormalization', inputs: [x, bnScale, bnBias, bnMean, bnVar], opset: 15 } });
  // Pooling: lowbit channels-last, ORT NCHW.
  const big = f32([1, 64, 112, 112], 10), bigN = f32([1, 112, 112, 64], 10);
  const mp = Tensor.zeros('float32', [1, 56, 56, 64]);
  out.push({ name: 'MaxPool 3x3 s2 p1 64ch 112->56 (lowbit NHWC)', bytes: 4 * (size(big.shape) + size(mp.shape)), lowbit: () => ops.maxPoolInto(bigN, mp, { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], layout: 'nhwc' }), ort: { op: 'MaxPool', inputs: [big], attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, opset: 12 } });
  const ap = f32([1, 128, 28, 28], 11), apN = f32([1, 28, 28, 128], 11), apo = Tensor.zeros('float32', [1, 28, 28, 128]);
  out.push({ name: 'AveragePool 3x3 s1 p1 128ch @28 (lowbit NHWC)', bytes: 8 * size(ap.shape), lowbit: () => ops.averagePoolInto(apN, apo, { kernelShape: [3, 3], pads: [1, 1, 1, 1], layout: 'nhwc' }), ort: { op: 'AveragePool', inputs: [ap], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, opset: 12 } });
  const gp = f32([1, 576, 7, 7], 12), gpN = f32([1, 7, 7, 576], 12), gpo = Tensor.zeros('float32', [1, 1, 1, 576]);
  out.push({ name: 'GlobalAveragePool 576ch @7x7 (lowbit NHWC)', bytes: 4 * size(gp.shape), lowbit: () => ops.globalAveragePoolInto(gpN, gpo, { layout: 'nhwc' }), ort: { op: 'GlobalAveragePool', inputs: [gp] } });
  const g2 = f32([1, 64, 56, 56], 13), g2o = Tensor.zeros('float32', [1, 64, 1, 1]);
  out.push({ name: 'GlobalAveragePool 64ch @56x56 NCHW', bytes: 4 * n, lowbit: () => ops.globalAveragePoolInto(g2, g2o), ort: { op: 'GlobalAveragePool', inputs: [g2] } });
  // Transposes at graph edges.
  out.push({ name: 'Transpose NCHW->NHWC [1,64,56,56]', bytes: 8 * n, lowbit: () => ops.transposeInto(x, on, act, [0, 2, 3, 1]), ort: { op: 'Transpose', inputs: [x], attributes: { perm: [0, 2, 3, 1] } } });
  out.push({ name: 'Transpose NHWC->NCHW [1,56,56,64]', bytes: 8 * n, lowbit: () => ops.transposeInto(xn, o, actNhwc, [0, 3, 1, 2]), ort: { op: 'Transpose', inputs: [xn], attributes: { perm: [0, 3, 1, 2] } } });
  const fimg = f32([1, 3, 224, 224], 18), fimgo = Tensor.zeros('float32', [1, 224, 224, 3]);
  out.push({ name: 'Transpose float image NCHW->NHWC [1,3,224,224]', bytes: 8 * size(fimg.shape), lowbit: () => ops.transposeInto(fimg, fimgo, fimg.shape, [0, 2, 3, 1]), ort: { op: 'Transpose', inputs: [fimg], attributes: { perm: [0, 2, 3, 1] } } });
  const img = new Tensor('uint8', Uint8Array.from({ length: 3 * 224 * 224 }, (_, i) => i & 255), [1, 3, 224, 224]), imgo = Tensor.zeros('uint8', [1, 224, 224, 3]);
  out.push({ name: 'Transpose uint8 image NCHW->NHWC [1,3,224,224]', bytes: 2 * size(img.shape), lowbit: () => ops.transposeInto(img, imgo, img.shape, [0, 2, 3, 1]), ort: { op: 'Transpose', inputs: [img], attributes: { perm: [0, 2, 3, 1] } } });
  // Resize 2x (FPN upsampling).
  const r = f32([1, 64, 28, 28], 14), rN = f32([1, 28, 28, 64], 14);
  const rno = Tensor.zeros('float32', [1, 56, 56, 64]), rco = Tensor.zeros('float32', [1, 64, 56, 56]);
  out.push({ name: 'Resize nearest 2x 64ch 28->56 (lowbit NHWC)', bytes: 4 * 5 * size(r.shape), lowbit: () => ops.resizeInto(rN, rno, { scales: [1, 1, 2, 2], layout: 'nhwc', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' }), ort: { op: 'Resize', inputs: [r], extra: ['', { name: 'scales', float: [1, 1, 2, 2] }], attributes: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, opset: 13 } });
  out.push({ name: 'Resize linear 2x 64ch 28->56 NHWC', bytes: 4 * 5 * size(r.shape), lowbit: () => ops.resizeInto(rN, rno, { scales: [1, 1, 2, 2], mode: 'linear', layout: 'nhwc' }), ort: { op: 'Resize', inputs: [r], extra: ['', { name: 'scales', float: [1, 1, 2, 2] }], attributes: { mode: 'linear' }, opset: 13 } });
  out.push({ name: 'Resize linear 2x 64ch 28->56 NCHW', bytes: 4 * 5 * size(r.shape), lowbit: () => ops.resizeInto(r, rco, { scales: [1, 1, 2, 2], mode: 'linear' }), ort: { op: 'Resize', inputs: [r], extra: ['', { name: 'scales', float: [1, 1, 2, 2] }], attributes: { mode: 'linear' }, opset: 13 } });
  const sm = f32([64, 1000], 15, -10, 10), smo = Tensor.zeros('float32', [64, 1000]);
  out.push({ name: 'Softmax [64,1000] last axis', bytes: 8 * 64000, lowbit: () => ops.softmaxInto(sm, smo), ort: { op: 'Softmax', inputs: [sm] } });
  const ln = f32([1, 80, 384], 19), lno = Tensor.zeros('float32', [1, 80, 384]), lns = f32([384], 20, 0.5, 1.5), lnb = f32([384], 21);
  out.push({ name: 'LayerNormalization [1,80,384] last axis', bytes: 8 * size(ln.shape), lowbit: () => ops.layerNormalizationInto(ln, lns, lnb, lno), ort: { op: 'LayerNormalization', inputs: [ln, lns, lnb], opset: 17 } });
  const c1 = f32([1, 28, 28, 64], 16), c2 = f32([1, 28, 28, 64], 17), cc = Tensor.zeros('float32', [1, 28, 28, 128]);
  const c1n = f32([1, 64, 28, 28], 16), c2n = f32([1, 64, 28, 28], 17);
  out.push({ name: 'Concat 2x64ch @28 on channels (lowbit NHWC)', bytes: 16 * size(c1.shape), lowbit: () => ops.concatInto([c1, c2], cc, 3), ort: { op: 'Concat', inputs: [c1n, c2n], attributes: { axis: 1 } } });
  return out;
}

async function ortSession(node: OrtNode): Promise<{ run: () => Promise<unknown> }> {
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  if (node.model) {
    const session = await ort.InferenceSession.create(node.model.bytes, options);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(node.model.feeds)) feeds[k] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape]);
    return { run: () => session.run(feeds) };
  }
  const names = node.inputs.map((_, i) => `x${i}`);
  const extra = node.extra ?? [];
  const bytes = buildModel({
    opset: node.opset ?? 13,
    nodes: [{ op: node.op, inputs: [...names, ...extra.map((e) => (e === '' ? '' : e.name))], outputs: ['y'], attributes: node.attributes }],
    inputs: node.inputs.map((t, i) => ({ name: names[i], dtype: t.dtype, shape: [...t.shape] })),
    outputs: [{ name: 'y', dtype: node.outDtype ?? node.inputs[0].dtype, shape: [] }],
  });
  const model = onnx.ModelProto.decode(bytes);
  model.graph!.output![0].type!.tensorType!.shape = undefined;
  for (const e of extra) {
    if (e === '') continue;
    model.graph!.initializer!.push(e.int64 !== undefined
      ? onnx.TensorProto.create({ name: e.name, dims: [e.int64.length], dataType: 7, int64Data: e.int64 })
      : onnx.TensorProto.create({ name: e.name, dims: [e.float!.length], dataType: 1, floatData: e.float! }));
  }
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), options);
  const feeds: Record<string, ort.Tensor> = {};
  node.inputs.forEach((t, i) => { feeds[names[i]] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape]); });
  return { run: () => session.run(feeds) };
}

export async function benchFp32Ops(options: Fp32OpsBenchOptions = {}): Promise<Measurement[]> {
  const budget = options.budgetMs ?? 300;
  const isas = options.isas ?? cpu.available();
  const original = cpu.isa;
  const threads = cpu.threads;
  cpu.setThreads(1);
  const results: Measurement[] = [];
  const rows: (string | number)[][] = [['case', 'impl', 'median ms', 'GB/s', 'x ort']];
  try {
    for (const c of cases()) {
      if (options.only && !options.only.some((s) => c.name.includes(s))) continue;
      const session = await ortSession(c.ort);
      const o = await medianMs(() => session.run(), budget);
      results.push({ suite: 'fp32-ops', case: c.name, impl: 'ort', medianMs: o.ms, samples: o.samples });
      rows.push([c.name, 'ort', o.ms, c.bytes / o.ms / 1e6, 1]);
      for (const isa of isas) {
        cpu.setIsa(isa);
        const l = await medianMs(c.lowbit, budget);
        results.push({ suite: 'fp32-ops', case: c.name, impl: 'lowbit', isa, medianMs: l.ms, samples: l.samples, ratioVsOrt: o.ms / l.ms });
        rows.push(['', `lowbit ${isa}`, l.ms, c.bytes / l.ms / 1e6, o.ms / l.ms]);
      }
    }
  } finally {
    cpu.setIsa(original);
    cpu.setThreads(threads);
  }
  console.log(table(rows));
  console.log('(GB/s: bytes read and written per second; x ort > 1: lowbit faster; ORT runs the node through session.run)');
  return results;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const budgetAt = argv.indexOf('--budget');
  const budgetMs = budgetAt >= 0 ? Number(argv[budgetAt + 1]) : argv.includes('--quick') ? 100 : 300;
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1].split(',') : undefined;
  benchFp32Ops({ budgetMs, only }).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
