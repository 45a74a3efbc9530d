// npm run bench -- model: the PaddleOCR text-direction classifier, fp32 and its
// QDQ int8 version (quantized here by lowbit), batch 1 and 8, 1 and 2 threads,
// lowbit against onnxruntime-node in the same process; and the session.run floor
// on a one-element Add model.
import * as ort from 'onnxruntime-node';
import { cpu } from '../lib';
import { defaultModelPath } from '../lib/cli/default-job';
import { batchOf, renderTextLines } from '../lib/quant/data/textlines';
import { quantizeStatic } from '../lib/quant/static';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from '../test/helpers/onnx-builder';
import { medianMs, Measurement } from './harness';

export interface ModelBenchOptions {
  budgetMs?: number;
  threads?: number[];
  batches?: number[];
}

function table(rows: (string | number)[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const r of rows) console.log(r.map((v, c) => String(v).padStart(widths[c])).join('  '));
}

export async function benchModel(options: ModelBenchOptions = {}): Promise<Measurement[]> {
  const budget = options.budgetMs ?? 600;
  const results: Measurement[] = [];
  const originalThreads = cpu.threads;
  const modelPath = defaultModelPath();
  const lines = renderTextLines(64, { seed: 3 });
  const calibration = [0, 1, 2, 3].map((i) => ({ x: new Tensor('float32', batchOf(lines.slice(i * 8, i * 8 + 8)), [8, 3, 48, 192]) }));
  const qdq = await quantizeStatic(modelPath, { calibration, method: 'percentile' });
  const rows: (string | number)[][] = [['model', 'batch', 'thr', 'lowbit ms', 'ort ms', 'ort fp32 ms', 'x ort', 'x ort fp32']];
  for (const threads of options.threads ?? [1, 2]) {
    cpu.setThreads(threads);
    const so = { intraOpNumThreads: threads, interOpNumThreads: 1 };
    const sessions = {
      fp32: { lowbit: await Session.create(modelPath), ort: await ort.InferenceSession.create(modelPath, so) },
      int8: { lowbit: await Session.create(qdq), ort: await ort.InferenceSession.create(qdq, so) },
    };
    for (const batch of options.batches ?? [1, 8]) {
      const x = batchOf(lines.slice(0, batch));
      const feedL = { x: new Tensor('float32', x, [batch, 3, 48, 192]) };
      const feedO = { x: new ort.Tensor('float32', x, [batch, 3, 48, 192]) };
      const ms: Record<string, number> = {};
      for (const kind of ['fp32', 'int8'] as const) {
        const s = sessions[kind];
        const l = await medianMs(() => s.lowbit.run(feedL), budget);
        const o = await medianMs(() => s.ort.run(feedO), budget);
        ms[`${kind}-lowbit`] = l.ms;
        ms[`${kind}-ort`] = o.ms;
        const c = `cls-${kind} b${batch}`;
        results.push({ suite: 'model', case: c, impl: 'lowbit', isa: cpu.isa, threads, medianMs: l.ms, samples: l.samples, batch });
        results.push({ suite: 'model', case: c, impl: 'onnxruntime-node', threads, medianMs: o.ms, samples: o.samples, batch });
      }
      for (const kind of ['fp32', 'int8'] as const) {
        const l = ms[`${kind}-lowbit`], o = ms[`${kind}-ort`], of = ms['fp32-ort'];
        rows.push([`cls ${kind}`, batch, threads, l.toFixed(3), o.toFixed(3), of.toFixed(3), (o / l).toFixed(2), (of / l).toFixed(2)]);
      }
    }
  }
  table(rows);

  // The run floor: a one-element Add.
  cpu.setThreads(1);
  const add = buildModel({
    nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [{ name: 'a', dtype: 'float32', shape: [1] }, { name: 'b', dtype: 'float32', shape: [1] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
  });
  const sl = await Session.create(add), so = await ort.InferenceSession.create(add, { intraOpNumThreads: 1 });
  const fa = { a: new Tensor('float32', [1], [1]), b: new Tensor('float32', [2], [1]) };
  const fo = { a: new ort.Tensor('float32', Float32Array.of(1), [1]), b: new ort.Tensor('float32', Float32Array.of(2), [1]) };
  const floorL = await medianMs(() => sl.run(fa), budget);
  const floorS = await medianMs(() => sl.runSync(fa), budget);
  const floorO = await medianMs(() => so.run(fo), budget);
  console.log(`\nrun floor (one-element Add): lowbit run ${(floorL.ms * 1000).toFixed(2)} us, runSync ${(floorS.ms * 1000).toFixed(2)} us; onnxruntime-node run ${(floorO.ms * 1000).toFixed(2)} us (${(floorO.ms / floorL.ms).toFixed(2)}x)`);
  results.push({ suite: 'model', case: 'run-floor', impl: 'lowbit', threads: 1, medianMs: floorL.ms, samples: floorL.samples });
  results.push({ suite: 'model', case: 'run-floor', impl: 'lowbit-sync', threads: 1, medianMs: floorS.ms, samples: floorS.samples });
  results.push({ suite: 'model', case: 'run-floor', impl: 'onnxruntime-node', threads: 1, medianMs: floorO.ms, samples: floorO.samples });
  cpu.setThreads(originalThreads);
  return results;
}
