// npm run bench -- calibration: the calibration target. 500 rendered
// text lines in batches of 8 through the fp32 classifier (Session.run, plans
// made beforehand), against quantizeStatic's calibration over the same batches
// with each method (its calibrationMs: the fp32 run with the statistics steps,
// planning included). Rounds alternate inference and calibration so that a slow
// spell of this shared machine falls on both; medians of the rounds.
import { cpu } from '../lib';
import { defaultModelPath } from '../lib/cli/default-job';
import { CalibrationMethod } from '../lib/quant/observers';
import { batchOf, renderTextLines } from '../lib/quant/data/textlines';
import { quantizeStaticDetailed } from '../lib/quant/static';
import { Session, type Feeds } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { Measurement } from './harness';

const METHODS: CalibrationMethod[] = ['minmax', 'moving-average', 'percentile', 'entropy', 'mse'];

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

export async function benchCalibration(o: { threads?: number[]; rounds?: number; images?: number } = {}): Promise<Measurement[]> {
  const images = o.images ?? 500, rounds = o.rounds ?? 3;
  const lines = renderTextLines(images, { seed: 1 });
  const batches: Feeds[] = [];
  for (let i = 0; i < lines.length; i += 8) {
    const part = lines.slice(i, i + 8);
    batches.push({ x: new Tensor('float32', batchOf(part), [part.length, 3, 48, 192]) });
  }
  const model = defaultModelPath();
  const results: Measurement[] = [];
  const before = cpu.threads;
  try {
    for (const threads of o.threads ?? [1, 2]) {
      cpu.setThreads(threads);
      const session = await Session.create(model);
      for (const b of batches.slice(-2)) await session.run(b); // both batch shapes planned
      const inference: number[] = [];
      const calibration = new Map<CalibrationMethod, number[]>(METHODS.map((m) => [m, []]));
      for (let r = 0; r < rounds; r++) {
        const t = process.hrtime.bigint();
        for (const b of batches) await session.run(b);
        inference.push(Number(process.hrtime.bigint() - t) / 1e6);
        for (const method of METHODS) calibration.get(method)!.push((await quantizeStaticDetailed(model, { calibration: batches, method })).calibrationMs);
      }
      const fp32 = median(inference);
      console.log(`${threads} thread${threads > 1 ? 's' : ''}: fp32 inference over ${images} images ${fp32.toFixed(0)} ms (median of ${rounds})`);
      results.push({ suite: 'calibration', case: `fp32 inference ${images} images`, impl: 'lowbit', threads, medianMs: fp32, samples: rounds });
      for (const method of METHODS) {
        const ms = median(calibration.get(method)!);
        console.log(`  ${method.padEnd(15)} calibration ${ms.toFixed(0).padStart(4)} ms  ${(ms / fp32).toFixed(2)}x inference (target <= 2x)`);
        results.push({ suite: 'calibration', case: `calibration ${method} ${images} images`, impl: 'lowbit', threads, medianMs: ms, samples: rounds, xInference: ms / fp32 });
      }
    }
  } finally {
    cpu.setThreads(before);
  }
  return results;
}
