#!/usr/bin/env bash
# Installs what guise needs (Debian packages), builds it, and — unless --build-only —
# makes a busybox image and runs a container from it with `guise run`. As root.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ ccache pkg-config libseccomp-dev nlohmann-json3-dev libcli11-dev
          libgtest-dev libarchive-dev libzstd-dev libcurl4-openssl-dev busybox-static python3-pytest jq procps iproute2 uidmap criu
          docker-registry skopeo umoci zstd openssl apache2-utils libmnl-dev libnftnl-dev nftables iperf3
          clang libclang-rt-dev python3-grpcio python3-grpc-tools python3-protobuf passt slirp4netns fuse-overlayfs)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Paths relative to the checkout, so every clone (CI's included) shares one cache.
export CCACHE_BASEDIR="$PWD"
# Objects are shared between build trees (build, build-fault): their debug info names the
# tree they were first built in, which only a debugger reads.
export CCACHE_NOHASHDIR=1
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j"${JOBS:-2}" --quiet

[[ "${1:-}" == --build-only ]] && exit 0

# The demo, docker's way: a busybox image made here (no registry needed), run by guise with
# a memory and CPU limit; from inside it prints its pid, hostname, the memory limit its
# cgroup has, its uid map and the overlay it runs on.
tarball=$(mktemp /tmp/guise-demo-XXXXXX.tar)
trap 'rm -f "$tarball"' EXIT
bash examples/make-image.sh "$tarball"
build/guise import "$tarball" guise-demo/busybox:latest >/dev/null
build/guise run --rm --memory 64m --cpus 0.5 --hostname demo guise-demo/busybox sh -c '
  echo "pid: $$"
  echo "hostname: $(hostname)"
  echo "memory limit: $(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
  echo "uid_map: $(cat /proc/self/uid_map)"
  echo "root: $(grep " / / " /proc/self/mountinfo | sed "s/.* - //")"'
