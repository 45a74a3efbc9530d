#!/usr/bin/env node
// The lowbit command line. `lowbit demo` is what `npm start` runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpu, LowbitError, ops, Tensor } from '..';
import { compare, parse, renderSvg, renderTable } from './bench-compare';
import { benchCommand, inspectCommand, quantizeCommand, runCommand } from './commands';
import { runDefaultJob } from './default-job';

const HELP = `usage: lowbit <command>

commands:
  start    the default job: quantize the PaddleOCR text-direction classifier with rendered
           text lines; fp32 vs int8 accuracy, agreement, sizes and speed vs onnxruntime-node
  quantize in.onnx -o out.onnx --calib DIR|textlines:N [--method minmax|moving-average|
           percentile|entropy|mse] [--per-tensor] [--activation uint8|int8] [--reduce-range]
           [--exclude NAME,..] [--exclude-op TYPE,..] [--report out.html]
           static post-training quantization to a QDQ model (DIR: images, or .npy batches
           named after the input); --dynamic: int8 MatMul/Gemm weights, no calibration
           (lowbit quantize --help for every option)
  run      model.onnx [--input name=file.npy] [--shape name=1,3,224,224] [--runs N] [--threads N] [--profile]
           median latency with run and runSync; --profile: every step's time, slowest first
  inspect  model.onnx: inputs, outputs, ops, what lowbit's passes make of it, and the
           quantization parameters of a quantized model
  bench    model.onnx [--batch 1,8] [--shape x=1,3,48,192] [--threads N] [--runs N]:
           lowbit vs onnxruntime-node on the same model and inputs, in one process
  demo     show this CPU's features and kernel path, then run and check an int8 GEMM
  isa      list the kernel paths: compiled into this build, supported by this CPU, active
  bench-compare A.json B.json [--svg out.svg]
           two \`npm run bench -- --json\` files side by side, with ratios and an SVG bar chart
  help     this text

environment:
  LOWBIT_ISA=ref|avx2|avxvnni|avx512vnni|amx|neon|neondot   force a kernel path`;

function isaCommand(): void {
  console.log(`active: ${cpu.isa}`);
  for (const i of cpu.isas()) {
    console.log(`  ${i.name.padEnd(11)} ${i.compiled ? 'compiled' : '-       '}  ${i.supported ? 'cpu supports' : '-'}${i.name === cpu.isa ? '  <- active' : ''}`);
  }
}

function demo(): void {
  const f = cpu.features();
  const on = Object.entries(f).filter(([, v]) => v).map(([k]) => k);
  console.log(`lowbit on ${process.arch}: features ${on.join(' ') || '(none)'}`);
  console.log(`kernel paths available: ${cpu.available().join(' ')}; active: ${cpu.isa}; threads: ${cpu.threads}`);
  const [m, k, n] = [64, 256, 128];
  let seed = 7;
  const rand = (lo: number, hi: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return lo + ((seed >>> 16) % (hi - lo + 1));
  };
  const a = new Tensor('uint8', Array.from({ length: m * k }, () => rand(0, 255)), [m, k]);
  const b = new Tensor('int8', Array.from({ length: k * n }, () => rand(-127, 127)), [k, n]);
  const packed = ops.packMatrix(b, 0);
  const t0 = process.hrtime.bigint();
  const reps = 50;
  let y = ops.matmulInteger(a, packed, 128);
  for (let i = 1; i < reps; i++) y = ops.matmulInteger(a, packed, 128);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / reps;
  // Check against the reference path.
  const active = cpu.isa;
  cpu.setIsa('ref');
  const ref = ops.matmulInteger(a, b, 128, 0);
  cpu.setIsa(active);
  const same = (y.data as Int32Array).every((v, i) => v === (ref.data as Int32Array)[i]);
  console.log(`int8 GEMM ${m}x${k} * ${k}x${n} (u8 x s8 -> s32) on ${active}: ${ms.toFixed(3)} ms, ${((2 * m * n * k) / (ms * 1e6)).toFixed(1)} GOPS; ` +
    `${same ? 'bit-identical to the reference path' : 'MISMATCH with the reference path'}`);
  const q = ops.qlinearMatmul(a, 0.02, 128, packed, 0.01, undefined, 0.5, 128);
  console.log(`requantized to uint8 (QLinearMatMul): first row ${Array.from(q.data.subarray(0, 8)).join(' ')} ...`);
  if (!same) process.exitCode = 1;
}

function benchCompare(args: string[]): void {
  const files: string[] = [];
  let svg: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--svg') svg = args[++i];
    else files.push(args[i]);
  }
  if (files.length !== 2 || (svg !== undefined && svg.startsWith('--')) || args[args.length - 1] === '--svg') {
    console.error('usage: lowbit bench-compare A.json B.json [--svg out.svg]');
    process.exitCode = 2;
    return;
  }
  const [a, b] = files.map((f) => {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (err) {
      throw new LowbitError('E_ARG', `cannot read ${f}: ${(err as Error).message}`);
    }
    return parse(text, f);
  });
  let names = files.map((f) => path.basename(f, '.json')) as [string, string];
  if (names[0] === names[1]) names = ['A', 'B'];
  const c = compare(a, b, names);
  console.log(renderTable(c));
  if (svg !== undefined) {
    fs.writeFileSync(svg, renderSvg(c));
    console.log(`wrote ${svg}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const cmd = argv[0] ?? 'help';
  switch (cmd) {
    case 'start': return runDefaultJob();
    case 'quantize': return quantizeCommand(argv.slice(1));
    case 'run': return runCommand(argv.slice(1));
    case 'inspect': return inspectCommand(argv.slice(1));
    case 'bench': return benchCommand(argv.slice(1));
    case 'demo': return demo();
    case 'isa': return isaCommand();
    case 'bench-compare': return benchCompare(argv.slice(1));
    case 'help': case '--help': case '-h': console.log(HELP); return;
    default:
      console.error(`lowbit: unknown command '${cmd}'\n\n${HELP}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof LowbitError) {
    console.error(`lowbit: ${err.message} [${err.code}]`);
    process.exitCode = 1;
  } else {
    throw err;
  }
});
