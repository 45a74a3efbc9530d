#!/usr/bin/env node
// npm run prebuild [-- --arch x64,arm64] [--out DIR]
//
// Builds the addon for linux-x64 and linux-arm64 (cross-compiled with
// cmake/aarch64-linux-gnu.cmake when g++-aarch64-linux-gnu is installed) and
// puts each where node-gyp-build looks for a prebuild:
//   prebuilds/linux-x64/lowbit.napi.glibc.node
//   prebuilds/linux-arm64/lowbit.napi.glibc.node
// N-API (version 8), so one file serves every Node >= 20.19 on that platform;
// tagged glibc, so a musl system (Alpine) builds from source instead. libstdc++
// and libgcc are linked in statically: the file needs only libc and libm, and
// runs on an older distribution (Raspberry Pi OS) than the one it was built on.
// Beside each file, build.json records the compiler, flags and the newest glibc
// symbol version it needs (the bench's machine record reads it).
//
// Why not prebuildify itself: it drives node-gyp, and renames its output out of
// ./build/Release; this project builds with cmake-js, in folders of its own.
// The file names and folders are prebuildify's, so node-gyp-build (and
// scripts/install.js, which prefers a prebuild) find them. prebuilds/ is in
// .gitignore: prebuilds go into the npm package, not into git.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { fromBuildDir } = require('./build-info.js');

const root = path.resolve(__dirname, '..');

// npm runs a script called "prebuild" before "build" as its pre-hook, with the
// same environment as `npm run prebuild`: tell them apart by the npm command
// line above us, so that `npm run build` does not cross-compile prebuilds.
function npmRunTarget() {
  let pid = process.ppid;
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    let cmd;
    try {
      // npm sets its title to one string ("npm run build"): split on spaces too.
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0\s]+/).filter(Boolean);
    } catch {
      return undefined;
    }
    const i = cmd.findIndex((a) => a === 'run' || a === 'run-script' || a === 'rum' || a === 'urn');
    if (i > 0 && cmd.slice(0, i).some((a) => /(^|\/)npm(-cli\.js)?$/.test(a))) return cmd.slice(i + 1).find((a) => !a.startsWith('-'));
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return undefined;
}
if (process.env.npm_lifecycle_event === 'prebuild') {
  const target = npmRunTarget();
  if (target !== undefined && target !== 'prebuild') {
    console.log(`prebuild: not run as the pre-hook of \`npm run ${target}\` (run \`npm run prebuild\` for prebuilds)`);
    process.exit(0);
  }
}

const argv = process.argv.slice(2);
let arches = process.arch === 'x64' ? ['x64', 'arm64'] : [process.arch];
let outRoot = path.join(root, 'prebuilds');
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--arch') arches = String(argv[++i] || '').split(',').filter(Boolean);
  else if (argv[i] === '--out') outRoot = path.resolve(argv[++i] || '');
  else {
    console.error(`prebuild: unknown argument ${argv[i]}\nusage: npm run prebuild [-- --arch x64,arm64] [--out DIR]`);
    process.exit(2);
  }
}
if (process.platform !== 'linux') {
  console.error('prebuild: only linux prebuilds are made here (build from source elsewhere)');
  process.exit(2);
}

const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Newest GLIBC_x.y symbol version the file needs (readelf reads any ELF). */
function glibcNeeded(file, readelf) {
  const r = spawnSync(readelf, ['--dyn-syms', '-W', file], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const versions = [...r.stdout.matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3] || 0)]);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const v = versions[versions.length - 1];
  return v ? `${v[0]}.${v[1]}${v[2] ? `.${v[2]}` : ''}` : undefined;
}

function build(arch) {
  const cross = arch !== process.arch;
  let prefix = '';
  if (cross) {
    if (!(process.arch === 'x64' && arch === 'arm64')) return `cross builds go from x64 to arm64 only, not ${process.arch} to ${arch}`;
    prefix = process.env.LOWBIT_CROSS_PREFIX || 'aarch64-linux-gnu-';
    if (!has(`${prefix}g++`)) return `${prefix}g++ not found; apt-get install -y g++-aarch64-linux-gnu`;
  }
  if (!has('cmake')) return 'cmake not found';
  const buildDir = path.join(root, `build-prebuild-${arch}`);
  const args = [cmakeJs, 'compile', '--out', buildDir, '--target', 'lowbit', '--CDLOWBIT_BUILD_TESTS=OFF',
    // The C++ runtime inside the addon, its symbols kept private.
    '--CDCMAKE_SHARED_LINKER_FLAGS=-static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL'];
  if (cross) {
    args.push(`--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', 'aarch64-linux-gnu.cmake')}`, `--CDLOWBIT_CROSS_PREFIX=${prefix}`);
  }
  console.log(`prebuild linux-${arch}: cmake-js compile --out ${path.relative(root, buildDir)}${cross ? ' (cross, cmake/aarch64-linux-gnu.cmake)' : ''}`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`prebuild linux-${arch}: cmake-js failed (exit ${r.status})`);
  const built = path.join(buildDir, 'Release', 'lowbit.node');
  if (!fs.existsSync(built)) throw new Error(`prebuild linux-${arch}: ${built} was not produced`);

  const dir = path.join(outRoot, `linux-${arch}`);
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, 'lowbit.napi.glibc.node');
  fs.copyFileSync(built, dest);
  const strip = `${prefix}strip`;
  if (has(strip)) spawnSync(strip, ['--strip-unneeded', dest], { stdio: 'inherit' });
  const readelf = has(`${prefix}readelf`) ? `${prefix}readelf` : 'readelf';
  const info = {
    platform: 'linux',
    arch,
    napi: 8,
    libc: 'glibc',
    glibcNeeded: glibcNeeded(dest, readelf),
    ...fromBuildDir(buildDir),
    linkFlags: '-static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL',
    lowbit: require(path.join(root, 'package.json')).version,
    date: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(dir, 'build.json'), `${JSON.stringify(info, null, 2)}\n`);

  if (!cross) {
    // Load it here: it must be a working addon for this Node.
    const check = spawnSync(process.execPath, ['-e', `const b = require(${JSON.stringify(dest)}); console.log(b.isas().filter((i) => i.compiled).map((i) => i.name).join(' '))`], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`prebuild linux-${arch}: the prebuild does not load: ${check.stderr}`);
    console.log(`prebuild linux-${arch}: loads; kernel paths compiled in: ${check.stdout.trim()}`);
  }
  const size = fs.statSync(dest).size;
  console.log(`prebuild linux-${arch}: ${path.relative(root, dest)} (${(size / 1024).toFixed(0)} KiB, needs glibc >= ${info.glibcNeeded ?? '?'})`);
  return undefined;
}

let failed = false;
for (const arch of arches) {
  try {
    const skipped = build(arch);
    if (skipped) console.log(`prebuild linux-${arch}: skipped (${skipped})`);
  } catch (err) {
    console.error(err.message);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
