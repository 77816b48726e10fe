#!/bin/bash
# bash bench/check.sh [--n N] [--engine-n N]   (as root)
#
# Regression check: about 20 alternated `run`s of /bin/true each with guise-oci and crun, in
# the same namespace and bundles as bench/run.sh.  Prints the guise/crun ratio of medians and
# exits 1 only if it is more than twice the worst ratio a full bench/run.sh recorded in
# bench/results/baseline.json (the ratio moves with machine load).  Then the engine: about 15
# alternated `guise run --rm --network none IMAGE true` and `guise-oci run` of the same rootfs
# as a bundle (bench/engine.py --check; build/ of this tree); exit 1 if guise/guise-oci is more
# than twice the ratio bench/engine.sh recorded there, skipped with its reason when something
# it needs is missing.  Exit 2: could not measure (no baseline, a runtime failing).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export BENCH
. "$BENCH/lib/common.sh"

n=20
engine_n=15
while [ $# -gt 0 ]; do
  case $1 in
    --n) n=$2; shift ;;
    --engine-n) engine_n=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done
require_root
baseline=$BENCH/results/baseline.json
[ -f "$baseline" ] || die "no $baseline: run 'sudo bash bench/run.sh' once first"
mkdir -p "$WORK"
exec 9>"$WORK/.lock"
flock -n 9 || die "another bench/run.sh or check.sh is running"

trap 'cleanup_all' EXIT
trap on_signal INT TERM

ensure_packages
copy_guise
cleanup_all
prepare default 1 >/dev/null
raw=$WORK/check-raw.json
run_driver --out "$raw" --quick --n "$n" --only run --runtimes guise,crun >/dev/null
rc=0
$PY - "$raw" "$baseline" <<'PYEOF' || rc=$?
import json, sys
raw = json.load(open(sys.argv[1]))
base = json.load(open(sys.argv[2]))
lat = raw["modes"]["run"]["latency_s"]
if not lat.get("guise") or not lat.get("crun"):
    print("check: a runtime failed:", json.dumps(raw.get("unsupported") or raw.get("failures")))
    sys.exit(2)
def med(x):
    x = sorted(x); k = (len(x) - 1) / 2
    return (x[int(k)] + x[min(int(k) + 1, len(x) - 1)]) / 2
g, c = med(lat["guise"]), med(lat["crun"])
# The worst ratio a full run recorded on this machine: load moves the ratio, a
# regression moves it past twice that.
r, b = g / c, max(base["guise_crun_ratio"], base.get("worst_guise_crun_ratio", 0))
print(f"check: run /bin/true median guise {g*1000:.2f} ms, crun {c*1000:.2f} ms "
      f"(n={len(lat['guise'])}/{len(lat['crun'])} alternated)")
print(f"check: guise/crun = {r:.2f}  (baseline {b:.2f} from {base.get('date','?')}, "
      f"fails above {2*b:.2f})")
if r > 2 * b:
    print("check: FAIL: guise/crun is more than 2x the baseline ratio")
    sys.exit(1)
print("check: ok")
PYEOF

# The engine against its runtime: guise run --rm over guise-oci run (bench/engine.py).
erc=0
in_bench_ns $PY "$BENCH/engine.py" --check "$engine_n" || erc=$?
case $erc in
  0) ;;
  1) rc=1 ;;
  *) log "check: engine: could not measure (exit $erc)"; [ $rc = 1 ] || rc=2 ;;
esac
exit $rc
