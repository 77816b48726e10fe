#!/bin/sh
# criu-tests.sh: checkpoint and restore of real containers through criu, where criu
# works (the cgroup-v2 VM of scripts/vm-test.sh; on the development host's kernel criu
# cannot parse the vDSO, and tests/integration/test_checkpoint.py checks the refusal).
# One "ok - ..." / "not ok - ..." line per check, then
#   criu: N passed, M failed
# or, where `criu check` fails here too,
#   criu: skipped: REASON
# Exit status: 0 when nothing failed.
#
#   criu-tests.sh [GUISE_OCI [CONSOLE_RECEIVER]]   (default: next to this script; criu
#       from PATH, and GNU tar before busybox's: criu packs tmpfs contents with tar
#       options busybox lacks)
set -u
here=$(cd "$(dirname "$0")" && pwd)
G=${1:-$here/guise-oci}
CR=${2:-$here/console-receiver}
case $G in /*) ;; *) G=$PWD/$G ;; esac
case $CR in /*) ;; *) CR=$PWD/$CR ;; esac
BB=${BUSYBOX:-/bin/busybox}
W=$(mktemp -d /tmp/criu-tests.XXXXXX)
ROOT=$W/state
PARENT=guise-criu
passed=0 failed=0 ids=""

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
rt() { "$G" --root "$ROOT" "$@"; }

# Where containers' cgroups are looked at: the memory hierarchy on a v1 or hybrid VM
# (VM_CGROUP), the cgroup2 one on v2.
if grep -q ' - cgroup ' /proc/self/mountinfo; then CGKEY=memory CGMNT=/sys/fs/cgroup/memory
else CGKEY="" CGMNT=/sys/fs/cgroup; fi
cgroup_of() { awk -F: -v k="$CGKEY" '$2 == k { print $3; exit }' "/proc/$1/cgroup"; }

cleanup() {
  for id in $ids; do rt delete --force "$id" >/dev/null 2>&1; done
  rmdir "$CGMNT$(cgroup_of $$)/$PARENT" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! out=$(criu check 2>&1); then
  echo "# criu check: $out"
  echo "criu: skipped: criu check fails here: $(echo "$out" | grep 'Error' | tail -3 | tr '\n' ' ')"
  exit 0
fi
# No iptables in the VM: criu locks the container's network with nftables (through
# its runc configuration file, which guise-oci reads as runc does).
mkdir -p /etc/criu && echo "network-lock nftables" > /etc/criu/runc.conf

# ---------------------------------------------------------------- a bundle

r=$W/rootfs
mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/out"
cp "$BB" "$r/bin/busybox"
for a in sh sleep cat echo mv; do ln -sf busybox "$r/bin/$a"; done
mkdir -p "$W/out"

# config ID SCRIPT [TERMINAL [NETNS]]: runc's `spec` default running `sh -c SCRIPT`, with
# /out bound from $W/out (a terminal when TERMINAL is true; the network namespace at
# the path NETNS joined).
config() {
  local b=$W/b-$1
  mkdir -p "$b" && ln -sfn "$r" "$b/rootfs"
  cat > "$b/config.json" <<EOF
{
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": ${3:-false}, "user": {"uid": 0, "gid": 0}, "args": ["/bin/sh", "-c", "$2"],
    "env": ["PATH=/bin"], "cwd": "/",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "criu-tests",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/out", "type": "bind", "source": "$W/out", "options": ["rbind", "rw"]}
  ],
  "linux": {
    "cgroupsPath": "$PARENT/$1",
    "namespaces": [{"type": "pid"}, {"type": "network"${4:+, \"path\": \"$4\"}}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
  }
}
EOF
  ids="$ids $1"
}

init_pid() { rt state "$1" 2>/dev/null | awk -F'[:,]' '/"pid"/ { gsub(/ /, "", $2); print $2 }'; }
status_of() { rt state "$1" 2>/dev/null | awk -F'"' '/"status"/ { print $4 }'; }
count() { cat "$W/out/$1" 2>/dev/null || echo 0; }
# grows ID: the counter of ID moves on within 3 s.
grows() {
  local c0 n=30
  c0=$(count "$1")
  while [ $n -gt 0 ]; do
    [ "$(count "$1")" -gt "$c0" ] && return 0
    sleep 0.1; n=$((n - 1))
  done
  return 1
}
still() { local c0; c0=$(count "$1"); sleep 1; [ "$(count "$1")" = "$c0" ]; }
wait_status() { # ID STATUS
  local n=100
  while [ $n -gt 0 ]; do
    [ "$(status_of "$1")" = "$2" ] && return 0
    sleep 0.1; n=$((n - 1))
  done
  return 1
}
in_cgroup() { case $(cgroup_of "$1") in *"$2") return 0 ;; esac; return 1; }  # PID PATH_SUFFIX
between() { [ "$1" -gt "$2" ] && [ "$1" -lt "$3" ]; }  # VALUE LOW HIGH, both excluded
nspid_is_1() { awk '/^NSpid:/ { exit !($NF == 1) }' "/proc/$1/status"; }
no_cgroup() { [ -d "$CGMNT$(cgroup_of $$)" ] && [ ! -d "$CGMNT$(cgroup_of $$)/$PARENT/$1" ]; }

# A shell counting into /out/ID: its own variable, so a restored process continues
# from where it was dumped while a restarted one would begin again at 1.
# Written whole (by rename): a reader never sees the file empty.
counter() { echo "exec </dev/null >/dev/null 2>&1; i=0; while :; do i=\$((i + 1)); echo \$i > /out/.$1; mv /out/.$1 /out/$1; sleep 0.1; done"; }

# ---------------------------------------------------------------- the checks

id=cnt
config $id "$(counter $id)"
(cd "$W/b-$id" && rt run -d $id </dev/null >"$W/run.out" 2>&1) || not_ok "run: $(cat "$W/run.out")"
check "the counter runs" grows $id

rt checkpoint --image-path "$W/img1" --leave-running $id >"$W/ck1.out" 2>&1
check "checkpoint --leave-running succeeds ($(cat "$W/ck1.out"))" [ -s "$W/img1/inventory.img" ]
check "after --leave-running the container is running" [ "$(status_of $id)" = running ]
check "... and counting" grows $id

rt checkpoint --image-path "$W/img2" --work-path "$W/work2" $id >"$W/ck2.out" 2>&1
check "checkpoint succeeds ($(cat "$W/ck2.out"))" [ -s "$W/img2/inventory.img" ]
check "criu's log is in the work path" [ -s "$W/work2/dump.log" ]
check "runc's descriptors.json is in the image path" [ -s "$W/img2/descriptors.json" ]
check "the checkpointed container is gone (state, cgroup)" sh -c "! $G --root $ROOT state $id >/dev/null 2>&1"
check "... its cgroup removed" no_cgroup $id
dumped=$(count $id)
check "the counter stopped at $dumped" still $id

(cd "$W/b-$id" && rt restore -d --image-path "$W/img2" --work-path "$W/work2" --pid-file "$W/pid" $id \
  </dev/null >"$W/rs.out" 2>&1)
check "restore -d succeeds ($(cat "$W/rs.out"))" wait_status $id running
pid=$(init_pid $id)
check "--pid-file holds the restored init's pid ($(cat "$W/pid" 2>/dev/null) = $pid)" [ "$(cat "$W/pid" 2>/dev/null)" = "$pid" ]
check "criu's restore log is in the work path" [ -s "$W/work2/restore.log" ]
check "the restored counter moves on" grows $id
now=$(count $id)
check "from where it was dumped ($dumped -> $now), not from 1" between "$now" "$dumped" $((dumped + 60))
check "the restored init is pid 1 of its pid namespace" nspid_is_1 "$pid"
check "the restored init is in the container's cgroup ($(cgroup_of "$pid"))" in_cgroup "$pid" "/$PARENT/$id"
check "ps lists the restored processes" sh -c "$G --root $ROOT ps --format json $id | grep -q $pid"
rt delete --force $id
check "delete removes the restored container's cgroup" no_cgroup $id

# Restore in the foreground: the restored init is the runtime's child, and its exit
# status is the runtime's.
(cd "$W/b-$id" && rt restore --image-path "$W/img1" $id </dev/null >"$W/fg.out" 2>&1; echo $? > "$W/fg.rc") &
fg=$!
check "restore in the foreground runs the container" wait_status $id running
check "... counting from the --leave-running image" grows $id
rt kill $id KILL
n=100; while kill -0 $fg 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
check "... the runtime exits 137 once the restored init is killed ($(cat "$W/fg.rc" 2>/dev/null))" [ "$(cat "$W/fg.rc" 2>/dev/null)" = 137 ]
check "... and deletes the container" sh -c "! $G --root $ROOT state $id >/dev/null 2>&1"

# A paused container: criu dumps it through the frozen cgroup and leaves it frozen.
id=paused
config $id "$(counter $id)"
(cd "$W/b-$id" && rt run -d $id </dev/null >"$W/run5.out" 2>&1)
grows $id && rt pause $id
rt checkpoint --image-path "$W/img5" --leave-running $id >"$W/ck5.out" 2>&1
check "checkpoint --leave-running of a paused container ($(cat "$W/ck5.out"))" [ -s "$W/img5/inventory.img" ]
check "... leaves it paused" [ "$(status_of $id)" = paused ]
check "... and still" still $id
rt resume $id
check "... and it counts once resumed" grows $id
rt delete --force $id

# A network namespace joined by path (as engines give a pod's): criu leaves it out of
# the images as external, and restore hands it back by fd.
unshare -n sleep 1000 &
holder=$!
sleep 0.5
netns=/proc/$holder/ns/net
id=netns
config $id "$(counter $id)" false "$netns"
(cd "$W/b-$id" && rt run -d $id </dev/null >"$W/run6.out" 2>&1)
check "a container in a joined network namespace counts ($(cat "$W/run6.out"))" grows $id
rt checkpoint --image-path "$W/img6" $id >"$W/ck6.out" 2>&1
check "checkpoint of a container in a joined network namespace ($(cat "$W/ck6.out"))" [ -s "$W/img6/inventory.img" ]
(cd "$W/b-$id" && rt restore -d --image-path "$W/img6" $id </dev/null >"$W/rs6.out" 2>&1)
check "restore into the joined network namespace ($(cat "$W/rs6.out"))" wait_status $id running
check "... counting" grows $id
check "... in that network namespace" [ "$(readlink "/proc/$(init_pid $id)/ns/net")" = "$(readlink $netns)" ]
rt delete --force $id
kill $holder

# stdio pipes: dumped ones are restored as the restoring runtime's own fds (runc's rule).
id=pipe
config $id "i=0; while :; do i=\$((i + 1)); echo \$i; sleep 0.1; done"
(cd "$W/b-$id" && true | rt run -d $id 2>&1 | cat > "$W/pipe1") &
check "a container writing to a pipe runs" wait_status $id running
n=50; while [ "$(wc -l < "$W/pipe1")" -lt 10 ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
rt checkpoint --image-path "$W/img3" $id >"$W/ck3.out" 2>&1
check "checkpoint of a container with pipes for stdio ($(cat "$W/ck3.out"))" [ -s "$W/img3/inventory.img" ]
check "descriptors.json names the pipes" grep -q 'pipe:' "$W/img3/descriptors.json"
last=$(tail -n 1 "$W/pipe1")
(cd "$W/b-$id" && true | rt restore -d --image-path "$W/img3" $id 2>"$W/rs3.err" | cat > "$W/pipe2") &
check "restore with new pipes ($(cat "$W/rs3.err" 2>/dev/null))" wait_status $id running
sleep 1
first=$(head -n 1 "$W/pipe2")
check "the restored process writes to the new pipe, from where it was ($last -> $first)" \
  between "${first:-0}" $((${last:-0} - 5)) $((${last:-0} + 60))
rt delete --force $id

# A terminal: dumped as a shell job's (criu's command line has no --orphan-pts-master),
# restored on a new terminal whose master goes to the console socket.
lines() { tr -d '\r' < "$1" 2>/dev/null | grep -c .; }
wait_lines() { # FILE N
  local n=50
  while [ "$(lines "$1")" -lt "$2" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  [ "$(lines "$1")" -ge "$2" ]
}
wait_file() { local n=50; while [ ! -e "$1" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done; [ -e "$1" ]; }
id=tty
config $id "i=0; while :; do i=\$((i + 1)); echo \$i; sleep 0.1; done" true
"$CR" "$W/tty1.sock" "$W/tty1" 2>"$W/cr1.err" &
wait_file "$W/tty1.sock"
(cd "$W/b-$id" && rt run -d --console-socket "$W/tty1.sock" $id </dev/null >"$W/tty-run.out" 2>&1)
check "a container with a terminal writes to it ($(cat "$W/tty-run.out"))" wait_lines "$W/tty1" 10
rt checkpoint --image-path "$W/img4" $id >"$W/ck4.out" 2>&1
check "checkpoint of a container with a terminal ($(cat "$W/ck4.out"))" [ -s "$W/img4/inventory.img" ]
last=$(tr -d '\r' < "$W/tty1" | tail -n 1)
"$CR" "$W/tty2.sock" "$W/tty2" 2>"$W/cr2.err" &
wait_file "$W/tty2.sock"
(cd "$W/b-$id" && rt restore -d --console-socket "$W/tty2.sock" --image-path "$W/img4" $id </dev/null >"$W/rs4.out" 2>&1)
check "restore with --console-socket ($(cat "$W/rs4.out"))" wait_status $id running
check "the restored process writes to the new terminal" wait_lines "$W/tty2" 3
first=$(tr -d '\r' < "$W/tty2" | head -n 1)
check "... from where it was ($last -> $first)" between "${first:-0}" $((${last:-0} - 5)) $((${last:-0} + 60))
rt delete --force $id

# A restore that criu fails leaves nothing behind: images without their process tree.
config bad "$(counter bad)"
cp -a "$W/img2" "$W/img-bad" && rm -f "$W/img-bad/pstree.img"
(cd "$W/b-bad" && rt restore -d --image-path "$W/img-bad" bad </dev/null >"$W/bad.out" 2>&1)
check "restore from broken images fails, quoting criu ($(cat "$W/bad.out"))" grep -q "criu restore failed (.*No pstree.img image" "$W/bad.out"
check "... and leaves no state" sh -c "! $G --root $ROOT state bad >/dev/null 2>&1"
check "... and no cgroup" no_cgroup bad

echo "criu: $passed passed, $failed failed"
[ "$failed" = 0 ]
