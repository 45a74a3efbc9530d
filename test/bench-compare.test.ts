// lowbit bench-compare: two bench JSON files (built here: an x86 box and an ARM
// box) paired row by row, with ratios, a text table and an SVG bar chart.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BenchFile, compare, parse, renderSvg, renderTable } from '../lib/cli/bench-compare';
import { LowbitError } from '../lib/errors';

const x86: BenchFile = {
  machine: {
    cpuModel: 'Test Xeon', cores: 2, arch: 'x64', isa: 'avx512vnni', available: ['ref', 'avx2', 'avx512vnni'], threads: 2, node: 'v20.19.0',
    featureList: ['avx2', 'avx512vnni'], build: { compiler: 'GNU 12.2.0', cxxFlags: '-O2', isaFlags: { avx512vnni: '-mavx512vnni' } },
  },
  results: [
    { suite: 'gemm', case: '64,512,512', impl: 'ort MatMulInteger u8s8', threads: 1, medianMs: 0.1, samples: 50, gops: 335.5 },
    { suite: 'gemm', case: '64,512,512', impl: 'lowbit u8s8', isa: 'avx2', threads: 1, medianMs: 0.2, samples: 50, gops: 167.8 },
    { suite: 'gemm', case: '64,512,512', impl: 'lowbit u8s8', isa: 'avx512vnni', threads: 1, medianMs: 0.05, samples: 50, gops: 671.1 },
    { suite: 'gemm', case: '1024,1024,1024', impl: 'lowbit u8s8', isa: 'avx512vnni', threads: 2, medianMs: 1.5, samples: 20, gops: 1431.7 },
  ],
};

const arm: BenchFile = {
  machine: {
    cpuModel: 'Cortex-A76', cores: 4, arch: 'arm64', isa: 'neondot', available: ['ref', 'neon', 'neondot'], threads: 4, node: 'v20.19.0',
    featureList: ['neon', 'dotprod'], build: { compiler: 'GNU 12.2.0', cxxFlags: '-O2', isaFlags: { neondot: '-march=armv8.2-a+dotprod' } },
  },
  results: [
    { suite: 'gemm', case: '64,512,512', impl: 'ort MatMulInteger u8s8', threads: 1, medianMs: 0.4, samples: 30, gops: 83.9 },
    { suite: 'gemm', case: '64,512,512', impl: 'lowbit u8s8', isa: 'neon', threads: 1, medianMs: 0.8, samples: 30, gops: 41.9 },
    { suite: 'gemm', case: '64,512,512', impl: 'lowbit u8s8', isa: 'neondot', threads: 1, medianMs: 0.25, samples: 30, gops: 134.2 },
  ],
};

describe('bench-compare', function () {
  it('parses bench JSON and rejects what is not one', function () {
    const f = parse(JSON.stringify(x86), 'x86.json');
    assert.equal(f.results.length, 4);
    assert.equal(f.machine.cpuModel, 'Test Xeon');
    const code = (c: string) => (e: unknown) => e instanceof LowbitError && e.code === c && /bad\.json/.test(e.message);
    assert.throws(() => parse('{', 'bad.json'), code('E_ARG'));
    assert.throws(() => parse('{"machine": {}}', 'bad.json'), code('E_ARG'));
    assert.throws(() => parse('{"results": [{"suite": "gemm", "case": "1", "impl": "x", "medianMs": -1}]}', 'bad.json'), code('E_ARG'));
    assert.throws(() => parse('{"results": [{"suite": "gemm", "case": "1", "impl": "x", "medianMs": 1, "threads": 0}]}', 'bad.json'), code('E_ARG'));
    // Files from before per-result threads were recorded ran at 1 thread.
    const old = parse('{"machine": {}, "results": [{"suite": "gemm", "case": "1", "impl": "x", "medianMs": 2}]}');
    const c = compare(old, parse('{"results": [{"suite": "gemm", "case": "1", "impl": "x", "medianMs": 1, "threads": 1}]}'));
    assert.equal(c.rows.length, 1);
    assert.equal(c.rows[0].ratio, 2);
  });

  it('pairs rows by case, implementation, path and threads, with B/A speed ratios and a best-path row', function () {
    const c = compare(x86, arm, ['x86', 'arm']);
    const line = (impl: string, isa: string, threads = 1, kase = '64,512,512') =>
      c.rows.find((r) => r.case === kase && r.impl === impl && r.isa === isa && r.threads === threads);
    // Same implementation on both: paired, ratio = A's time / B's time.
    const ort = line('ort MatMulInteger u8s8', '')!;
    assert.equal(ort.a, x86.results[0]);
    assert.equal(ort.b, arm.results[0]);
    assert.equal(ort.ratio, 0.25);
    // Paths only one side has stay unpaired.
    assert.equal(line('lowbit u8s8', 'avx2')!.b, undefined);
    assert.equal(line('lowbit u8s8', 'avx2')!.ratio, undefined);
    assert.equal(line('lowbit u8s8', 'neondot')!.a, undefined);
    assert.equal(line('lowbit u8s8', 'avx512vnni', 2, '1024,1024,1024')!.b, undefined);
    // Different path sets: the fastest of each side, paired.
    const best = line('lowbit u8s8', 'best: avx512vnni | neondot')!;
    assert.ok(best.derived);
    assert.equal(best.a, x86.results[2]);
    assert.equal(best.b, arm.results[2]);
    assert.equal(best.ratio, 0.05 / 0.25);
    // 4 x86 results + 2 ARM-only + 1 best row.
    assert.equal(c.rows.length, 7);
    // The same file against itself: every ratio 1, no best rows.
    const self = compare(x86, x86);
    assert.equal(self.rows.length, 4);
    assert.ok(self.rows.every((r) => r.ratio === 1 && !r.derived));
  });

  it('renders a table with the machines and one line per compared row', function () {
    const text = renderTable(compare(x86, arm, ['x86', 'arm']));
    const lines = text.split('\n');
    assert.match(lines.find((l) => l.startsWith('cpu'))!, /^cpu\s+Test Xeon\s+Cortex-A76$/);
    assert.match(lines.find((l) => l.startsWith('kernel path'))!, /avx512vnni\s+neondot/);
    assert.match(lines.find((l) => l.startsWith('path flags'))!, /-mavx512vnni\s+-march=armv8\.2-a\+dotprod/);
    const header = lines.find((l) => l.startsWith('case'))!;
    assert.match(header, /x86 ms\s+arm ms\s+x86 GOPS\s+arm GOPS\s+arm\/x86$/);
    const row = (s: string) => lines.find((l) => l.includes(s))!.trim().split(/\s{2,}/);
    assert.deepEqual(row('ort MatMulInteger u8s8'), ['64,512,512', '1', 'ort MatMulInteger u8s8', '0.100', '0.400', '335.5', '83.90', '0.25x']);
    assert.deepEqual(row('[best: avx512vnni | neondot]'), ['64,512,512', '1', 'lowbit u8s8 [best: avx512vnni | neondot]', '0.050', '0.250', '671.1', '134.2', '0.20x']);
    assert.deepEqual(row('[avx2]'), ['64,512,512', '1', 'lowbit u8s8 [avx2]', '0.200', '-', '167.8', '-', '-']);
    assert.deepEqual(row('[neondot]'), ['64,512,512', '1', 'lowbit u8s8 [neondot]', '-', '0.250', '-', '134.2', '-']);
    assert.deepEqual(row('1024,1024,1024'), ['1024,1024,1024', '2', 'lowbit u8s8 [avx512vnni]', '1.500', '-', '1431.7', '-', '-']);
  });

  it('draws one SVG bar per result, heights proportional to GOPS', function () {
    const svg = renderSvg(compare(x86, arm, ['x86', 'arm']));
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    const bars = [...svg.matchAll(/<rect class="bar (a|b)" data-value="([^"]+)" x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)"[^>]*><title>([^<]*)<\/title>/g)]
      .map((m) => ({ side: m[1], value: Number(m[2]), y: Number(m[3]), height: Number(m[4]), title: m[5] }));
    // Every result of both files, once (the derived best row adds no bar).
    const expected = [...x86.results.map((r) => ['a', r.gops]), ...arm.results.map((r) => ['b', r.gops])]
      .map(([s, g]) => `${s}:${g}`).sort();
    assert.deepEqual(bars.map((b) => `${b.side}:${b.value}`).sort(), expected);
    // Heights proportional to the values; the tallest bar is the largest value; all bars share a baseline.
    const perUnit = bars[0].height / bars[0].value;
    for (const b of bars) assert.ok(Math.abs(b.height - b.value * perUnit) < 1e-6, `${b.title}: height ${b.height}`);
    const tallest = bars.reduce((x, y) => (y.height > x.height ? y : x));
    assert.equal(tallest.value, 1431.7);
    assert.ok(bars.every((b) => Math.abs(b.y + b.height - (bars[0].y + bars[0].height)) < 1e-6));
    assert.match(bars.find((b) => b.side === 'b' && b.value === 134.2)!.title, /^arm: 64,512,512 lowbit u8s8 \[neondot\] 1t: 134\.2 GOPS, 0\.250 ms$/);
    // Ratios are printed over paired bars; names are escaped.
    assert.ok(svg.includes('>0.25x</text>'));
    assert.ok(renderSvg(compare(x86, arm, ['a<b', 'c&d'])).includes('a&lt;b'));
  });

  it('charts calls per second when a result has no GOPS', function () {
    const noGops = { machine: {}, results: [{ suite: 's', case: 'c', impl: 'i', medianMs: 4 }] };
    const svg = renderSvg(compare(noGops, { machine: {}, results: [{ suite: 's', case: 'c', impl: 'i', medianMs: 2 }] }));
    const values = [...svg.matchAll(/data-value="([^"]+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(values, [250, 500]);
    assert.match(svg, /calls\/s/);
  });

  it('runs as `lowbit bench-compare A.json B.json --svg out.svg`', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-bench-compare-'));
    try {
      const fa = path.join(dir, 'x86.json'), fb = path.join(dir, 'arm.json'), out = path.join(dir, 'chart.svg');
      fs.writeFileSync(fa, JSON.stringify(x86));
      fs.writeFileSync(fb, JSON.stringify(arm));
      const cli = path.resolve(__dirname, '..', 'lib', 'cli', 'main.js');
      const stdout = execFileSync(process.execPath, [cli, 'bench-compare', fa, fb, '--svg', out], { encoding: 'utf8' });
      assert.match(stdout, /lowbit u8s8 \[best: avx512vnni \| neondot\].*0\.20x/);
      assert.equal((fs.readFileSync(out, 'utf8').match(/<rect class="bar /g) ?? []).length, 7);
      assert.throws(() => execFileSync(process.execPath, [cli, 'bench-compare', fa], { stdio: 'pipe' }), /usage: lowbit bench-compare/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
