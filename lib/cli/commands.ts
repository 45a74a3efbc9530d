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

/** Calibration batches: a folder of .npy files (one batch each), or rendered text lines ("textlines:N"). */
function calibration(spec: string, batch: number): Feeds[] {
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
  if (!fs.existsSync(spec) || !fs.statSync(spec).isDirectory()) fail('E_ARG', `--calib ${spec}: not a folder (give a folder of .npy batches, or textlines:N)`);
  const files = fs.readdirSync(spec).filter((f) => f.endsWith('.npy')).sort();
  if (files.length === 0) fail('E_ARG', `--calib ${spec}: no .npy files in the folder`);
  return files.map((f) => ({ [path.basename(f, '.npy').split('.')[0]]: readNpy(path.join(spec, f)) }));
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
}

export async function quantizeCommand(argv: string[]): Promise<void> {
  const { positional, flags } = parseArgs(argv, ['o', 'output', 'calib', 'method', 'activation', 'exclude', 'exclude-op', 'batch', 'percentile'], ['per-channel', 'per-tensor', 'reduce-range', 'quiet']);
  if (positional.length !== 1) fail('E_ARG', 'usage: lowbit quantize in.onnx -o out.onnx --calib DIR|textlines:N [--method minmax|moving-average|percentile|entropy|mse] [--per-tensor] [--activation uint8|int8] [--exclude NAME,..] [--exclude-op TYPE,..]');
  const out = (flags.o ?? flags.output) as string | undefined;
  if (typeof out !== 'string') fail('E_ARG', 'quantize: say where to write the model with -o out.onnx');
  if (typeof flags.calib !== 'string') fail('E_ARG', 'quantize: --calib DIR (a folder of .npy batches named after the input) or --calib textlines:N is required');
  const batches = calibration(flags.calib, Number(flags.batch ?? 8));
  const r = await quantizeStaticDetailed(positional[0], {
    calibration: batches,
    method: (flags.method ?? 'minmax') as CalibrationMethod,
    percentile: flags.percentile !== undefined ? Number(flags.percentile) : undefined,
    perChannel: flags['per-tensor'] !== true,
    activationType: (flags.activation ?? 'uint8') as 'uint8' | 'int8',
    reduceRange: flags['reduce-range'] === true,
    exclude: { names: typeof flags.exclude === 'string' ? flags.exclude.split(',') : [], opTypes: typeof flags['exclude-op'] === 'string' ? flags['exclude-op'].split(',') : [] },
    onProgress: progressBar(batches.length),
  });
  fs.writeFileSync(out, r.model);
  if (flags.quiet !== true) printReport(r);
  console.log(`\nwrote ${out}`);
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
  const { positional, flags } = parseArgs(argv, ['input', 'shape', 'runs', 'threads'], []);
  if (positional.length !== 1) fail('E_ARG', 'usage: lowbit run model.onnx [--input name=file.npy] [--shape name=1,3,224,224] [--runs N] [--threads N]');
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
  console.log(`median ${times[times.length >> 1].toFixed(3)} ms over ${runs} runs on ${cpu.isa}, ${cpu.threads} thread(s)`);
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
  console.log(`  lowbit runs it as: ${p.batchNormsFolded} BatchNorms folded, ${p.hardSwishMatched} HardSwish matched, ${p.activationsFused} activations fused, ${p.qdqFused} int8 QDQ groups, ${p.lookupTables} int8 lookup tables`);
}
