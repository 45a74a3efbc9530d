#!/usr/bin/env bash
# arm64 smoke test of the whole stack: the addon cross-built for aarch64 (a
# shared lowbit.node, as a prebuild would be) is loaded by Debian's arm64 Node
# under qemu-user, runs int8 GEMMs through the JavaScript API on every ARM path
# (qemu's max CPU: ref, neon, neondot; a Cortex-A53: ref, neon), and each
# output must equal this x86 machine's, bit for bit (scripts/arm64-smoke.js).
# Prints "arm64-node: N passed, N failed", or "arm64-node: skipped (reason)"
# when the cross compiler, qemu or the arm64 Node is missing.
#   scripts/fetch-node-arm64.sh            # once: the arm64 Node (apt, no install)
#   bash scripts/test-arm64-node.sh
# Environment: NODE_ARM64_DIR (build-node-arm64), LOWBIT_DIST (dist: the compiled
# TypeScript), ARM_ADDON_BUILD_DIR (build-arm64-addon), LOWBIT_ADDON (the x86
# addon; default: what node-gyp-build finds), CXX_CROSS, QEMU, JOBS.
set -u
cd "$(dirname "$0")/.."

CXX_CROSS=${CXX_CROSS:-aarch64-linux-gnu-g++}
QEMU=${QEMU:-qemu-aarch64-static}
NODE_DIR=${NODE_ARM64_DIR:-build-node-arm64}
DIST=${LOWBIT_DIST:-dist}
BUILD_DIR=${ARM_ADDON_BUILD_DIR:-build-arm64-addon}
JOBS=${JOBS:-2}
SYSROOT=$NODE_DIR/sysroot

skip() { echo "arm64-node: skipped ($1)"; exit 0; }
command -v "$CXX_CROSS" >/dev/null 2>&1 || skip "$CXX_CROSS not found; apt-get install -y g++-aarch64-linux-gnu"
command -v "$QEMU" >/dev/null 2>&1 || skip "$QEMU not found; apt-get install -y qemu-user-static"
command -v cmake >/dev/null 2>&1 || skip "cmake not found"
[ -x "$SYSROOT/usr/bin/node" ] || skip "no arm64 node in $NODE_DIR; run scripts/fetch-node-arm64.sh $NODE_DIR"
[ -f "$DIST/lib/index.js" ] || skip "$DIST/lib/index.js missing; run npm run build:ts"

# The arm64 addon: cmake-js with the cross toolchain, libstdc++ linked in as in
# the prebuilds (the arm64 sysroot's own libstdc++ would do as well).
mkdir -p "$BUILD_DIR"
log=$BUILD_DIR/build.log
if ! node node_modules/cmake-js/bin/cmake-js compile --out "$BUILD_DIR" --target lowbit -p "$JOBS" \
       --CDCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" --CDLOWBIT_CROSS_PREFIX="${CXX_CROSS%g++}" \
       --CDLOWBIT_BUILD_TESTS=OFF "--CDCMAKE_SHARED_LINKER_FLAGS=-static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL" \
       >"$log" 2>&1; then
  tail -n 30 "$log"
  echo "arm64-node: building the arm64 addon failed (full log: $log)"
  echo "arm64-node: 0 passed, 1 failed"
  exit 1
fi
addon=$PWD/$BUILD_DIR/Release/lowbit.node

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
# The x86 reference, on this machine's addon.
if ! node scripts/arm64-smoke.js run "$DIST" "$tmp/x64.json"; then
  echo "arm64-node: the x86 reference run failed"
  echo "arm64-node: 0 passed, 1 failed"
  exit 1
fi
total_passed=0 total_failed=0
for cpu in max cortex-a53; do
  if ! out=$(LOWBIT_ADDON=$addon "$QEMU" -cpu "$cpu" -L "$SYSROOT" "$SYSROOT/usr/bin/node" \
               scripts/arm64-smoke.js run "$DIST" "$tmp/arm64-$cpu.json" 2>&1); then
    printf '%s\n' "$out" | tail -n 20
    echo "arm64-node cpu=$cpu: the arm64 run failed"
    total_failed=$((total_failed + 1))
    status=1
    continue
  fi
  echo "arm64-node cpu=$cpu: $out"
  res=$(node scripts/arm64-smoke.js compare "$tmp/x64.json" "$tmp/arm64-$cpu.json" "arm64-node cpu=$cpu") || status=1
  # Only the closing line below may read "N passed, N failed" (npm test adds up such lines).
  counts=$(printf '%s\n' "$res" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | tail -n 1)
  printf '%s\n' "$res" | grep -v ' passed, [0-9]* failed$'
  [ -n "$counts" ] || counts="0 1"
  echo "arm64-node cpu=$cpu: ${counts% *} outputs identical, ${counts#* } different"
  total_passed=$((total_passed + ${counts% *}))
  total_failed=$((total_failed + ${counts#* }))
done
# A Cortex-A53 has no dotprod: the neondot path must not have run there.
if [ -f "$tmp/arm64-cortex-a53.json" ] && node -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1])).available.includes("neondot") ? 0 : 1)' "$tmp/arm64-cortex-a53.json"; then
  echo "arm64-node cpu=cortex-a53: neondot offered on a CPU without dotprod"
  total_failed=$((total_failed + 1))
  status=1
fi
echo "arm64-node: $total_passed passed, $total_failed failed"
exit $status
