#!/usr/bin/env bash
# Installs what guise needs (Debian packages), builds it, and — unless --build-only —
# builds the example busybox bundle and runs a container from it.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ ccache pkg-config libseccomp-dev nlohmann-json3-dev libcli11-dev
          libgtest-dev libarchive-dev libzstd-dev libcurl4-openssl-dev busybox-static python3-pytest jq procps iproute2 uidmap criu
          docker-registry skopeo umoci zstd openssl apache2-utils)
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
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j"${JOBS:-2}" --quiet

[[ "${1:-}" == --build-only ]] && exit 0

bundle=examples/bundle
bash examples/make-bundle.sh "$bundle" build/guise-testbin >/dev/null
# The demo: pid 1, hostname and uid map, printed from inside a fresh container.
jq '.process.args = ["/bin/sh", "-c", "echo \"pid: $$\"; echo \"hostname: $(hostname)\"; echo \"uid_map: $(cat /proc/self/uid_map)\""]
    | .hostname = "guise-demo" | .linux.cgroupsPath = "guise-demo/demo"' \
  "$bundle/config.json" > "$bundle/config.json.new" && mv "$bundle/config.json.new" "$bundle/config.json"
id=demo-$$
(cd "$bundle" && ../../build/guise-oci --root /run/guise run "$id")
rmdir /sys/fs/cgroup/*/guise-demo /sys/fs/cgroup/memory/*/*/guise-demo 2>/dev/null || true
