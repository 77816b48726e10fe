#!/bin/bash
# sudo bash bench/engine-run.sh [--n N] [--only guise,podman,podman-runc,docker]
#                               [--cases run-rm,run-d,rm-f,version] [--build DIR]
#
# `run --rm IMAGE true` of guise against podman (crun, and runc) and docker on one busybox
# image imported into each, runs alternated engine by engine (N each, default 30); also
# `run -d` and `rm -f` timed apart, the clients' start-up, and the idle memory of one
# container's monitor (guise-monitor, conmon, containerd-shim).  docker talks to a dockerd of
# its own, started and stopped here.  Writes bench/results/ENGINE-RUN.md and
# engine-run-raw.json and prints the tables.  About 5 minutes.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export BENCH
. "$BENCH/lib/common.sh"

case ${1:-} in -h|--help) sed -n '2,10p' "$0"; exit 0 ;; esac
require_root
for tool in podman crun runc conmon /usr/sbin/dockerd /usr/bin/docker containerd unshare; do
  command -v "$tool" >/dev/null ||
    die "missing $tool (Debian packages podman crun runc conmon docker.io containerd util-linux)"
done
[ -x /bin/busybox ] || die "missing /bin/busybox (Debian package busybox-static)"
build=$REPO/build
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[i]}" = --build ] && build=${args[i + 1]:-}; done
for b in guise guise-full guise-monitor guise-init guise-oci; do
  [ -x "$build/$b" ] || die "no $build/$b: ninja -C build guise-engine guise-monitor guise-init guise-oci"
done
mkdir -p "$WORK"
exec 9>"$WORK/.engine-run.lock"
flock -n 9 || die "another bench/engine-run.sh is running"
# One private mount namespace for every engine (see NS_PRELUDE); whatever mount a failure
# leaves in it goes with it.
exec unshare -m --propagation private sh -c "$NS_PRELUDE"'; exec "$@"' sh $PY "$BENCH/engine_run.py" "$@"
