#!/bin/sh
# engine-tests.sh: the engine (`guise`) on a machine with busybox alone: the cgroup-v2 VM
# of scripts/vm-engine-test.sh. Imports bb.tar (a busybox rootfs) as the image "bb" into a
# fresh store, then sources every engine/*.sh beside this script: each file is a set of
# checks on one feature, written with the functions below. One "ok - ..." / "not ok - ..."
# line per check, then
#   engine-v2: N passed, M failed
# (engine-v1 / engine-hybrid on such hosts). Exit status: 0 when nothing failed.
#
# What a check file may use:
#   g ARGS...            guise --root STORE ARGS (containers want --network none: the VM has
#                        no bridge or nftables modules loaded)
#   check DESC CMD...    ok when CMD succeeds
#   ok DESC / not_ok DESC / say TEXT
#   skip DESC REASON     a check this kernel cannot run, with the reason
#   MODE                 v2, v1 or hybrid
#   cg_file ID FILE      the path of FILE in container ID's cgroup (v2: the unified directory)
# Containers a check file starts are removed after it, whatever it left.
set -u
here=$(cd "$(dirname "$0")" && pwd)
GUISE=${GUISE:-$here/guise}
W=$(mktemp -d /tmp/engine-tests.XXXXXX)
STORE=$W/store
passed=0 failed=0 skipped=0

say() { echo "# $*"; }
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
skip() { skipped=$((skipped + 1)); echo "ok - $1 # SKIP $2"; }
check() { # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
g() { "$GUISE" --root "$STORE" "$@"; }

remove_all() {
  local ids
  ids=$(g pod ps -q 2>/dev/null)  # a pod's infra goes with its pod only
  [ -n "$ids" ] && g pod rm -f $ids >/dev/null 2>&1
  ids=$(g ps -aq 2>/dev/null)
  [ -n "$ids" ] && g rm -f $ids >/dev/null 2>&1
  return 0
}
cleanup() {
  remove_all
  g system prune -af >/dev/null 2>&1
  grep " $W/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if grep -q ' - cgroup ' /proc/self/mountinfo; then
  if grep -q ' - cgroup2 ' /proc/self/mountinfo; then MODE=hybrid; else MODE=v1; fi
else MODE=v2; fi

cg_file() { # ID FILE: FILE in the container's cgroup (v2 unified; v1: the controller named by FILE's prefix)
  local pid c line path mp
  pid=$(g inspect -f '{{.State.Pid}}' "$1") || return 1
  if [ "$MODE" = v2 ]; then
    path=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
    echo "/sys/fs/cgroup$path/$2"
  else
    c=${2%%.*}
    line=$(grep -E "^[0-9]+:([^:]*,)?$c(,[^:]*)?:" "/proc/$pid/cgroup") || return 1
    path=${line#*:*:}
    mp=$(awk -v c="$c" '$0 ~ " - cgroup " { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $5 }' /proc/self/mountinfo | head -1)
    echo "$mp$path/$2"
  fi
}

say "engine checks on cgroup $MODE, $(uname -r)"
if ! g import "$here/bb.tar" bb:latest >/dev/null; then
  not_ok "import the busybox image"
else
  ok "import the busybox image"
  # The base every check file relies on: a container runs, its output comes back, and
  # its limits land in its cgroup.
  out=$(g run --rm --network none bb echo hello 2>&1)
  check "run --rm prints the container's output (got: $out)" [ "$out" = hello ]
  cid=$(g run -d --network none --memory 64m bb sleep 60)
  if [ "$MODE" = v2 ]; then f=memory.max; else f=memory.limit_in_bytes; fi
  v=$(cat "$(cg_file "$cid" $f)" 2>/dev/null)
  check "--memory 64m lands in $f (got: $v)" [ "$v" = 67108864 ]
  remove_all
  for t in "$here"/engine/*.sh; do
    [ -f "$t" ] || continue
    say "${t##*/}"
    . "$t"
    remove_all
  done
fi
echo "engine-$MODE: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
