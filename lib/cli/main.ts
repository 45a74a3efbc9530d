#!/usr/bin/env node
// The lowbit command line. `lowbit demo` is what `npm start` runs.
import { cpu, LowbitError, ops, Tensor } from '..';

const HELP = `usage: lowbit <command>

commands:
  demo     show this CPU's features and kernel path, then run and check an int8 GEMM
  isa      list the kernel paths: compiled into this build, supported by this CPU, active
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

function main(argv: string[]): void {
  const cmd = argv[0] ?? 'help';
  switch (cmd) {
    case 'demo': return demo();
    case 'isa': return isaCommand();
    case 'help': case '--help': case '-h': console.log(HELP); return;
    default:
      console.error(`lowbit: unknown command '${cmd}'\n\n${HELP}`);
      process.exitCode = 2;
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  if (err instanceof LowbitError) {
    console.error(`lowbit: ${err.message} [${err.code}]`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
