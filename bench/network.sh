#!/bin/bash
# sudo bash bench/network.sh [--n N] [--seconds S] [--only guise,podman]
#
# Container networking, guise against podman on this host, in one alternated run: what a
# network (bridge, veth, address, routes, one published port) adds to `run --rm`, and
# iperf3 throughput from the host to a container over its veth and through a published
# port.  Writes bench/results/NETWORK.md and network-raw.json.  About 3 minutes.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export BENCH
. "$BENCH/lib/common.sh"

case ${1:-} in -h|--help) sed -n '2,7p' "$0"; exit 0 ;; esac
require_root
for tool in podman crun iperf3 nsenter; do
  command -v "$tool" >/dev/null || die "missing $tool (Debian packages podman crun iperf3 util-linux)"
done
for b in guise guise-full guise-monitor guise-init guise-oci; do
  [ -x "$REPO/build/$b" ] || die "no build/$b: ninja -C build guise-engine guise-monitor guise-init guise-oci"
done
mkdir -p "$WORK"
# podman (crun) refuses this host's hybrid cgroups unless the empty cgroup2 mount is gone:
# one private mount namespace for both engines (NS_PRELUDE).
exec unshare -m --propagation private sh -c "$NS_PRELUDE"'; exec "$@"' sh $PY "$BENCH/network.py" "$@"
