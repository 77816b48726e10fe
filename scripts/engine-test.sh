#!/usr/bin/env bash
# Engines, end to end: containerd (through ctr, and through its CRI plugin as kubelet drives it),
# docker and podman run containers with build/guise-oci, and with runc as the reference, through
# the same flows (tests/engines).
# Installs the engines from Debian if they are missing; builds guise-oci if it is not built.
# Each daemon runs with all its state in a temporary directory, removed at the end.
# Usage: sudo bash scripts/engine-test.sh [pytest args]   (about 2-3 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/guise-oci ]] || bash scripts/setup.sh --build-only

packages=(containerd podman conmon docker.io runc busybox-static python3-pytest
          python3-grpcio python3-grpc-tools python3-protobuf)   # the CRI tests' client
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "engine-test: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # no systemd here: the packages' services are installed, not started
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "engine-test: apt-get could not install ${missing[*]}; the tests that need them skip" >&2
  fi
fi

echo "== engine tests (containerd, docker, podman x guise-oci, runc)"
exec /usr/bin/python3 -m pytest tests/engines -q -p no:cacheprovider "$@"
