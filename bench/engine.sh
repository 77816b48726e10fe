#!/bin/bash
# sudo bash bench/engine.sh [--n N] [--quick] [--only guise,podman,podman-runc,docker]
#                           [--cases run-rm,run-rm-bridge,run-rm-port,run-d,rm-f,exec,burst,many]
#                           [--many M] [--bursts B] [--build DIR] [--all]
#
# issue 19's engine benchmark: guise against podman (crun, runc), a dockerd of its own and
# guise's floor (guise-oci run of the same rootfs as a bundle), runs alternated: run --rm
# with --network none, the bridge and a published port; run -d and rm -f apart; exec; 16
# run --rm at once; M detached containers (wall time, memory per container).  Installs
# podman, docker.io and containerd if missing.  Writes bench/results/ENGINE.md, engine.png,
# engine-raw.json; quotes the last IMAGES.md and NETWORK.md (--all reruns image-pull.sh and
# network.sh first).  About 10 minutes (--quick: about 3).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export BENCH
. "$BENCH/lib/common.sh"

case ${1:-} in -h|--help) sed -n '2,12p' "$0"; exit 0 ;; esac
require_root
all=0
args=()
for a in "$@"; do
  if [ "$a" = --all ]; then all=1; else args+=("$a"); fi
done
mkdir -p "$WORK"
ensure_packages podman conmon docker.io containerd iptables iproute2 python3-matplotlib
engine_build_dir "${args[@]}" >/dev/null
exec 9>"$WORK/.engine.lock"
flock -n 9 || die "another bench/engine.sh is running"
if [ $all = 1 ]; then
  ensure_packages skopeo umoci zstd docker-registry iperf3
  log "--all: bench/image-pull.sh, then bench/network.sh"
  bash "$BENCH/image-pull.sh"
  bash "$BENCH/network.sh"
fi
# One private mount namespace for every engine (NS_PRELUDE), as engine-run.sh.
exec unshare -m --propagation private sh -c "$NS_PRELUDE"'; exec "$@"' sh \
  $PY "$BENCH/engine.py" --argv "$(printf ' %s' "$@")" "${args[@]}"
