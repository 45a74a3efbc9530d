// npm run bench [-- SUITE...] [--json FILE] [--quick]
// Suites: gemm (default). Prints medians, GOPS and ratios against
// onnxruntime-node measured in the same process; --json writes every result
// with the machine record so another machine's file can be compared with it.
import * as fs from 'node:fs';
import { benchGemm } from './gemm';
import { machine, Measurement } from './harness';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let json: string | undefined;
  const suites: string[] = [];
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = argv[++i];
    else if (argv[i] === '--quick') quick = true;
    else if (argv[i].startsWith('--')) throw new Error(`unknown option ${argv[i]}`);
    else suites.push(argv[i]);
  }
  if (suites.length === 0) suites.push('gemm');
  const m = machine();
  console.log(`lowbit bench on ${m.cpuModel} (${m.cores} cores), node ${m.node}, active path ${m.isa}, paths ${(m.available as string[]).join(' ')}`);
  const results: Measurement[] = [];
  for (const s of suites) {
    console.log(`\n== ${s}`);
    if (s === 'gemm') results.push(...(await benchGemm({ budgetMs: quick ? 100 : 400, shapes: quick ? [[1, 1024, 1024], [64, 512, 512], [256, 256, 256]] : undefined })));
    else throw new Error(`unknown suite '${s}' (available: gemm)`);
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
