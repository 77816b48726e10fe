#!/bin/bash
# sudo bash bench/run.sh [--quick] [--n N] [--only MODES]
#
# Side-by-side timings of guise-oci, runc and crun (and bench/floor.c, the kernel's share of
# the work) on identical busybox bundles; writes bench/results/RESULTS.md, latency.png and
# baseline.json (which bench/check.sh compares against).  About 8 minutes; --quick about 2.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export BENCH
. "$BENCH/lib/common.sh"

quick=() n=() only=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=(--quick) ;;
    --n) n=(--n "$2"); shift ;;
    --only) only=(--only "$2"); shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
  shift
done
require_root
mkdir -p "$WORK" "$BENCH/results"
exec 9>"$WORK/.lock"
flock -n 9 || die "another bench/run.sh or check.sh is running"

trap 'cleanup_all' EXIT
trap on_signal INT TERM

ensure_packages python3-matplotlib
copy_guise
build_floor
cleanup_all # what an interrupted earlier run may have left
slots=$(nproc)
log "building bundles in $WORK/bundles"
prepare default,userns,seccomp "$slots"

# What crun says on this host outside the benchmark's namespace (reported in RESULTS.md).
probe=gb-probe-hybrid-$$
if crun --root /run/guise-bench-crun run --bundle "$WORK/bundles/default/crun/s0" "$probe" \
  </dev/null >/dev/null 2>"$WORK/crun-hybrid.txt"; then
  echo "(crun ran: exit 0)" >"$WORK/crun-hybrid.txt"
fi
crun --root /run/guise-bench-crun delete --force "$probe" >/dev/null 2>&1 || true

$PY "$BENCH/report.py" meta "$WORK/meta.json"
raw=$WORK/raw-$(date +%Y%m%d-%H%M%S).json
log "measuring (alternated; raw samples in $raw)"
run_driver --out "$raw" "${quick[@]}" "${n[@]}" "${only[@]}"
$PY "$BENCH/report.py" write "$raw" "$WORK/meta.json"
cp "$raw" "$BENCH/results/raw.json"
log "done: $BENCH/results/RESULTS.md"
