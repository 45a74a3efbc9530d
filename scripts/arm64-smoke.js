#!/usr/bin/env node
// The arm64 smoke test's two halves (scripts/test-arm64-node.sh runs them):
//   node scripts/arm64-smoke.js run DIST OUT.json
//     loads DIST/lib (the compiled TypeScript API, with whatever addon
//     LOWBIT_ADDON names), runs int8 GEMMs through the public API on every
//     kernel path this CPU has, and writes every output's bytes to OUT.json;
//   node scripts/arm64-smoke.js compare REFERENCE.json OTHER.json [LABEL]
//     checks that every output of OTHER (say arm64 under qemu, each ARM path)
//     equals REFERENCE's (x86) bit for bit, one check per case and path, and
//     prints "LABEL: N passed, N failed".
// Plain JavaScript for any Node >= 18 (Debian's arm64 nodejs is 18).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Deterministic bytes (an LCG), so both machines build the same inputs. */
function bytes(n, signed, seed) {
  let s = seed >>> 0;
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    // One in eight at the extremes: the values that overflow a pairwise int16 sum.
    const r = (s >>> 16) & 255;
    const v = (s & 7) === 0 ? ((s >>> 3) & 1 ? 255 : 0) : r;
    out[i] = signed ? v - 128 : v;
  }
  return out;
}

function cases(lowbit) {
  const { ops, Tensor } = lowbit;
  const T = (dtype, data, shape) => new Tensor(dtype, data, shape);
  const perColumn = (n, lo, hi) => Array.from({ length: n }, (_, j) => lo + ((j * 37) % (hi - lo + 1)));
  return {
    // Odd sizes (tails on every tile shape), zero points that need row sums.
    'matmulInteger u8 x s8 37x300x70, packed, za=131, zb per column': () => {
      const a = T('uint8', bytes(37 * 300, false, 1), [37, 300]);
      const b = T('int8', bytes(300 * 70, true, 2), [300, 70]);
      return ops.matmulInteger(a, ops.packMatrix(b, perColumn(70, -9, 9)), 131);
    },
    'matmulInteger s8 x u8 [2,3,5,129] x [129,33] batched, za=-7, zb=200': () => {
      const a = T('int8', bytes(2 * 3 * 5 * 129, true, 3), [2, 3, 5, 129]);
      const b = T('uint8', bytes(129 * 33, false, 4), [129, 33]);
      return ops.matmulInteger(a, b, -7, 200);
    },
    'matmulInteger u8 x s8 GEMV 1x1024x97 into an out tensor': () => {
      const a = T('uint8', bytes(1024, false, 5), [1, 1024]);
      const b = T('int8', bytes(1024 * 97, true, 6), [1024, 97]);
      const out = T('int32', new Int32Array(97).fill(-1), [1, 97]);
      return ops.matmulInteger(a, ops.packMatrix(b), 0, undefined, { out });
    },
    'qlinearMatmul u8 x s8 -> u8 19x260x48, per-column scale': () => {
      const a = T('uint8', bytes(19 * 260, false, 7), [19, 260]);
      const b = T('int8', bytes(260 * 48, true, 8), [260, 48]);
      const sb = perColumn(48, 1, 40).map((v) => v / 4096);
      return ops.qlinearMatmul(a, 0.021, 128, ops.packMatrix(b, 0), sb, 0, 0.35, 120);
    },
    'qlinearMatmul s8 x s8 -> s8 8x64x64 (saturating)': () => {
      const a = T('int8', bytes(8 * 64, true, 9), [8, 64]);
      const b = T('int8', bytes(64 * 64, true, 10), [64, 64]);
      return ops.qlinearMatmul(a, 0.5, -3, b, 0.25, 0, 0.01, T('int8', [5], [1]));
    },
    'requantize fixedpoint per channel, bias, relu6 range': () => {
      const a = T('uint8', bytes(23 * 90, false, 11), [23, 90]);
      const b = T('int8', bytes(90 * 17, true, 12), [90, 17]);
      const acc = ops.matmulInteger(a, ops.packMatrix(b, 0), 128);
      const scale = perColumn(17, 3, 60).map((v) => v / 65536);
      return ops.requantize(acc, { mode: 'fixedpoint', scale, zeroPoint: -10, outType: 'int8', bias: perColumn(17, -500, 500), min: -10, max: 117 });
    },
  };
}

function run(dist, outFile) {
  const lowbit = require(path.resolve(dist, 'lib'));
  const { cpu } = lowbit;
  const detected = cpu.isa;
  const results = {};
  for (const isa of cpu.available()) {
    cpu.setIsa(isa);
    for (const [name, fn] of Object.entries(cases(lowbit))) {
      const t = fn();
      results[name] ??= {};
      results[name][isa] = { dtype: t.dtype, shape: [...t.shape], data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64') };
    }
  }
  cpu.setIsa(detected);
  const record = { arch: process.arch, node: process.version, detected, available: cpu.available(), results };
  fs.writeFileSync(outFile, JSON.stringify(record));
  console.log(`${process.arch} (node ${process.version}): paths ${record.available.join(' ')}, detected ${detected}; ${Object.keys(results).length} cases`);
}

function firstDifference(x, y) {
  const a = Buffer.from(x.data, 'base64'), b = Buffer.from(y.data, 'base64');
  if (x.dtype !== y.dtype || JSON.stringify(x.shape) !== JSON.stringify(y.shape)) return `${y.dtype} [${y.shape}] vs ${x.dtype} [${x.shape}]`;
  if (a.length !== b.length) return `${b.length} bytes vs ${a.length}`;
  const i = a.findIndex((v, j) => v !== b[j]);
  return i < 0 ? undefined : `first differing byte ${i} of ${a.length}`;
}

function compare(refFile, otherFile, label) {
  const ref = JSON.parse(fs.readFileSync(refFile, 'utf8'));
  const other = JSON.parse(fs.readFileSync(otherFile, 'utf8'));
  let passed = 0, failed = 0;
  // The reference: the x86 machine's detected path (all its paths must agree too).
  for (const [name, byIsa] of Object.entries(ref.results)) {
    const want = byIsa[ref.detected];
    for (const [isa, got] of Object.entries(byIsa)) {
      const diff = firstDifference(want, got);
      if (diff) {
        failed++;
        console.log(`  FAIL ${ref.arch} ${isa} vs ${ref.arch} ${ref.detected}: ${name}: ${diff}`);
      }
    }
    if (!other.results[name]) {
      failed++;
      console.log(`  FAIL ${other.arch}: ${name}: missing`);
      continue;
    }
    for (const [isa, got] of Object.entries(other.results[name])) {
      const diff = firstDifference(want, got);
      if (diff) {
        failed++;
        console.log(`  FAIL ${other.arch} ${isa}: ${name}: ${diff} (against ${ref.arch} ${ref.detected})`);
      } else {
        passed++;
      }
    }
  }
  console.log(`${label}: ${other.arch} paths ${other.available.join(' ')} (detected ${other.detected}) against ${ref.arch} ${ref.detected}, bit for bit`);
  console.log(`${label}: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0;
}

const [cmd, x, y, label] = process.argv.slice(2);
if (cmd === 'run' && x && y) run(x, y);
else if (cmd === 'compare' && x && y) process.exit(compare(x, y, label || 'arm64-node') ? 0 : 1);
else {
  console.error('usage: arm64-smoke.js run DIST OUT.json | compare REFERENCE.json OTHER.json [LABEL]');
  process.exit(2);
}
