// npm run bench -- model: the PaddleOCR text-direction classifier, fp32 and its
// QDQ int8 version (quantized here by lowbit), batch 1 and 8, 1 and 2 threads,
// lowbit against onnxruntime-node in the same process; and the session.run floor
// on a one-element Add model.
//
// Two lowbit columns: `run` computes on a worker thread and leaves the event loop
// free; `runSync` computes on the calling thread. onnxruntime-node's run() calls
// its native run synchronously inside setImmediate (it blocks the event loop for
// the whole inference), so runSync is the like-for-like comparison of compute;
// `run` adds the thread hand-off (a wake-up of the sleeping event loop thread),
// printed below the table as measured on this machine.
import { randomFill } from 'node:crypto';
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

/**
 * 2 threads against 1 at batch 8, for run and runSync: rounds that alternate
 * the thread count, the median of the per-round ratios, so that a slow spell of
 * this shared machine falls on both sides of a ratio.
 */
async function threadScaling(fp32: string, int8: Uint8Array, lines: ReturnType<typeof renderTextLines>, budget: number): Promise<Measurement[]> {
  const x = new Tensor('float32', batchOf(lines.slice(0, 8)), [8, 3, 48, 192]);
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const out: Measurement[] = [];
  const parts: string[] = [];
  for (const [kind, model] of [['fp32', fp32], ['int8', int8]] as const) {
    const s = await Session.create(model);
    const ratios: Record<string, number[]> = { run: [], runSync: [] };
    const ms: Record<string, number[]> = { run1: [], run2: [], runSync1: [], runSync2: [] };
    for (let round = 0; round < 7; round++) {
      for (const call of ['run', 'runSync'] as const) {
        const t: number[] = [];
        for (const threads of [1, 2]) {
          cpu.setThreads(threads);
          const r = await medianMs(() => (call === 'run' ? s.run({ x }) : s.runSync({ x })), budget / 6);
          t.push(r.ms);
          ms[`${call}${threads}`].push(r.ms);
        }
        ratios[call].push(t[0] / t[1]);
      }
    }
    for (const call of ['run', 'runSync'] as const) {
      parts.push(`${kind} ${call} ${median(ratios[call]).toFixed(2)}x (${median(ms[`${call}1`]).toFixed(3)} -> ${median(ms[`${call}2`]).toFixed(3)} ms)`);
      out.push({ suite: 'model', case: `cls-${kind} b8 2-thread speed-up`, impl: call === 'run' ? 'lowbit' : 'lowbit-sync', isa: cpu.isa, threads: 2,
        medianMs: median(ms[`${call}2`]), samples: ratios[call].length, batch: 8, ratio: median(ratios[call]) });
    }
  }
  console.log(`2 threads / 1 thread at batch 8 (7 alternating rounds, median ratio): ${parts.join('; ')}`);
  return out;
}

/** The round trip of one empty work item through libuv's thread pool: what any non-blocking run pays. */
async function threadHandoffMs(budget: number): Promise<number> {
  const one = Buffer.alloc(1);
  const r = await medianMs(() => new Promise<void>((resolve, reject) => randomFill(one, (e) => (e ? reject(e) : resolve()))), budget);
  return r.ms;
}

export async function benchModel(options: ModelBenchOptions = {}): Promise<Measurement[]> {
  const budget = options.budgetMs ?? 600;
  const results: Measurement[] = [];
  const originalThreads = cpu.threads;
  const modelPath = defaultModelPath();
  const lines = renderTextLines(64, { seed: 3 });
  const calibration = [0, 1, 2, 3].map((i) => ({ x: new Tensor('float32', batchOf(lines.slice(i * 8, i * 8 + 8)), [8, 3, 48, 192]) }));
  const qdq = await quantizeStatic(modelPath, { calibration, method: 'percentile' });
  // onnxruntime gets the form its own quantizer writes (a QuantizeLinear
  // between each Conv and its HardSwish): it runs a Conv followed by HardSwish
  // in float, so lowbit's default form would slow it down.
  const qdqOrt = await quantizeStatic(modelPath, { calibration, method: 'percentile', fuseHardSwish: false });
  const rows: (string | number)[][] = [
    ['model', 'batch', 'thr', 'lowbit run ms', 'runSync ms', 'ort ms', 'ort fp32 ms', 'x ort', 'x ort fp32', 'sync x ort fp32'],
  ];
  for (const threads of options.threads ?? [1, 2]) {
    cpu.setThreads(threads);
    const so = { intraOpNumThreads: threads, interOpNumThreads: 1 };
    const sessions = {
      fp32: { lowbit: await Session.create(modelPath), ort: await ort.InferenceSession.create(modelPath, so) },
      int8: { lowbit: await Session.create(qdq), ort: await ort.InferenceSession.create(qdqOrt, so) },
    };
    for (const batch of options.batches ?? [1, 8]) {
      const x = batchOf(lines.slice(0, batch));
      const feedL = { x: new Tensor('float32', x, [batch, 3, 48, 192]) };
      const feedO = { x: new ort.Tensor('float32', x, [batch, 3, 48, 192]) };
      const ms: Record<string, number> = {};
      for (const kind of ['fp32', 'int8'] as const) {
        const s = sessions[kind];
        const l = await medianMs(() => s.lowbit.run(feedL), budget);
        const ls = await medianMs(() => s.lowbit.runSync(feedL), budget);
        const o = await medianMs(() => s.ort.run(feedO), budget);
        ms[`${kind}-lowbit`] = l.ms;
        ms[`${kind}-lowbit-sync`] = ls.ms;
        ms[`${kind}-ort`] = o.ms;
        const c = `cls-${kind} b${batch}`;
        results.push({ suite: 'model', case: c, impl: 'lowbit', isa: cpu.isa, threads, medianMs: l.ms, samples: l.samples, batch });
        results.push({ suite: 'model', case: c, impl: 'lowbit-sync', isa: cpu.isa, threads, medianMs: ls.ms, samples: ls.samples, batch });
        results.push({ suite: 'model', case: c, impl: 'onnxruntime-node', threads, medianMs: o.ms, samples: o.samples, batch });
      }
      for (const kind of ['fp32', 'int8'] as const) {
        const l = ms[`${kind}-lowbit`], ls = ms[`${kind}-lowbit-sync`], o = ms[`${kind}-ort`], of = ms['fp32-ort'];
        rows.push([`cls ${kind}`, batch, threads, l.toFixed(3), ls.toFixed(3), o.toFixed(3), of.toFixed(3), (o / l).toFixed(2), (of / l).toFixed(2), (of / ls).toFixed(2)]);
      }
    }
  }
  table(rows);
  if ((options.threads ?? [1, 2]).includes(2)) results.push(...await threadScaling(modelPath, qdq, lines, budget));
  const handoff = await threadHandoffMs(budget);
  console.log(`thread hand-off on this machine (an empty libuv work item, run and awaited): ${(handoff * 1000).toFixed(1)} us; run - runSync above is this plus the wake-up after a longer sleep`);
  results.push({ suite: 'model', case: 'thread-handoff', impl: 'libuv', threads: 1, medianMs: handoff, samples: 0 });

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
