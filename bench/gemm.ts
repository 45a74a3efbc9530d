// int8 GEMM: every lowbit path against onnxruntime-node MatMulInteger (u8s8,
// s8s8, B as an initializer) and fp32 MatMul, in one process, single thread.
import { cpu, ops, Tensor } from '../lib';
import { buildModel } from '../test/helpers/onnx-builder';
import { ort } from '../test/helpers/ort';
import { Measurement, medianMs, peaks, table } from './harness';

export const GEMM_SHAPES: [number, number, number][] = [
  [1, 1024, 1024], [16, 1024, 1024], [64, 512, 512], [196, 576, 64], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024],
];

function randomBytes(n: number, signed: boolean, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return signed ? ((s >>> 16) & 255) - 128 : (s >>> 16) & 255;
  });
}

async function ortSession(model: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

export async function benchGemm(options: { shapes?: [number, number, number][]; budgetMs?: number }): Promise<Measurement[]> {
  const shapes = options.shapes ?? GEMM_SHAPES;
  const budget = options.budgetMs ?? 400;
  const results: Measurement[] = [];
  const originalIsa = cpu.isa, originalThreads = cpu.threads;
  cpu.setThreads(1);
  const peak = peaks();
  const rows: (string | number)[][] = [['M,K,N', 'impl', 'median ms', 'GOPS', 'x ort u8s8', '% peak']];
  for (const [m, k, n] of shapes) {
    const ops2 = 2 * m * n * k;
    const label = `${m},${k},${n}`;
    const aU8 = new Tensor('uint8', randomBytes(m * k, false, 1), [m, k]);
    const aS8 = new Tensor('int8', randomBytes(m * k, true, 2), [m, k]);
    const b = new Tensor('int8', randomBytes(k * n, true, 3), [k, n]);
    const record = (impl: string, ms: number, samples: number, isa?: string) => {
      const gops = ops2 / (ms * 1e6);
      results.push({ suite: 'gemm', case: label, impl, isa, medianMs: ms, samples, gops, m, k, n });
    };

    // onnxruntime-node, B as an initializer so it can prepack.
    for (const [ta, a] of [['uint8', aU8], ['int8', aS8]] as const) {
      const model = buildModel({
        nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b'], outputs: ['y'] }],
        inputs: [{ name: 'a', dtype: ta, shape: [m, k] }],
        outputs: [{ name: 'y', dtype: 'int32', shape: [m, n] }],
        initializers: { b },
      });
      const s = await ortSession(model);
      const feed = { a: new ort.Tensor(ta, a.data as Uint8Array, [m, k]) };
      await s.run(feed);
      const r = await medianMs(() => s.run(feed), budget);
      record(`ort MatMulInteger ${ta === 'uint8' ? 'u8s8' : 's8s8'}`, r.ms, r.samples);
    }
    {
      const bf = new Tensor('float32', Float32Array.from(b.data as Int8Array, (v) => v / 64), [k, n]);
      const model = buildModel({
        nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
        inputs: [{ name: 'a', dtype: 'float32', shape: [m, k] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [m, n] }],
        initializers: { b: bf },
      });
      const s = await ortSession(model);
      const feed = { a: new ort.Tensor('float32', Float32Array.from(aU8.data as Uint8Array, (v) => v / 255), [m, k]) };
      const r = await medianMs(() => s.run(feed), budget);
      record('ort MatMul fp32', r.ms, r.samples);
    }

    for (const isa of cpu.available()) {
      // The scalar reference is the ground truth, not a contender: keep it to small shapes.
      if (isa === 'ref' && m * n * k > 1 << 24) continue;
      cpu.setIsa(isa);
      const packed = ops.packMatrix(b, 0);
      for (const [tag, a] of [['u8s8', aU8], ['s8s8', aS8]] as const) {
        const r = await medianMs(() => ops.matmulInteger(a, packed, 0), budget);
        record(`lowbit ${tag}`, r.ms, r.samples, isa);
      }
    }
    cpu.setIsa(originalIsa);

    const ortU8 = results.find((x) => x.case === label && x.impl === 'ort MatMulInteger u8s8')!;
    for (const x of results.filter((r) => r.case === label)) {
      const p = x.isa ? peak[x.isa] : undefined;
      x.ratioVsOrtU8s8 = ortU8.medianMs / x.medianMs;
      if (p) x.fractionOfPeak = x.gops! / p;
      rows.push([label, x.isa ? `${x.impl} [${x.isa}]` : x.impl, x.medianMs, x.gops!, x.ratioVsOrtU8s8 as number, p ? `${((100 * x.gops!) / p).toFixed(0)}%` : '']);
    }
  }
  cpu.setThreads(originalThreads);
  console.log(table(rows));
  if (Object.keys(peak).length) console.log(`\npeaks (GOPS per core, ../shared/tools/peak): ${JSON.stringify(peak)}`);
  return results;
}
