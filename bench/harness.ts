// Shared benchmark plumbing: tinybench runs, the machine record, peak figures.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';
import { cpu } from '../lib';

export interface Measurement {
  suite: string;
  case: string;
  impl: string;
  isa?: string;
  medianMs: number;
  samples: number;
  gops?: number;
  [extra: string]: unknown;
}

/** Median latency (ms) of fn under tinybench, with a small time budget. */
export async function medianMs(fn: () => unknown, budgetMs = 300, minIterations = 5): Promise<{ ms: number; samples: number }> {
  const bench = new Bench({ time: budgetMs, iterations: minIterations, warmupTime: Math.min(100, budgetMs / 3), warmupIterations: 2 });
  bench.add('task', fn);
  await bench.run();
  const r = bench.tasks[0].result as unknown as { latency: { p50: number; samplesCount: number } };
  return { ms: r.latency.p50, samples: r.latency.samplesCount };
}

export function machine(): Record<string, unknown> {
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    arch: process.arch,
    platform: process.platform,
    node: process.version,
    features: cpu.features(),
    isa: cpu.isa,
    available: cpu.available(),
    threads: cpu.threads,
    date: new Date().toISOString(),
  };
}

/**
 * Per-core instruction peaks (GOPS = 2 x G-MAC/s) from ../shared/tools/peak's
 * results file when present (the single-thread G/s of each path).
 */
export function peaks(): Record<string, number> {
  const file = path.resolve(__dirname, '..', '..', '..', 'shared', 'tools', 'peak', 'results-this-machine.txt');
  const out: Record<string, number> = {};
  if (!fs.existsSync(file)) return out;
  const map: Record<string, string> = {
    avx2_maddubs_ymm: 'avx2',
    avxvnni_dpbusd_ymm: 'avxvnni',
    avx512vnni_dpbusd_zmm: 'avx512vnni',
    amx_tdpbssd: 'amx',
  };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    // kernel  thr  unit (one or two words)  G/s/core  ...
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !map[f[0]] || f[1] !== '1') continue;
    const perCore = f.slice(2).find((t) => /^[0-9.]+$/.test(t));
    if (perCore) out[map[f[0]]] = 2 * Number(perCore);
  }
  return out;
}

export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(c < 10 ? 3 : 1)) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}
