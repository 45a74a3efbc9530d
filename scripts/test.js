#!/usr/bin/env node
// npm test: the native kernel tests (every ISA path this CPU has), the ARM paths
// under qemu and the arm64 addon in an arm64 Node under qemu (each skipped with
// a reason when the cross toolchain, qemu or the arm64 Node is missing), then
// the mocha tests. Ends with one line: "lowbit: N passed, N failed, N skipped".
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = new Set(process.argv.slice(2));
const totals = { passed: 0, failed: 0, skipped: 0 };

function addCounts(text, label) {
  const m = [...text.matchAll(/(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/g)];
  // A suite that cannot run here (e.g. no cross toolchain or qemu) says
  // "<label>: skipped (reason)": one skipped suite, not a failure.
  if (m.length === 0 && new RegExp(`^${label}: skipped \\(`, 'm').test(text)) {
    totals.skipped += 1;
    return;
  }
  if (m.length === 0) {
    console.log(`${label}: no result line`);
    totals.failed += 1;
    return;
  }
  for (const x of m) {
    totals.passed += Number(x[1]);
    totals.failed += Number(x[2]);
    totals.skipped += Number(x[3] || 0);
  }
}

function run(cmd, argv, label, env = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  process.stdout.write(r.stdout || '');
  process.stderr.write(r.stderr || '');
  if (r.error) console.log(`${label}: ${r.error.message}`);
  addCounts(r.stdout || '', label);
  if (r.status !== 0) console.log(`${label}: exit code ${r.status}`);
  return r.status === 0;
}

let ok = true;
if (!args.has('--js-only')) {
  const bin = path.join(root, 'build', 'lowbit_kernel_tests');
  if (!fs.existsSync(bin)) {
    console.log('native: build/lowbit_kernel_tests is missing; run `npm run build:native`');
    totals.failed += 1;
    ok = false;
  } else {
    ok = run(bin, [], 'native') && ok;
  }
  const arm = path.join(root, 'scripts', 'test-arm64.sh');
  if (fs.existsSync(arm) && process.arch === 'x64') ok = run('bash', [arm], 'arm64') && ok;
  // The arm64 addon in an arm64 Node under qemu, through the JavaScript API,
  // against this machine's results bit for bit (needs scripts/fetch-node-arm64.sh).
  const armNode = path.join(root, 'scripts', 'test-arm64-node.sh');
  if (fs.existsSync(armNode) && process.arch === 'x64') ok = run('bash', [armNode], 'arm64-node') && ok;
}
if (!args.has('--native-only')) {
  const mocha = require.resolve('mocha/bin/mocha.js', { paths: [root] });
  const r = spawnSync(process.execPath, [mocha, '--reporter', 'spec', '--reporter-option', 'maxDiffSize=2048'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
  process.stdout.write(r.stdout || '');
  const passing = /(\d+) passing/.exec(r.stdout || '');
  const failing = /(\d+) failing/.exec(r.stdout || '');
  const pending = /(\d+) pending/.exec(r.stdout || '');
  totals.passed += passing ? Number(passing[1]) : 0;
  totals.failed += failing ? Number(failing[1]) : 0;
  totals.skipped += pending ? Number(pending[1]) : 0;
  if (!passing) totals.failed += 1;
  ok = r.status === 0 && ok;
}
console.log(`lowbit: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(ok && totals.failed === 0 ? 0 : 1);
