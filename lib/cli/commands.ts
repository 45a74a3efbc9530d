// lowbit quantize | run | inspect | bench-model: the model commands of the CLI.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpu } from '../cpu';
import { fail } from '../errors';
import { importModelFile } from '../graph/import';
import { CalibrationMethod } from '../quant/observers';
import { quantizeStaticDetailed, StaticResult } from '../quant/static';
import { Session, type Feeds } from '../runtime/session';
import { Tensor } from '../tensor/tensor';
import { arrayClass } from '../tensor/dtype';
import { batchOf, renderTextLines } from '../quant/data/textlines';
import { readNpy } from '../quant/data/npy';
import { imageFiles, imageFolderBatches } from '../quant/data/images';
import { quantizeDynamicDetailed } from '../quant/dynamic';
import { quantizeWeightOnlyDetailed } from '../quant/weight-only';
import { layerTable, renderReportHtml } from '../quant/report';

/** --flag value / --flag=value / --switch parsing with the flags a command accepts. */
export function parseArgs(argv: string[], valued: string[], switches: string[]): { positional: string[]; flags: Record<string, string | true> } {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.replace(/^--?/, '').split('=', 2);
    if (switches.includes(name)) flags[name] = true;
    else if (valued.includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined) fail('E_ARG', `--${name} needs a value`);
      flags[name] = v;
    } else fail('E_ARG', `unknown option ${a}`);
  }
  return { positional, flags };
}

const numbers = (v: string | true | undefined, what: string): number[] | undefined => {
  if (v === undefined) return undefined;
  if (v === true) fail('E_ARG', `--${what} needs a value`);
  const list = v.split(',').map(Number);
  if (list.some((x) => !Number.isFinite(x))) fail('E_ARG', `--${what}: expected numbers separated by commas, got '${v}'`);
  return list;
};

/**
 * Calibration batches: rendered text lines ("textlines:N"), a folder of .npy
 * batches (named after the input), or a folder of images (decoded with sharp,
 * sized and laid out as the model's input says unless --size/--layout say otherwise).
 */
function calibration(spec: string, batch: number, model: string, flags: Record<string, string | true>): Iterable<Feeds> | AsyncIterable<Feeds> & { batches: number } {
  const m = /^textlines:(\d+)$/.exec(spec);
  if (m) {
    const lines = renderTextLines(Number(m[1]), { seed: 1 });
    const out: Feeds[] = [];
    for (let i = 0; i < lines.length; i += batch) {
      const part = lines.slice(i, i + batch);
      out.push({ x: new Tensor('float32', batchOf(part), [part.length, 3, 48, 192]) });
    }
    return out;
  }
  if (!fs.existsSync(spec) || !fs.statSync(spec).isDirectory()) fail('E_ARG', `--calib ${spec}: not a folder (give a folder of images or of .npy batches, or textlines:N)`);
  const files = fs.readdirSync(spec).filter((f) => f.endsWith('.npy')).sort();
  if (files.length > 0) return files.map((f) => ({ [path.basename(f, '.npy').split('.')[0]]: readNpy(path.join(spec, f)) }));
  if (imageFiles(spec).length === 0) fail('E_ARG', `--calib ${spec}: no images and no .npy files in the folder`);
  const g = importModelFile(model);
  const input = g.inputs[0];
  const dims = input.shape;
  let layout = (flags.layout ?? (dims.length === 4 && (dims[3] === 3 || dims[3] === 1) && dims[1] !== 3 && dims[1] !== 1 ? 'nhwc' : 'nchw')) as string;
  if (layout !== 'nchw' && layout !== 'nhwc') fail('E_ARG', `--layout must be nchw or nhwc, got '${layout}'`);
  let [h, w] = layout === 'nhwc' ? [dims[1], dims[2]] : [dims[2], dims[3]];
  const size = numbers(typeof flags.size === 'string' ? flags.size.replace('x', ',') : flags.size, 'size');
  if (size) [w, h] = size;
  if (typeof w !== 'number' || typeof h !== 'number') fail('E_ARG', `the model input '${input.name}' is [${dims.join(', ')}]: give the image size with --size WxH`);
  const c = layout === 'nhwc' ? dims[3] : dims[1];
  return imageFolderBatches(spec, {
    input: input.name, width: w, height: h, layout: layout as 'nchw' | 'nhwc', channels: c === 1 ? 1 : 3, batch,
    mean: numbers(flags.mean, 'mean'), std: numbers(flags.std, 'std'), scale: numbers(flags.scale, 'scale')?.[0],
    fit: flags.fit as 'fill' | 'cover' | 'contain' | undefined, limit: flags.limit !== undefined ? Number(flags.limit) : undefined,
  });
}

function progressBar(total: number): (done: number) => void {
  return (done) => {
    const pct = Math.floor((100 * done) / total);
    const bar = '#'.repeat(Math.round(pct / 4)).padEnd(25, '.');
    if (process.stderr.isTTY) process.stderr.write(`\r  calibrating [${bar}] ${pct}% (${done}/${total})${done === total ? '\n' : ''}`);
  };
}

export function printReport(r: StaticResult, log: (l: string) => void = console.log): void {
  log(`calibration: ${r.calibrationBatches} batches in ${r.calibrationMs} ms`);
  log(`model size: ${(r.fp32Bytes / 1024).toFixed(1)} KiB fp32 -> ${(r.model.length / 1024).toFixed(1)} KiB int8 (${(r.model.length / r.fp32Bytes).toFixed(2)}x)`);
  log('');
  log(`${'activation'.padEnd(36)} ${'min'.padStart(9)} ${'max'.padStart(9)} ${'scale'.padStart(10)} zp`);
  for (const a of r.activations) log(`${a.name.slice(0, 36).padEnd(36)} ${a.range[0].toFixed(3).padStart(9)} ${a.range[1].toFixed(3).padStart(9)} ${a.scale.toPrecision(4).padStart(10)} ${a.zeroPoint}`);
  log('');
  log(`${'weights of'.padEnd(36)} ${'min'.padStart(9)} ${'max'.padStart(9)} channels`);
  for (const w of r.weights) log(`${`${w.node} (${w.opType})`.slice(0, 36).padEnd(36)} ${w.min.toFixed(3).padStart(9)} ${w.max.toFixed(3).padStart(9)} ${w.channels}`);
  if (r.layers) {
    log('');
    log('per-layer error of the quantized model against fp32 (first calibration batch):');
    for (const l of layerTable(r.layers)) log(l);
    for (const o of r.outputs ?? []) log(`output ${o.name}: SQNR ${o.sqnr.toFixed(1)} dB`);
  }
}

const QUANTIZE_USAGE = `usage: lowbit quantize in.onnx -o out.onnx --calib DIR|textlines:N [options]
       lowbit quantize in.onnx -o out.onnx --dynamic [--per-tensor] [--exclude ...]
       lowbit quantize in.onnx -o out.onnx --weights int4|int8 [--block-size 0|32|64|128] [--exclude ...]
  --dynamic               int8 MatMul/Gemm weights, activations quantized at run time (no calibration)
  --weights int4|int8     weight-only MatMul/Gemm (fp32 activations); blocks along K (default 32, 0: per channel)
  --method minmax|moving-average|percentile|entropy|mse   (default minmax)
  --per-tensor            one weight scale per tensor (default: per output channel)
  --activation uint8|int8 --reduce-range --percentile P
  --histogram-sample N    histogram methods: bin one value block in N of large activations (default 8; 1: every value)
  --exclude NAME,..  --exclude-op TYPE,..    leave these nodes in fp32
  --ort-hardswish         quantize between a Conv and its HardSwish, as onnxruntime's quantizer does
                          (default: after the HardSwish; lowbit fuses the pair, onnxruntime runs that Conv in float)
  --report out.html       per-layer SQNR table, and an HTML page with charts
  image folders: --size WxH --layout nchw|nhwc --mean a,b,c --std a,b,c --scale S --fit fill|cover|contain --limit N
  --batch N (default 8) --quiet`;

function histogramSampleFlag(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail('E_ARG', `--histogram-sample must be a whole number of at least 1 (1 bins every value), got '${String(v)}'`);
  return n;
}

export async function quantizeCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(QUANTIZE_USAGE);
    return;
  }
  const { positional, flags } = parseArgs(argv,
    ['o', 'output', 'calib', 'method', 'activation', 'exclude', 'exclude-op', 'batch', 'percentile', 'report', 'size', 'layout', 'mean', 'std', 'scale', 'fit', 'limit', 'weights', 'block-size', 'histogram-sample'],
    ['per-channel', 'per-tensor', 'reduce-range', 'quiet', 'dynamic', 'ort-hardswish']);
  if (positional.length !== 1) fail('E_ARG', QUANTIZE_USAGE);
  const out = (flags.o ?? flags.output) as string | undefined;
  if (typeof out !== 'string') fail('E_ARG', 'quantize: say where to write the model with -o out.onnx');
  const exclude = { names: typeof flags.exclude === 'string' ? flags.exclude.split(',') : [], opTypes: typeof flags['exclude-op'] === 'string' ? flags['exclude-op'].split(',') : [] };
  if (flags.dynamic === true) {
    const r = await quantizeDynamicDetailed(positional[0], { perChannel: flags['per-tensor'] !== true, reduceRange: flags['reduce-range'] === true, exclude });
    fs.writeFileSync(out, r.model);
    console.log(`dynamic quantization: ${r.quantized.length} MatMul/Gemm nodes with int8 weights; ${(r.fp32Bytes / 1024).toFixed(1)} KiB -> ${(r.model.length / 1024).toFixed(1)} KiB (${(r.model.length / r.fp32Bytes).toFixed(2)}x)`);
    console.log(`wrote ${out}`);
    return;
  }
  if (flags.weights !== undefined) {
    if (flags.weights !== 'int4' && flags.weights !== 'int8') fail('E_ARG', `--weights must be int4 or int8, got '${String(flags.weights)}'`);
    const bits = flags.weights === 'int4' ? 4 : 8;
    const blockSize = flags['block-size'] !== undefined ? Number(flags['block-size']) : undefined;
    const r = await quantizeWeightOnlyDetailed(positional[0], { bits, blockSize, exclude });
    fs.writeFileSync(out, r.model);
    console.log(`weight-only ${flags.weights}: ${r.quantized.length} MatMul/Gemm nodes; ${(r.fp32Bytes / 1024).toFixed(1)} KiB -> ${(r.model.length / 1024).toFixed(1)} KiB (${(r.model.length / r.fp32Bytes).toFixed(2)}x)`);
    console.log(`wrote ${out}`);
    return;
  }
  if (typeof flags.calib !== 'string') fail('E_ARG', 'quantize: --calib DIR (a folder of images or of .npy batches named after the input), or --calib textlines:N, is required (or --dynamic, or --weights int4)');
  const batches = calibration(flags.calib, Number(flags.batch ?? 8), positional[0], flags);
  const total = Array.isArray(batches) ? batches.length : (batches as { batches: number }).batches;
  const method = (flags.method ?? 'minmax') as CalibrationMethod;
  const r = await quantizeStaticDetailed(positional[0], {
    calibration: batches,
    method,
    percentile: flags.percentile !== undefined ? Number(flags.percentile) : undefined,
    histogramSample: histogramSampleFlag(flags['histogram-sample']),
    perChannel: flags['per-tensor'] !== true,
    activationType: (flags.activation ?? 'uint8') as 'uint8' | 'int8',
    reduceRange: flags['reduce-range'] === true,
    fuseHardSwish: flags['ort-hardswish'] !== true,
    exclude,
    onProgress: progressBar(total),
    report: typeof flags.report === 'string',
  });
  fs.writeFileSync(out, r.model);
  if (flags.quiet !== true) printReport(r);
  if (typeof flags.report === 'string') {
    fs.writeFileSync(flags.report, renderReportHtml(r, { model: positional[0], method }));
    console.log(`\nwrote the report to ${flags.report}`);
  }
  console.log(`wrote ${out}`);
}

function describeTensor(name: string, t: Tensor): string {
  const d = t.data as ArrayLike<number>;
  let lo = Infinity, hi = -Infinity, arg = 0;
  for (let i = 0; i < d.length; i++) {
    if (d[i] < lo) lo = d[i];
    if (d[i] > hi) {
      hi = d[i];
      arg = i;
    }
  }
  const head = Array.from({ length: Math.min(6, d.length) }, (_, i) => Number(d[i]).toPrecision(4)).join(' ');
  return `${name}: ${t.dtype} [${t.shape.join(', ')}]  min ${lo.toPrecision(4)} max ${hi.toPrecision(4)} (at ${arg})  ${head}${d.length > 6 ? ' ...' : ''}`;
}

export async function runCommand(argv: string[]): Promise<void> {
  const { positional, flags } = parseArgs(argv, ['input', 'shape', 'runs', 'threads'], ['profile']);
  if (positional.length !== 1) fail('E_ARG', 'usage: lowbit run model.onnx [--input name=file.npy] [--shape name=1,3,224,224] [--runs N] [--threads N] [--profile]');
  if (flags.threads !== undefined) cpu.setThreads(Number(flags.threads));
  const session = await Session.create(positional[0]);
  const feeds: Feeds = {};
  for (const spec of [flags.input, flags.shape].filter((v): v is string => typeof v === 'string')) {
    const [name, value] = spec.split('=', 2);
    if (value === undefined) fail('E_ARG', `expected name=value, got '${spec}'`);
    if (value.endsWith('.npy')) feeds[name] = readNpy(value);
    else {
      const shape = value.split(',').map(Number);
      const meta = session.inputMetadata.find((m) => m.name === name);
      if (!meta) fail('E_ARG', `'${name}' is not an input (inputs: ${session.inputNames.join(', ')})`);
      const data = new (arrayClass(meta.dtype))(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = meta.dtype === 'float32' ? Math.sin(i * 0.1) : i % 100;
      feeds[name] = new Tensor(meta.dtype, data as never, shape);
    }
  }
  for (const m of session.inputMetadata) {
    if (feeds[m.name] === undefined) {
      if (m.shape.some((d) => typeof d !== 'number')) fail('E_ARG', `input '${m.name}' has free dimensions [${m.shape.join(', ')}]: give --shape ${m.name}=... or --input ${m.name}=file.npy`);
      const shape = m.shape as number[];
      const data = new (arrayClass(m.dtype))(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = m.dtype === 'float32' ? Math.sin(i * 0.1) : i % 100;
      feeds[m.name] = new Tensor(m.dtype, data as never, shape);
    }
  }
  const r = await session.run(feeds);
  for (const name of session.outputNames) console.log(describeTensor(name, r[name]));
  const runs = Number(flags.runs ?? 20);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const syncTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    session.runSync(feeds);
    syncTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  syncTimes.sort((a, b) => a - b);
  console.log(`median ${times[times.length >> 1].toFixed(3)} ms (run), ${syncTimes[syncTimes.length >> 1].toFixed(3)} ms (runSync) over ${runs} runs on ${cpu.isa}, ${cpu.threads} thread(s)`);
  if (flags.profile === true) {
    // Every step timed (two clock reads each), slowest first.
    const steps = await session.profile(feeds, runs);
    const total = steps.reduce((a, s) => a + s.ms, 0);
    console.log(`\nper step over ${runs} runSync runs (sum ${(total * 1000).toFixed(1)} us), slowest first:`);
    console.log(`${'us'.padStart(9)} ${'share'.padStart(6)}  ${'kernel'.padEnd(32)} step`);
    for (const s of steps) console.log(`${(s.ms * 1000).toFixed(2).padStart(9)} ${(100 * s.share).toFixed(1).padStart(5)}%  ${s.label.padEnd(32)} ${s.step}`);
  }
}

export async function inspectCommand(argv: string[]): Promise<void> {
  const { positional } = parseArgs(argv, [], []);
  if (positional.length !== 1) fail('E_ARG', 'usage: lowbit inspect model.onnx');
  const file = positional[0];
  const g = importModelFile(file);
  console.log(`${file}: ${(fs.statSync(file).size / 1024).toFixed(1)} KiB, opset ${g.opset}, ${g.nodes.length} nodes, ${g.constants.size} constants`);
  for (const v of g.inputs) console.log(`  input  ${v.name}: ${v.dtype} [${v.shape.join(', ')}]`);
  for (const v of g.outputs) console.log(`  output ${v.name}: ${v.dtype} [${v.shape.join(', ')}]`);
  const counts = new Map<string, number>();
  for (const n of g.nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  console.log(`  ops: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const session = Session.createSync(file);
  const p = session.passes!;
  console.log(`  lowbit runs it as: ${p.batchNormsFolded} BatchNorms folded, ${p.hardSwishMatched} HardSwish matched, ${p.activationsFused} activations fused, ${p.qdqFused} int8 QDQ groups, ${p.lookupTables} int8 lookup tables, ${p.dynamicMatMuls} dynamic int8 MatMuls`);
  // A quantized model: what each QuantizeLinear chose, and the weights' types.
  const scalar = (name: string | undefined) => (name && g.constants.has(name) ? g.constants.get(name)! : undefined);
  const qs = g.nodes.filter((n) => n.opType === 'QuantizeLinear');
  if (qs.length > 0) {
    console.log('');
    console.log(`  ${'quantized activation'.padEnd(36)} ${'scale'.padStart(11)} ${'zp'.padStart(4)}  representable range`);
    for (const n of qs) {
      const s = scalar(n.inputs[1]), z = scalar(n.inputs[2]);
      if (!s || s.size !== 1) continue;
      const sc = Number(s.data[0]), zp = z ? Number(z.data[0]) : 0;
      const [lo, hi] = z?.dtype === 'int8' ? [-128, 127] : [0, 255];
      console.log(`  ${n.inputs[0].slice(0, 36).padEnd(36)} ${sc.toPrecision(5).padStart(11)} ${String(zp).padStart(4)}  [${(sc * (lo - zp)).toFixed(3)}, ${(sc * (hi - zp)).toFixed(3)}]`);
    }
  }
  const weights = g.nodes.filter((n) => n.opType === 'DequantizeLinear' && g.constants.has(n.inputs[0]));
  if (weights.length > 0) {
    const bytes = new Map<string, number>();
    for (const n of weights) {
      const t = g.constants.get(n.inputs[0])!;
      bytes.set(t.dtype, (bytes.get(t.dtype) ?? 0) + t.size);
    }
    console.log(`  quantized constants: ${[...bytes].map(([k, v]) => `${v} ${k} values`).join(', ')} in ${weights.length} DequantizeLinear nodes`);
  }
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median ms of `f` over `runs` calls after a warm-up, interleaved with nothing else. */
async function timeRuns(f: () => Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < Math.min(10, runs); i++) await f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    await f();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return median(t);
}

/** Feeds for every input: the first dimension is `batch`, the others from the model or --shape; values a fixed pattern. */
function syntheticFeeds(session: Session, batch: number, given: Record<string, number[]>): Feeds {
  const feeds: Feeds = {};
  for (const m of session.inputMetadata) {
    const dims = given[m.name] ?? m.shape;
    const shape = dims.map((d, i) => (i === 0 ? batch : d));
    if (shape.some((d) => typeof d !== 'number')) fail('E_ARG', `input '${m.name}' has free dimensions [${m.shape.join(', ')}]: give them with --shape ${m.name}=1,...`);
    const data = new (arrayClass(m.dtype))(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = m.dtype === 'float32' ? Math.sin(i * 0.37) : i % 100;
    feeds[m.name] = new Tensor(m.dtype, data as never, shape as number[]);
  }
  return feeds;
}

/** lowbit bench model.onnx: lowbit against onnxruntime-node on the same model and feeds, in one process. */
export async function benchCommand(argv: string[]): Promise<void> {
  const { positional, flags } = parseArgs(argv, ['batch', 'threads', 'runs', 'shape'], []);
  if (positional.length !== 1) fail('E_ARG', 'usage: lowbit bench model.onnx [--batch 1,8] [--shape name=1,3,224,224] [--threads N] [--runs N]');
  const given: Record<string, number[]> = {};
  if (typeof flags.shape === 'string') {
    const [name, dims] = flags.shape.split('=', 2);
    given[name] = numbers(dims, 'shape') ?? [];
  }
  const file = positional[0];
  const threads = Number(flags.threads ?? 1), runs = Number(flags.runs ?? 100);
  if (!(Number.isInteger(threads) && threads > 0)) fail('E_ARG', `--threads must be a positive integer, got ${String(flags.threads)}`);
  if (!(Number.isInteger(runs) && runs > 0)) fail('E_ARG', `--runs must be a positive integer, got ${String(flags.runs)}`);
  const batches = numbers(flags.batch, 'batch') ?? [1];
  const session = await Session.create(file, { threads });
  console.log(`${file}: lowbit ${cpu.isa}, ${threads} thread(s), median of ${runs} runs`);
  let ort: typeof import('onnxruntime-node') | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  } catch {
    console.log('(onnxruntime-node is not installed: lowbit only)');
  }
  const ortSession = ort ? await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1 }) : undefined;
  console.log(`${'batch'.padStart(5)} ${'lowbit ms'.padStart(10)} ${'ORT ms'.padStart(10)} ${'speedup'.padStart(8)}`);
  for (const b of batches) {
    const feeds = syntheticFeeds(session, b, given);
    const ms = await timeRuns(() => session.run(feeds), runs);
    let ortMs = NaN;
    if (ort && ortSession) {
      const of = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort!.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape])]));
      ortMs = await timeRuns(() => ortSession.run(of), runs);
    }
    console.log(`${String(b).padStart(5)} ${ms.toFixed(3).padStart(10)} ${Number.isNaN(ortMs) ? '-'.padStart(10) : ortMs.toFixed(3).padStart(10)} ${Number.isNaN(ortMs) ? '' : `${(ortMs / ms).toFixed(2)}x`.padStart(8)}`);
  }
}
