// lowbit bench-compare A.json B.json [--svg out.svg]: two `npm run bench -- --json`
// files (two machines, two builds, two kernel paths) side by side. Pure functions:
// parse, compare, renderTable, renderSvg; the command in main.ts reads and writes files.
import { fail } from '../errors';

/** One measurement as bench/ writes it. */
export interface BenchResult {
  suite: string;
  case: string;
  impl: string;
  /** The kernel path, for lowbit's own results. */
  isa?: string;
  /** Kernel threads (files without it were measured at 1). */
  threads?: number;
  medianMs: number;
  samples?: number;
  gops?: number;
  [extra: string]: unknown;
}

export interface BenchFile {
  machine: Record<string, unknown>;
  results: BenchResult[];
}

export interface ComparedRow {
  suite: string;
  case: string;
  impl: string;
  /** The path: the results' isa, or "best: X | Y" for the fastest path of each file. */
  isa: string;
  threads: number;
  a?: BenchResult;
  b?: BenchResult;
  /** Speed of B relative to A (A's median time / B's): above 1, B is faster. */
  ratio?: number;
  /** A row made from other rows (the fastest path of each side); not charted. */
  derived: boolean;
}

export interface Comparison {
  names: [string, string];
  machines: [Record<string, unknown>, Record<string, unknown>];
  rows: ComparedRow[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks one bench JSON file (`name` is for messages). */
export function parse(text: string, name = 'bench file'): BenchFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    fail('E_ARG', `${name}: not JSON (${(err as Error).message})`);
  }
  if (!isObject(raw) || !Array.isArray(raw.results)) fail('E_ARG', `${name}: expected {"machine": {...}, "results": [...]} as written by \`npm run bench -- --json FILE\``);
  const machine = isObject(raw.machine) ? raw.machine : {};
  const results = raw.results.map((r: unknown, i: number): BenchResult => {
    if (!isObject(r)) fail('E_ARG', `${name}: results[${i}] is not an object`);
    for (const key of ['suite', 'case', 'impl'] as const) {
      if (typeof r[key] !== 'string') fail('E_ARG', `${name}: results[${i}].${key} must be a string`);
    }
    if (typeof r.medianMs !== 'number' || !(r.medianMs > 0)) fail('E_ARG', `${name}: results[${i}].medianMs must be a positive number`);
    if (r.gops !== undefined && (typeof r.gops !== 'number' || !(r.gops >= 0))) fail('E_ARG', `${name}: results[${i}].gops must be a number >= 0`);
    if (r.isa !== undefined && r.isa !== null && typeof r.isa !== 'string') fail('E_ARG', `${name}: results[${i}].isa must be a string`);
    if (r.threads !== undefined && (typeof r.threads !== 'number' || !Number.isInteger(r.threads) || r.threads < 1)) {
      fail('E_ARG', `${name}: results[${i}].threads must be a positive integer`);
    }
    return { ...r, isa: typeof r.isa === 'string' ? r.isa : undefined } as BenchResult;
  });
  return { machine, results };
}

const threadsOf = (r: BenchResult): number => r.threads ?? 1;
const groupKey = (r: BenchResult): string => JSON.stringify([r.suite, r.case, r.impl, threadsOf(r)]);
const ratioOf = (a?: BenchResult, b?: BenchResult): number | undefined => (a && b ? a.medianMs / b.medianMs : undefined);

/**
 * Pairs the results of two files by suite, case, implementation, path and
 * threads, in A's order (B's extra results last). Where both files ran an
 * implementation on different sets of paths (an x86 box and an ARM box), a
 * "best" row pairs the fastest path of each.
 */
export function compare(a: BenchFile, b: BenchFile, names: [string, string] = ['A', 'B']): Comparison {
  const key = (r: BenchResult) => JSON.stringify([r.suite, r.case, r.impl, r.isa ?? '', threadsOf(r)]);
  const inB = new Map<string, BenchResult>();
  for (const r of b.results) inB.set(key(r), r);
  const used = new Set<string>();
  const groups = new Map<string, ComparedRow[]>();
  const order: string[] = [];
  const add = (x: BenchResult, ra?: BenchResult, rb?: BenchResult) => {
    const g = groupKey(x);
    if (!groups.has(g)) {
      groups.set(g, []);
      order.push(g);
    }
    groups.get(g)!.push({ suite: x.suite, case: x.case, impl: x.impl, isa: x.isa ?? '', threads: threadsOf(x), a: ra, b: rb, ratio: ratioOf(ra, rb), derived: false });
  };
  for (const r of a.results) {
    const k = key(r);
    const other = inB.get(k);
    if (other) used.add(k);
    add(r, r, other);
  }
  for (const r of b.results) if (!used.has(key(r))) add(r, undefined, r);

  const rows: ComparedRow[] = [];
  for (const g of order) {
    const group = groups.get(g)!;
    rows.push(...group);
    const fastest = (side: 'a' | 'b') => group.map((r) => r[side]).filter((r): r is BenchResult => r?.isa !== undefined)
      .sort((x, y) => x.medianMs - y.medianMs)[0];
    const pathsA = group.filter((r) => r.a?.isa).map((r) => r.isa).sort().join(' ');
    const pathsB = group.filter((r) => r.b?.isa).map((r) => r.isa).sort().join(' ');
    const fa = fastest('a'), fb = fastest('b');
    if (fa && fb && pathsA !== pathsB) {
      const first = group[0];
      rows.push({ suite: first.suite, case: first.case, impl: first.impl, isa: `best: ${fa.isa} | ${fb.isa}`, threads: first.threads,
        a: fa, b: fb, ratio: ratioOf(fa, fb), derived: true });
    }
  }
  return { names, machines: [a.machine, b.machine], rows };
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (Array.isArray(v)) return v.join(' ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** What the two machines were: CPU, cores, kernel path, Node, build. */
export function machineRows(c: Comparison): string[][] {
  const [ma, mb] = c.machines;
  const build = (m: Record<string, unknown>) => (isObject(m.build) ? m.build : {});
  const isaFlags = (m: Record<string, unknown>) => {
    const f = build(m).isaFlags;
    return isObject(f) && typeof m.isa === 'string' ? f[m.isa] : undefined;
  };
  const features = (m: Record<string, unknown>) =>
    m.featureList ?? (isObject(m.features) ? Object.entries(m.features).filter(([, v]) => v).map(([k]) => k) : undefined);
  const fields: [string, (m: Record<string, unknown>) => unknown][] = [
    ['cpu', (m) => m.cpuModel],
    ['cores', (m) => m.cores],
    ['arch', (m) => m.arch],
    ['features', features],
    ['kernel path', (m) => (m.forcedIsa ? `${str(m.isa)} (forced)` : m.isa)],
    ['paths', (m) => m.available],
    ['default threads', (m) => m.threads],
    ['node', (m) => m.node],
    ['compiler', (m) => build(m).compiler],
    ['flags', (m) => build(m).cxxFlags],
    ['path flags', isaFlags],
    ['date', (m) => m.date],
  ];
  return fields.map(([name, get]) => [name, str(get(ma)), str(get(mb))]);
}

function fmt(x: number | undefined, digits?: number): string {
  if (x === undefined) return '-';
  const d = digits ?? (x < 10 ? 3 : x < 100 ? 2 : 1);
  return x.toFixed(d);
}

function textTable(rows: string[][], rightAlignFrom: number): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i >= rightAlignFrom ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** The results side by side: times, GOPS and B's speed relative to A. */
export function renderTable(c: Comparison): string {
  const [na, nb] = c.names;
  const head = [['', na, nb], ...machineRows(c)];
  const rows: string[][] = [['case', 'thr', 'impl [path]', `${na} ms`, `${nb} ms`, `${na} GOPS`, `${nb} GOPS`, `${nb}/${na}`]];
  for (const r of c.rows) {
    rows.push([
      r.suite === 'gemm' ? r.case : `${r.suite} ${r.case}`,
      String(r.threads),
      r.isa ? `${r.impl} [${r.isa}]` : r.impl,
      fmt(r.a?.medianMs),
      fmt(r.b?.medianMs),
      fmt(r.a?.gops),
      fmt(r.b?.gops),
      r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
    ]);
  }
  return `${textTable(head, 99)}\n\n${textTable(rows, 3)}\n\n${nb}/${na}: ${na}'s median time over ${nb}'s (above 1: ${nb} is faster).`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The value charted for a result: GOPS when every charted result has it, else calls per second. */
function metricOf(c: Comparison): { name: string; value: (r: BenchResult) => number } {
  const all = c.rows.filter((r) => !r.derived).flatMap((r) => [r.a, r.b]).filter((r): r is BenchResult => r !== undefined);
  return all.every((r) => typeof r.gops === 'number')
    ? { name: 'GOPS', value: (r) => r.gops as number }
    : { name: 'calls/s', value: (r) => 1000 / r.medianMs };
}

/**
 * A bar chart (hand-written SVG): per compared row, one bar for A's result and
 * one for B's, heights proportional to GOPS (or calls/s), with the ratio above.
 * Derived "best" rows are left out, so every bar is one measurement.
 */
export function renderSvg(c: Comparison): string {
  const metric = metricOf(c);
  const rows = c.rows.filter((r) => !r.derived);
  const values = rows.flatMap((r) => [r.a, r.b]).filter((r): r is BenchResult => r !== undefined).map(metric.value);
  const max = Math.max(...values, 1e-9);
  // Labels run down and to the right at 55 degrees: room below and on the right.
  const bar = 14, gap = 10, left = 64, top = 40, plotH = 260, labelH = 230, right = 160;
  const groupW = 2 * bar + gap;
  const width = left + Math.max(rows.length, 1) * groupW + right;
  const height = top + plotH + labelH;
  const y0 = top + plotH;
  const colors = ['#4e79a7', '#f28e2b'];
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="14" font-size="12">${esc(`${metric.name}: ${c.names[0]} vs ${c.names[1]}`)}</text>`);
  c.names.forEach((n, i) => {
    const x = left + 260 + i * 160;
    out.push(`<rect x="${x}" y="5" width="10" height="10" fill="${colors[i]}"/><text x="${x + 14}" y="14">${esc(n)}</text>`);
  });
  // Grid and ticks, then the axes over them.
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4, y = y0 - (plotH * t) / 4;
    out.push(`<line x1="${left - 4}" y1="${y}" x2="${width - right}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y + 3}" text-anchor="end">${esc(fmt(v))}</text>`);
  }
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${y0}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${y0}" x2="${width - right}" y2="${y0}" stroke="#333"/>`);
  rows.forEach((r, i) => {
    const x = left + gap / 2 + i * groupW;
    [r.a, r.b].forEach((res, side) => {
      if (!res) return;
      const v = metric.value(res);
      const h = (v / max) * plotH;
      const label = `${c.names[side]}: ${r.case} ${r.impl}${r.isa ? ` [${r.isa}]` : ''} ${r.threads}t: ${fmt(v)} ${metric.name}, ${fmt(res.medianMs)} ms`;
      out.push(`<rect class="bar ${side === 0 ? 'a' : 'b'}" data-value="${v}" x="${x + side * bar}" y="${y0 - h}" width="${bar - 1}" height="${h}" fill="${colors[side]}"><title>${esc(label)}</title></rect>`);
    });
    if (r.ratio !== undefined) {
      const hMax = Math.max(...[r.a, r.b].map((res) => (res ? (metric.value(res) / max) * plotH : 0)));
      out.push(`<text x="${x + bar}" y="${y0 - hMax - 3}" text-anchor="middle" font-size="8">${r.ratio.toFixed(2)}x</text>`);
    }
    const name = `${r.case} ${r.impl}${r.isa ? ` [${r.isa}]` : ''}${r.threads > 1 ? ` ${r.threads}t` : ''}`;
    out.push(`<text transform="translate(${x + bar},${y0 + 8}) rotate(55)" font-size="9">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
