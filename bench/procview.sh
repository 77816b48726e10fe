#!/usr/bin/env bash
# What the /proc view costs (README "The /proc view"): `guise run --rm` with the view and
# without it (--proc-view=host), alternated, and an open+read of /proc/meminfo in a loop
# inside a container, view against host.
#
#   bash bench/procview.sh [RUNS]      (BUILD=build; RUNS=20 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${1:-20}
READS=${READS:-5000}
work=$(mktemp -d /tmp/procview-bench.XXXXXX)
G=("$BUILD/guise" --root "$work/store")
trap '"${G[@]}" rm -f $("${G[@]}" ps -aq 2>/dev/null) >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
/usr/bin/python3 - "$work/bb.tar" <<'PY'
import sys
sys.path.insert(0, "tests/integration")
import engine_fixture
with open(sys.argv[1], "wb") as f:
    f.write(engine_fixture.rootfs_tar_bytes())
PY
"${G[@]}" import "$work/bb.tar" bb:latest >/dev/null

now() { date +%s%N; }
declare -A runs
for mode in cgroup host; do runs[$mode]=""; done
"${G[@]}" run --rm --network none bb true  # warm the caches
for ((i = 0; i < RUNS; i++)); do
  for mode in cgroup host; do
    s=$(now)
    "${G[@]}" run --rm --network none --memory 256m --proc-view=$mode bb true
    runs[$mode]+="$(( ($(now) - s) / 1000 )) "
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for mode in cgroup host; do
  echo "guise run --rm (--proc-view=$mode): median $(echo "${runs[$mode]}" | median) us over $RUNS runs"
done
# busybox date has no %N: the loop is timed from outside, less the same exec with no reads.
loop='i=0; while [ $i -lt $0 ]; do read -r l < /proc/meminfo; i=$((i+1)); done'
for mode in cgroup host; do
  cid=$("${G[@]}" run -d --network none --memory 256m --proc-view=$mode bb sleep 1000)
  s=$(now); "${G[@]}" exec "$cid" sh -c "$loop" 0; t0=$(( $(now) - s ))
  s=$(now); "${G[@]}" exec "$cid" sh -c "$loop" "$READS"; t1=$(( $(now) - s ))
  "${G[@]}" rm -f "$cid" >/dev/null
  echo "open+read of /proc/meminfo (--proc-view=$mode): $(( (t1 - t0) / READS )) ns each, $READS reads"
done
