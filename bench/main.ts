// npm run bench [-- SUITE...] (gemm, binary, conv, qconv, ops, model, int4, calibration) [--json FILE] [--quick] [--threads 1,2] [--shapes MxKxN,...] [--budget MS]
// Suites: gemm (default), binary, conv (fp32 convolutions), qconv (int8
// convolutions), ops (fp32 elementwise/pool/layout), model (the classifier, fp32
// and QDQ int8, and the run floor), calibration (quantizeStatic's calibration
// over 500 images against fp32 inference over them). Prints medians, GOPS and ratios against
// onnxruntime-node measured in the same process; --json writes every result
// with the machine record (CPU, features, kernel path, cores, threads, Node,
// build flags) so another machine's file can be compared with it:
//   lowbit bench-compare this.json other.json --svg chart.svg
// --threads: thread counts for every shape (default 1, and 1 and 2 for 1024^3).
import * as fs from 'node:fs';
import { benchBinary } from './binary';
import { benchCalibration } from './calibration';
import { benchConv } from './conv';
import { benchFp32Ops } from './fp32-ops';
import { benchModel } from './model';
import { benchQconv } from './qconv';
import { benchGemm, GemmBenchOptions, Shape3 } from './gemm';
import { benchInt4 } from './int4';
import { cpu } from '../lib';
import { machine, Measurement } from './harness';

function value(flag: string, v: string | undefined): string {
  if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
  return v;
}

function list(flag: string, v: string | undefined): string[] {
  return value(flag, v).split(',').filter((x) => x !== '');
}

function positiveInt(flag: string, v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new Error(`${flag}: '${v}' is not a positive integer`);
  return x;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let json: string | undefined;
  const suites: string[] = [];
  let quick = false;
  const gemm: GemmBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = value(a, argv[++i]);
    else if (a === '--quick') quick = true;
    else if (a === '--threads') gemm.threads = list(a, argv[++i]).map((t) => positiveInt(a, t));
    else if (a === '--budget') gemm.budgetMs = positiveInt(a, value(a, argv[++i]));
    else if (a === '--shapes') {
      gemm.shapes = list(a, argv[++i]).map((s) => {
        const dims = s.split('x');
        if (dims.length !== 3) throw new Error(`--shapes: '${s}' is not MxKxN`);
        return dims.map((d) => positiveInt(a, d)) as Shape3;
      });
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else suites.push(a);
  }
  if (suites.length === 0) suites.push('gemm');
  if (quick) {
    gemm.budgetMs ??= 100;
    gemm.shapes ??= [[1, 1024, 1024], [64, 512, 512], [256, 256, 256]];
  }
  const m = machine();
  console.log(`lowbit bench on ${m.cpuModel} (${m.cores} cores), node ${m.node}, active path ${m.isa}, paths ${(m.available as string[]).join(' ')}`);
  const results: Measurement[] = [];
  for (const s of suites) {
    console.log(`\n== ${s}`);
    if (s === 'gemm') results.push(...(await benchGemm(gemm)));
    else if (s === 'binary') results.push(...(await benchBinary({ budgetMs: quick ? 100 : 400 })));
    else if (s === 'conv') results.push(...(await benchConv({ budgetMs: quick ? 100 : 400 })));
    else if (s === 'qconv') results.push(...(await benchQconv({ budgetMs: quick ? 100 : 400 })));
    else if (s === 'ops') results.push(...(await benchFp32Ops({ budgetMs: quick ? 100 : 300 })));
    else if (s === 'model') results.push(...(await benchModel({ budgetMs: quick ? 200 : 600, threads: gemm.threads })));
    else if (s === 'int4') await benchInt4(gemm.threads ?? [1], quick ? 100 : 300, cpu.available().filter((i) => i !== 'ref' && i !== 'amx'));
    else if (s === 'calibration') results.push(...(await benchCalibration({ threads: gemm.threads, rounds: quick ? 1 : 3 })));
    else throw new Error(`unknown suite '${s}' (available: gemm, binary, conv, qconv, ops, model, int4, calibration)`);
  }
  if (json) {
    fs.writeFileSync(json, JSON.stringify({ machine: m, results }, null, 2));
    console.log(`\nwrote ${json}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
