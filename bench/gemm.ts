// int8 GEMM: every lowbit path against onnxruntime-node MatMulInteger (u8s8,
// s8s8, B as an initializer) and fp32 MatMul, in one process, at 1 thread (and
// 2 for the largest shape, or whatever --threads asks for).
//
// lowbit runs with packed weights and a reused output tensor (ops.matmulInteger's
// `out` option): what a runtime that plans its buffers does. onnxruntime allocates
// each call's output from its arena (memory it has already touched, so no page
// faults) and copies it into a new JS typed array; the "new out" row shows
// lowbit paying for a fresh output on every call too.
import * as os from 'node:os';
import { cpu, ops, Tensor } from '../lib';
import { buildModel } from '../test/helpers/onnx-builder';
import { ort } from '../test/helpers/ort';
import { Measurement, medianMs, peaks, table } from './harness';

export type Shape3 = [m: number, k: number, n: number];

export const GEMM_SHAPES: Shape3[] = [
  [1, 1024, 1024], [16, 1024, 1024], [64, 512, 512], [196, 576, 64], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024],
];

export interface GemmBenchOptions {
  shapes?: Shape3[];
  budgetMs?: number;
  /** Thread counts for every shape; default 1, plus 2 for shapes of 1024^3 and up when there are 2+ cores. */
  threads?: number[];
}

function randomBytes(n: number, signed: boolean, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return signed ? ((s >>> 16) & 255) - 128 : (s >>> 16) & 255;
  });
}

// With more than one thread, onnxruntime's workers spin between runs by default;
// on a 2-core machine they then fight the thread that calls run (1024^3 at 2
// threads: 4.7 ms spinning, 2.5 ms not, 4.0 ms at 1 thread), so spinning is off.
async function ortSession(model: Uint8Array, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: threads > 1 ? '0' : '1' } } },
  });
}

function threadsFor(shape: Shape3, options: GemmBenchOptions): number[] {
  if (options.threads) return options.threads;
  const [m, k, n] = shape;
  return m * k * n >= 1 << 30 && os.cpus().length >= 2 ? [1, 2] : [1];
}

export async function benchGemm(options: GemmBenchOptions = {}): Promise<Measurement[]> {
  const shapes = options.shapes ?? GEMM_SHAPES;
  const budget = options.budgetMs ?? 400;
  const results: Measurement[] = [];
  const originalIsa = cpu.isa, originalThreads = cpu.threads;
  const best = cpu.available()[cpu.available().length - 1];
  const peak = peaks();
  const rows: (string | number)[][] = [['M,K,N', 'thr', 'impl', 'median ms', 'min ms', 'GOPS', 'x ort u8s8', '% peak']];
  const summary: string[] = [];
  for (const shape of shapes) {
    const [m, k, n] = shape;
    const ops2 = 2 * m * n * k;
    const label = `${m},${k},${n}`;
    const aU8 = new Tensor('uint8', randomBytes(m * k, false, 1), [m, k]);
    const aS8 = new Tensor('int8', randomBytes(m * k, true, 2), [m, k]);
    const b = new Tensor('int8', randomBytes(k * n, true, 3), [k, n]);
    const out = Tensor.zeros('int32', [m, n]);
    for (const threads of threadsFor(shape, options)) {
      cpu.setThreads(threads);
      const first = results.length;
      const record = (impl: string, r: { ms: number; samples: number; minMs: number }, isa?: string) => {
        const gops = ops2 / (r.ms * 1e6);
        results.push({ suite: 'gemm', case: label, impl, isa, threads, medianMs: r.ms, minMs: r.minMs, samples: r.samples, gops, m, k, n });
      };

      // onnxruntime-node, B as an initializer so it can prepack.
      for (const [ta, a] of [['uint8', aU8], ['int8', aS8]] as const) {
        const model = buildModel({
          nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b'], outputs: ['y'] }],
          inputs: [{ name: 'a', dtype: ta, shape: [m, k] }],
          outputs: [{ name: 'y', dtype: 'int32', shape: [m, n] }],
          initializers: { b },
        });
        const s = await ortSession(model, threads);
        const feed = { a: new ort.Tensor(ta, a.data as Uint8Array, [m, k]) };
        await s.run(feed);
        const r = await medianMs(() => s.run(feed), budget);
        record(`ort MatMulInteger ${ta === 'uint8' ? 'u8s8' : 's8s8'}`, r);
        await s.release();
      }
      if (threads === 1) {
        const bf = new Tensor('float32', Float32Array.from(b.data as Int8Array, (v) => v / 64), [k, n]);
        const model = buildModel({
          nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
          inputs: [{ name: 'a', dtype: 'float32', shape: [m, k] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [m, n] }],
          initializers: { b: bf },
        });
        const s = await ortSession(model, threads);
        const feed = { a: new ort.Tensor('float32', Float32Array.from(aU8.data as Uint8Array, (v) => v / 255), [m, k]) };
        const r = await medianMs(() => s.run(feed), budget);
        record('ort MatMul fp32', r);
        await s.release();
      }

      // Every path at 1 thread; only the best one when scaling.
      for (const isa of threads === 1 ? cpu.available() : [best]) {
        // The scalar reference is the ground truth, not a contender: keep it to small shapes.
        if (isa === 'ref' && m * n * k > 1 << 24) continue;
        cpu.setIsa(isa);
        const packed = ops.packMatrix(b, 0);
        for (const [tag, a] of [['u8s8', aU8], ['s8s8', aS8]] as const) {
          const r = await medianMs(() => ops.matmulInteger(a, packed, 0, undefined, { out }), budget);
          record(`lowbit ${tag}`, r, isa);
        }
        if (isa === best) {
          const r = await medianMs(() => ops.matmulInteger(aU8, packed, 0), budget);
          record('lowbit u8s8 new out', r, isa);
        }
      }
      cpu.setIsa(originalIsa);

      const mine = results.slice(first);
      const ortU8 = mine.find((x) => x.impl === 'ort MatMulInteger u8s8')!;
      for (const x of mine) {
        const p = x.isa ? peak[x.isa] : undefined;
        x.ratioVsOrtU8s8 = ortU8.medianMs / x.medianMs;
        if (p) x.fractionOfPeak = x.gops! / (p * threads);
        rows.push([label, threads, x.isa ? `${x.impl} [${x.isa}]` : x.impl, x.medianMs, x.minMs as number, x.gops!, x.ratioVsOrtU8s8 as number,
          p ? `${((100 * x.gops!) / (p * threads)).toFixed(0)}%` : '']);
      }
      const top = mine.filter((x) => x.impl === 'lowbit u8s8').sort((x, y) => x.medianMs - y.medianMs)[0];
      if (top) {
        let line = `${label} ${threads}t: best lowbit u8s8 ${top.gops!.toFixed(0)} GOPS [${top.isa}] = ${(top.ratioVsOrtU8s8 as number).toFixed(2)}x ort u8s8 (${ortU8.gops!.toFixed(0)} GOPS)`;
        if (threads > 1) {
          const one = results.find((x) => x.case === label && x.threads === 1 && x.impl === top.impl && x.isa === top.isa);
          if (one) {
            top.speedupVs1Thread = one.medianMs / top.medianMs;
            line += `; ${threads} threads vs 1: lowbit ${(top.speedupVs1Thread as number).toFixed(2)}x`;
            const ort1 = results.find((x) => x.case === label && x.threads === 1 && x.impl === ortU8.impl);
            if (ort1) line += `, ort ${(ort1.medianMs / ortU8.medianMs).toFixed(2)}x`;
          }
        }
        summary.push(line);
      }
    }
  }
  cpu.setThreads(originalThreads);
  console.log(table(rows));
  console.log(`\n${summary.join('\n')}`);
  if (Object.keys(peak).length) console.log(`\npeaks (GOPS per core, ../shared/tools/peak): ${JSON.stringify(peak)}`);
  return results;
}
