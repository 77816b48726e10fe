#!/bin/bash
# sudo bash bench/why.sh [--only guise,podman,docker] [--cases oom-pid1,oom-child,...]
#
# The deaths of tests/integration/test_why.py through guise, podman (crun) and docker (its
# own dockerd, started and stopped here): guise's `why` beside each engine's inspect
# (OOMKilled, ExitCode, Error). Writes bench/results/WHY.md and why-raw.json. About 3 minutes.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export BENCH
. "$BENCH/lib/common.sh"

case ${1:-} in -h|--help) sed -n '2,6p' "$0"; exit 0 ;; esac
require_root
for b in guise guise-full guise-monitor guise-init guise-oci guise-testbin; do
  [ -x "$REPO/build/$b" ] || die "no $REPO/build/$b: ninja -C build guise-engine guise-monitor guise-init guise-oci guise-testbin"
done
mkdir -p "$WORK"
exec 9>"$WORK/.why.lock"
flock -n 9 || die "another bench/why.sh is running"
exec unshare -m --propagation private sh -c "$NS_PRELUDE"'; exec "$@"' sh $PY "$BENCH/why.py" "$@"
