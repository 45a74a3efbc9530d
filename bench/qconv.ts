// Int8 convolution: lowbit's convInt8Into (NHWC, packed weights, prepared output
// stage, reused output: what a planned runtime does) against onnxruntime-node's
// QLinearConv (NCHW, weights as initializers) as a single-node model, in one
// process, single thread, N = 1, uint8 activations and int8 weights with
// per-channel scales. Every lowbit kernel path is measured (ref only on the
// smallest layers); the ratio is onnxruntime's median over lowbit's. Contenders
// are measured in interleaved rounds (median of the round medians), so a change
// in the load of shared cores does not favour one of them.
import { cpu, ops, Tensor } from '../lib';
import { buildModel } from '../test/helpers/onnx-builder';
import { ort } from '../test/helpers/ort';
import { Measurement, medianMs, table } from './harness';

export interface QconvShape {
  label: string;
  c: number;
  m: number;
  h: number;
  w: number;
  k: number;
  stride: number;
  pad: number;
  /** group == c == m */
  depthwise: boolean;
}

export const QCONV_SHAPES: QconvShape[] = [
  { label: 'dw 3x3 144ch 56x56', c: 144, m: 144, h: 56, w: 56, k: 3, stride: 1, pad: 1, depthwise: true },
  { label: '1x1 96->576 14x14', c: 96, m: 576, h: 14, w: 14, k: 1, stride: 1, pad: 0, depthwise: false },
  { label: '3x3 64->64 56x56', c: 64, m: 64, h: 56, w: 56, k: 3, stride: 1, pad: 1, depthwise: false },
  // Layers of the PaddleOCR text-direction classifier (MobileNetV3-small-like, 48x192 input).
  { label: 'dw 3x3 s2 16ch 24x96', c: 16, m: 16, h: 24, w: 96, k: 3, stride: 2, pad: 1, depthwise: true },
  { label: 'dw 5x5 96ch 3x12', c: 96, m: 96, h: 3, w: 12, k: 5, stride: 1, pad: 2, depthwise: true },
  { label: '1x1 16->72 12x48', c: 16, m: 72, h: 12, w: 48, k: 1, stride: 1, pad: 0, depthwise: false },
];

export interface QconvBenchOptions {
  shapes?: QconvShape[];
  budgetMs?: number;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
}

function outExtent(x: number, k: number, stride: number, pad: number): number {
  return Math.floor((x + 2 * pad - k) / stride) + 1;
}

export async function benchQconv(options: QconvBenchOptions = {}): Promise<Measurement[]> {
  const shapes = options.shapes ?? QCONV_SHAPES;
  const budget = options.budgetMs ?? 400;
  const results: Measurement[] = [];
  const originalIsa = cpu.isa, originalThreads = cpu.threads;
  cpu.setThreads(1);
  const rows: (string | number)[][] = [['layer', 'impl', 'median ms', 'GOPS', 'x ort']];
  const summary: string[] = [];
  try {
    for (const s of shapes) {
      const rnd = lcg(s.c * 131 + s.m * 7 + s.h);
      const cg = s.depthwise ? 1 : s.c;
      const group = s.depthwise ? s.c : 1;
      const oh = outExtent(s.h, s.k, s.stride, s.pad), ow = outExtent(s.w, s.k, s.stride, s.pad);
      const ops2 = 2 * oh * ow * s.m * cg * s.k * s.k;
      const xNchw = new Tensor('uint8', Uint8Array.from({ length: s.c * s.h * s.w }, () => rnd() & 255), [1, s.c, s.h, s.w]);
      const xNhwc = new Tensor('uint8', new Uint8Array(xNchw.size), [1, s.h, s.w, s.c]);
      for (let c = 0; c < s.c; c++) {
        for (let i = 0; i < s.h * s.w; i++) xNhwc.data[i * s.c + c] = xNchw.data[c * s.h * s.w + i];
      }
      const w = new Tensor('int8', Int8Array.from({ length: s.m * cg * s.k * s.k }, () => (rnd() % 255) - 127), [s.m, cg, s.k, s.k]);
      const wScale = Float32Array.from({ length: s.m }, () => 0.002 + (rnd() % 1000) * 1e-6);
      const bias = Int32Array.from({ length: s.m }, () => (rnd() % 20001) - 10000);
      const [xScale, xZp, yScale, yZp] = [0.02, 128, 0.05 * Math.sqrt(cg * s.k * s.k), 120];
      const first = results.length;
      const record = (impl: string, ms: number, samples: number, isa?: string) => {
        results.push({ suite: 'qconv', case: s.label, impl, isa, threads: 1, medianMs: ms, samples, gops: ops2 / (ms * 1e6) });
      };

      const model = buildModel({
        nodes: [{
          op: 'QLinearConv', inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'b'], outputs: ['y'],
          attributes: { group, pads: [s.pad, s.pad, s.pad, s.pad], strides: [s.stride, s.stride], kernel_shape: [s.k, s.k] },
        }],
        inputs: [{ name: 'x', dtype: 'uint8', shape: [1, s.c, s.h, s.w] }],
        outputs: [{ name: 'y', dtype: 'uint8', shape: [1, s.m, oh, ow] }],
        initializers: {
          xs: new Tensor('float32', [xScale], []), xz: new Tensor('uint8', [xZp], []), w,
          ws: new Tensor('float32', wScale, [s.m]), wz: new Tensor('int8', new Int8Array(s.m), [s.m]),
          ys: new Tensor('float32', [yScale], []), yz: new Tensor('uint8', [yZp], []), b: new Tensor('int32', bias, [s.m]),
        },
      });
      const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      const feed = { x: new ort.Tensor('uint8', xNchw.data as Uint8Array, [1, s.c, s.h, s.w]) };
      const ortOut = (await session.run(feed)).y.data as Uint8Array;

      // Every contender: a name, the kernel path to select and one call.
      const out = Tensor.zeros('uint8', [1, oh, ow, s.m]);
      const contenders: { impl: string; isa?: string; run: () => unknown }[] = [{ impl: 'ort QLinearConv', run: () => session.run(feed) }];
      for (const isa of cpu.available()) {
        if (isa === 'ref' && ops2 > 2e7) continue;  // the scalar ground truth is not a contender
        cpu.setIsa(isa);
        const packed = ops.packConvInt8(w, { groups: group });
        const scale = Array.from(wScale, (v) => Math.fround(Math.fround(xScale * v) / yScale));
        const stage = new ops.OutputStage({ mode: 'fp32', scale, zeroPoint: yZp, outType: 'uint8', bias });
        const geometry = { pads: [s.pad, s.pad, s.pad, s.pad], strides: [s.stride, s.stride], xZeroPoint: xZp, stage };
        ops.convInt8Into(xNhwc, packed, out, geometry);
        // Same bits as onnxruntime (NCHW there, NHWC here).
        for (let c = 0; c < s.m; c++) {
          for (let i = 0; i < oh * ow; i++) {
            if (out.data[i * s.m + c] !== ortOut[c * oh * ow + i]) throw new Error(`qconv bench ${s.label} [${isa}]: output differs from onnxruntime at channel ${c}, pixel ${i}`);
          }
        }
        contenders.push({ impl: 'lowbit convInt8Into', isa, run: () => ops.convInt8Into(xNhwc, packed, out, geometry) });
      }
      // Interleaved rounds, so that a change in machine load (shared cores)
      // falls on every contender alike; each gets the median of its round medians.
      const rounds = 3;
      const ms = contenders.map(() => [] as number[]);
      const samples = contenders.map(() => 0);
      for (let round = 0; round < rounds; round++) {
        for (const [i, c] of contenders.entries()) {
          if (c.isa) cpu.setIsa(c.isa as never);
          const t = await medianMs(c.run, budget / rounds);
          ms[i].push(t.ms);
          samples[i] += t.samples;
        }
      }
      for (const [i, c] of contenders.entries()) {
        const sorted = ms[i].sort((a, b) => a - b);
        record(c.impl, sorted[Math.floor(rounds / 2)], samples[i], c.isa);
      }
      await session.release();
      cpu.setIsa(originalIsa);

      const mine = results.slice(first);
      const ortMs = mine[0].medianMs;
      for (const x of mine) {
        x.ratioVsOrt = ortMs / x.medianMs;
        rows.push([s.label, x.isa ? `${x.impl} [${x.isa}]` : x.impl, x.medianMs, x.gops!, x.ratioVsOrt as number]);
      }
      const best = mine.filter((x) => x.isa !== undefined).sort((a, b) => a.medianMs - b.medianMs)[0];
      if (best) summary.push(`${s.label}: lowbit ${best.medianMs.toFixed(3)} ms [${best.isa}] vs ort ${ortMs.toFixed(3)} ms = ${(ortMs / best.medianMs).toFixed(2)}x`);
    }
  } finally {
    cpu.setIsa(originalIsa);
    cpu.setThreads(originalThreads);
  }
  console.log(table(rows));
  console.log(`\n${summary.join('\n')}`);
  return results;
}

// `node dist/bench/qconv.js` runs this suite alone.
if (require.main === module) {
  benchQconv({ budgetMs: Number(process.env.BUDGET_MS ?? 400) }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
