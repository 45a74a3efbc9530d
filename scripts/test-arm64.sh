#!/usr/bin/env bash
# Cross-builds the native kernel tests for aarch64 into build-arm64 and runs them
# under qemu-user on every ARM path:
#   -cpu max                    ref, neon and neondot (qemu's max CPU has dotprod)
#   LOWBIT_ISA=neon / neondot   one path forced
#   -cpu cortex-a53             no dotprod: neondot must be skipped by detection
# Prints each run's closing line. Skips (exit 0) when the cross compiler or qemu
# is missing; exits non-zero if the build or any run fails.
#   apt-get install -y g++-aarch64-linux-gnu qemu-user-static
set -u
cd "$(dirname "$0")/.."

CXX_CROSS=${CXX_CROSS:-aarch64-linux-gnu-g++}
QEMU=${QEMU:-qemu-aarch64-static}
BUILD_DIR=${BUILD_DIR:-build-arm64}
JOBS=${JOBS:-2}

if ! command -v "$CXX_CROSS" >/dev/null 2>&1; then
  echo "arm64: skipped ($CXX_CROSS not found; apt-get install -y g++-aarch64-linux-gnu)"
  exit 0
fi
if ! command -v "$QEMU" >/dev/null 2>&1; then
  echo "arm64: skipped ($QEMU not found; apt-get install -y qemu-user-static)"
  exit 0
fi
if ! command -v cmake >/dev/null 2>&1; then
  echo "arm64: skipped (cmake not found)"
  exit 0
fi

log="$BUILD_DIR/test-arm64.log"
mkdir -p "$BUILD_DIR"
if ! { cmake -S . -B "$BUILD_DIR" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
         -DCMAKE_BUILD_TYPE=Release -DLOWBIT_CROSS_PREFIX="${CXX_CROSS%g++}" &&
       cmake --build "$BUILD_DIR" -j"$JOBS"; } >"$log" 2>&1; then
  tail -n 30 "$log"
  echo "arm64: build failed (full log: $log)"
  exit 1
fi

binary="$BUILD_DIR/lowbit_kernel_tests"
# The toolchain file links statically; -L lets a dynamic build find its loader too.
sysroot=/usr/aarch64-linux-gnu
status=0
run() {
  local label=$1 cpu=$2 isa=$3 out rc
  out=$(env ${isa:+LOWBIT_ISA=$isa} "$QEMU" -cpu "$cpu" -L "$sysroot" "$binary" 2>&1)
  rc=$?
  # The paths line shows what detection picked; the last line is the summary.
  local paths summary
  paths=$(printf '%s\n' "$out" | head -n 1 | sed 's/.*paths under test: */paths: /')
  summary=$(printf '%s\n' "$out" | tail -n 1)
  printf 'arm64 %-18s %s | %s\n' "$label:" "$paths" "$summary"
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out" | grep -E '^  FAIL|^    ' | head -n 20
    echo "arm64 $label: exit status $rc"
    status=1
  fi
  # A forced path that detection dropped would pass vacuously: require it.
  if [ -n "$isa" ] && ! printf '%s\n' "$out" | head -n 1 | grep -qw -- "$isa"; then
    echo "arm64 $label: path $isa was not under test"
    status=1
  fi
}

run "cpu=max" max ""
run "LOWBIT_ISA=neon" max neon
run "LOWBIT_ISA=neondot" max neondot
run "cpu=cortex-a53" cortex-a53 ""

# Detection must drop neondot on a CPU without dotprod rather than run SDOT.
a53_paths=$("$QEMU" -cpu cortex-a53 -L "$sysroot" "$binary" no_test_matches_this 2>&1 | head -n 1)
case "$a53_paths" in
  *neondot*) echo "arm64: neondot selected on cortex-a53 (no dotprod)"; status=1 ;;
  *neon*) ;;
  *) echo "arm64: neon not selected on cortex-a53: $a53_paths"; status=1 ;;
esac

exit $status
