#!/usr/bin/env bash
# Unpacks Debian's arm64 Node.js and the libraries it needs into DIR/sysroot,
# for scripts/test-arm64-node.sh to run lowbit's arm64 addon under qemu-user:
#   qemu-aarch64-static -L DIR/sysroot DIR/sysroot/usr/bin/node script.js
# Nothing is installed: apt-get runs with a private configuration (arm64 package
# lists and a cache under DIR, the system's sources), downloads the .deb files
# and dpkg-deb unpacks them; the system's dpkg architectures are not touched.
# glibc and libstdc++ come from the cross toolchain (/usr/aarch64-linux-gnu).
# The package set is resolved from nodejs's dependencies, so it follows the
# Debian release. Needs apt (network access to the Debian mirror) and
# g++-aarch64-linux-gnu; takes 15-30 s and leaves ~90 MB. Does nothing if DIR has a node.
#   usage: scripts/fetch-node-arm64.sh [DIR]     (default build-node-arm64)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p "${1:-build-node-arm64}"
D=$(cd "${1:-build-node-arm64}" && pwd)
S=$D/sysroot
CROSS_SYSROOT=${CROSS_SYSROOT:-/usr/aarch64-linux-gnu}

if [ -x "$S/usr/bin/node" ]; then
  echo "fetch-node-arm64: $S/usr/bin/node is there"
  exit 0
fi
if [ ! -d "$CROSS_SYSROOT/lib" ]; then
  echo "fetch-node-arm64: $CROSS_SYSROOT/lib is missing; apt-get install -y g++-aarch64-linux-gnu" >&2
  exit 1
fi

mkdir -p "$D/lists/partial" "$D/cache/archives/partial" "$D/debs"
touch "$D/status"
cat > "$D/apt.conf" <<EOF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
APT::Sandbox::User "root";
Dir::State::Lists "$D/lists";
Dir::State::status "$D/status";
Dir::Cache "$D/cache";
EOF
export APT_CONFIG=$D/apt.conf
apt-get update -qq

# nodejs and everything it depends on, less what the cross toolchain provides.
pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
         --no-replaces --no-enhances nodejs |
       grep -E '^[a-z0-9]' | sort -u |
       grep -vE '^(libc6|libgcc-s1|libstdc\+\+6|gcc-[0-9]+-base)$')
echo "fetch-node-arm64: $(echo $pkgs)"
(cd "$D/debs" && apt-get download -qq $pkgs)
for f in "$D"/debs/*.deb; do dpkg-deb -x "$f" "$S"; done
mkdir -p "$S/lib"
for f in "$CROSS_SYSROOT"/lib/*.so*; do ln -sf "$f" "$S/lib/"; done
rm -rf "$D/lists" "$D/cache" "$D/debs"   # package lists and .deb files: ~70 MB, not needed any more

if command -v qemu-aarch64-static >/dev/null 2>&1; then
  echo "fetch-node-arm64: $(qemu-aarch64-static -L "$S" "$S/usr/bin/node" -p 'process.version + " " + process.arch')"
fi
