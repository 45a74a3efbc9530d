// What a lowbit.node was built with, for benchmark records and prebuilds:
// compiler, build type, common flags and each ISA folder's flags.
//   buildInfo(addonPath) -> { addon, compiler, buildType, cxxFlags, isaFlags, target } or { addon }
// Reads `build.json` beside the addon (written by scripts/prebuild.js), else the
// CMake build folder the addon came from (CMakeCache.txt, build.ninja or flags.make).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function readIf(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function cacheValue(cache, key) {
  const m = new RegExp(`^${key}:[A-Z]+=(.*)$`, 'm').exec(cache);
  return m ? m[1].trim() : undefined;
}

function compilerOf(buildDir) {
  let dirs = [];
  try {
    dirs = fs.readdirSync(path.join(buildDir, 'CMakeFiles')).filter((d) => /^\d+\.\d+/.test(d));
  } catch {
    return undefined;
  }
  for (const d of dirs) {
    const text = readIf(path.join(buildDir, 'CMakeFiles', d, 'CMakeCXXCompiler.cmake'));
    if (!text) continue;
    const id = /set\(CMAKE_CXX_COMPILER_ID "([^"]*)"\)/.exec(text);
    const ver = /set\(CMAKE_CXX_COMPILER_VERSION "([^"]*)"\)/.exec(text);
    if (id) return `${id[1]} ${ver ? ver[1] : ''}`.trim();
  }
  return undefined;
}

/** Compile flags per source file of lowbit_kernels, from build.ninja or Makefiles' flags.make. */
function sourceFlags(buildDir) {
  const out = {};
  const ninja = readIf(path.join(buildDir, 'build.ninja'));
  if (ninja) {
    const re = /^build CMakeFiles\/lowbit_kernels\.dir\/(\S+)\.o: [^\n]*\n((?:  [^\n]*\n)*)/gm;
    for (const m of ninja.matchAll(re)) {
      const flags = /^  FLAGS = (.*)$/m.exec(m[2]);
      if (flags) out[m[1]] = flags[1].trim();
    }
    return out;
  }
  const make = readIf(path.join(buildDir, 'CMakeFiles', 'lowbit_kernels.dir', 'flags.make'));
  if (make) {
    const common = /^CXX_FLAGS = (.*)$/m.exec(make);
    if (common) out['native/dispatch/gemm_paths.cc'] = common[1].trim();
    // Per-file options: "# Custom options: CMakeFiles/lowbit_kernels.dir/<src>.o_OPTIONS = -a;-b".
    for (const m of make.matchAll(/^# Custom options: CMakeFiles\/lowbit_kernels\.dir\/(\S+)\.o_OPTIONS = (.*)$/gm)) {
      out[m[1]] = `${out['native/dispatch/gemm_paths.cc'] || ''} ${m[2].split(';').join(' ')}`.trim();
    }
  }
  return out;
}

function fromBuildDir(buildDir) {
  const cache = readIf(path.join(buildDir, 'CMakeCache.txt'));
  if (!cache) return undefined;
  const flags = sourceFlags(buildDir);
  const common = flags['native/dispatch/gemm_paths.cc'] || '';
  const isaFlags = {};
  for (const [file, f] of Object.entries(flags)) {
    const m = /native\/kernels\/(?:x86|arm)\/(\w+)\//.exec(file);
    if (!m || isaFlags[m[1]] !== undefined) continue;
    // Only what the ISA folder adds to the common flags.
    const base = new Set(common.split(/\s+/));
    isaFlags[m[1]] = f.split(/\s+/).filter((t) => !base.has(t)).join(' ');
  }
  return {
    compiler: compilerOf(buildDir),
    buildType: cacheValue(cache, 'CMAKE_BUILD_TYPE'),
    target: cacheValue(cache, 'CMAKE_SYSTEM_PROCESSOR') || undefined,
    toolchain: cacheValue(cache, 'CMAKE_TOOLCHAIN_FILE') ? path.basename(cacheValue(cache, 'CMAKE_TOOLCHAIN_FILE')) : undefined,
    cxxFlags: common.replace(/-D\S+\s*/g, '').trim(),
    isaFlags,
  };
}

function buildInfo(addonPath) {
  const dir = path.dirname(path.resolve(addonPath));
  const beside = readIf(path.join(dir, 'build.json'));
  if (beside) {
    try {
      return { addon: addonPath, prebuild: true, ...JSON.parse(beside) };
    } catch {
      // fall through
    }
  }
  // cmake-js puts the addon in <build>/Release (or Debug); the cache is one level up.
  for (const d of [dir, path.dirname(dir)]) {
    const info = fromBuildDir(d);
    if (info) return { addon: addonPath, ...info };
  }
  return { addon: addonPath };
}

module.exports = { buildInfo, fromBuildDir };
