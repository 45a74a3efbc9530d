#!/usr/bin/env node
// npm install: use a prebuilt addon when one matches this platform (prebuilds/,
// found by node-gyp-build), otherwise build it here with cmake-js.
// LOWBIT_BUILD_FROM_SOURCE=1 (or npm's --build-from-source) always builds.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fromSource = process.env.LOWBIT_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';

if (!fromSource) {
  try {
    const found = require('node-gyp-build').path(root);
    console.log(`lowbit: using ${path.relative(root, found)}`);
    process.exit(0);
  } catch {
    // no prebuild and no earlier build: build below
  }
}
const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('lowbit: building the native addon failed; it needs cmake >= 3.18 and a C++17 compiler (g++ or clang++)');
}
process.exit(r.status ?? 1);
