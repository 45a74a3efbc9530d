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

/** Median latency (ms) of fn under tinybench, with a small time budget; minMs too (on a busy machine, the least disturbed run). */
export async function medianMs(fn: () => unknown, budgetMs = 300, minIterations = 5): Promise<{ ms: number; samples: number; minMs: number }> {
  const bench = new Bench({ time: budgetMs, iterations: minIterations, warmupTime: Math.min(100, budgetMs / 3), warmupIterations: 2 });
  bench.add('task', fn);
  await bench.run();
  const r = bench.tasks[0].result as unknown as { latency: { p50: number; min: number; samplesCount: number } };
  return { ms: r.latency.p50, samples: r.latency.samplesCount, minMs: r.latency.min };
}

/** The lowbit.node this process loaded: LOWBIT_ADDON, else what node-gyp-build picks. */
function addonPath(root: string): string | undefined {
  const explicit = process.env.LOWBIT_ADDON;
  if (explicit !== undefined && explicit !== '') return path.resolve(explicit);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('node-gyp-build') as { path(dir: string): string }).path(root);
  } catch {
    return undefined;
  }
}

function packageVersion(root: string, name?: string): string | undefined {
  try {
    const file = name === undefined ? path.join(root, 'package.json') : require.resolve(`${name}/package.json`, { paths: [root] });
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * The machine record every --json file carries, so two machines' files can be
 * compared (lowbit bench-compare): CPU, its features and the chosen kernel path,
 * cores, threads, Node, and what the addon was built with.
 */
export function machine(): Record<string, unknown> {
  // dist*/bench/harness.js -> the package root two levels up.
  const root = path.resolve(__dirname, '..', '..');
  const addon = addonPath(root);
  let build: Record<string, unknown> = { addon: addon ?? 'unknown' };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildInfo } = require(path.join(root, 'scripts', 'build-info.js')) as { buildInfo(p: string): Record<string, unknown> };
    if (addon) build = buildInfo(addon);
  } catch {
    // scripts/ not shipped: the addon path alone
  }
  if (typeof build.addon === 'string') build.addon = path.relative(root, build.addon) || build.addon;
  const features = cpu.features();
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    arch: process.arch,
    platform: process.platform,
    osRelease: os.release(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    napi: process.versions.napi,
    lowbit: packageVersion(root),
    onnxruntimeNode: packageVersion(root, 'onnxruntime-node'),
    features,
    featureList: Object.entries(features).filter(([, v]) => v).map(([k]) => k),
    isa: cpu.isa,
    forcedIsa: process.env.LOWBIT_ISA || undefined,
    available: cpu.available(),
    threads: cpu.threads,
    build,
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
