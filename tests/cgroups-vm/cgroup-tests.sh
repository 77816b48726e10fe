#!/bin/sh
# cgroup-tests.sh: tests/integration/test_cgroups.py for a machine with busybox alone
# (the cgroup-v2 VM of scripts/vm-test.sh). Builds a bundle from busybox and the test
# binary, drives guise-oci through real containers, and reads the results from the
# container's cgroup. One "ok - ..." / "not ok - ..." line per check, then
#   cgroup-v2: N passed, M failed
# (cgroup-v1 / cgroup-hybrid on such hosts). Exit status: 0 when nothing failed.
#
#   cgroup-tests.sh [GUISE_OCI] [TESTBIN]      (default: next to this script)
#
# A cgroup-smoke binary (tests/cgroups-vm/cgroup_smoke.cc) next to the script runs as
# one more check. Containers whose CPU is measured get the most cpu.shares there are,
# so other work on the machine cannot starve them below their quota.
#
# Everything is made below this shell's own cgroup (relative cgroupsPath guise-vm/ID),
# and every container, cgroup and file is removed on exit, on failure too.
set -u
here=$(cd "$(dirname "$0")" && pwd)
G=${1:-$here/guise-oci}
TB=${2:-$here/guise-testbin}
BB=${BUSYBOX:-}
if [ -z "$BB" ]; then  # a shell that is busybox may answer `command -v busybox` with the bare name
  for BB in /bin/busybox /usr/bin/busybox /sbin/busybox "$(command -v busybox)"; do [ -x "$BB" ] && break; done
fi
case $G in /*) ;; *) G=$PWD/$G ;; esac
case $TB in /*) ;; *) TB=$PWD/$TB ;; esac
W=$(mktemp -d /tmp/cgroup-tests.XXXXXX)
ROOT=$W/state
PARENT=guise-vm
MiB=1048576
passed=0 failed=0 ids=""

say() { echo "# $*"; }
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { # DESCRIPTION COMMAND...: ok when COMMAND succeeds
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
rt() { "$G" --root "$ROOT" "$@"; }

cleanup() {
  for id in $ids; do rt delete --force "$id" >/dev/null 2>&1; done
  for d in $(own_dirs); do [ -n "$d" ] && rmdir "$d/$PARENT" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the cgroup side

# This shell's own cgroup directory in every mounted hierarchy.
own_dirs() {
  local c
  for c in $(awk -F: '{ split($2, cs, ","); print ($2 == "" ? "-" : cs[1]) }' /proc/$$/cgroup); do
    [ "$c" = - ] && c=""
    cg_dir "$c" $$
  done | sort -u
}

mode() {
  if grep -q ' - cgroup ' /proc/self/mountinfo; then
    if grep -q ' - cgroup2 ' /proc/self/mountinfo; then echo hybrid; else echo v1; fi
  else echo v2; fi
}
MODE=$(mode)

# cg_dir CONTROLLER PID: PID's cgroup directory for CONTROLLER ("" = the cgroup2 one).
cg_dir() {
  awk -v want="$1" -v pid="$2" '
    FNR == NR {  # mountinfo: map controllers to mountpoint and root
      for (i = 1; i <= NF; i++) if ($i == "-") sep = i
      fs = $(sep + 1); n = split($(sep + 3), opts, ",")
      if (fs == "cgroup2" && !("" in mp)) { mp[""] = $5; rt[""] = $4 }
      if (fs == "cgroup") for (j = 1; j <= n; j++) if (!(opts[j] in mp)) { mp[opts[j]] = $5; rt[opts[j]] = $4 }
      next
    }
    {  # /proc/PID/cgroup: "N:ctrl,ctrl:/path"
      split($0, f, ":"); path = substr($0, length(f[1]) + length(f[2]) + 3)
      n = split(f[2], cs, ","); if (f[2] == "") { n = 1; cs[1] = "" }
      for (j = 1; j <= n; j++) if (cs[j] == want && (want in mp)) {
        r = rt[want]; if (r != "/" && index(path, r) == 1) path = substr(path, length(r) + 1)
        print mp[want] path; exit
      }
    }' /proc/self/mountinfo "/proc/$2/cgroup"
}

# The directory holding CONTROLLER's files for container ID's init.
ctl_dir() { # ID CONTROLLER(v1 name)
  local p; p=$(init_pid "$1")
  if [ "$MODE" = v2 ]; then cg_dir "" "$p"; else cg_dir "$2" "$p"; fi
}

key() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }  # FILE KEY: the value of a "key value" line

usage_ns() { # ID: the cgroup's own CPU usage counter
  if [ "$MODE" = v2 ]; then echo $(( $(key "$(ctl_dir "$1" "")/cpu.stat" usage_usec) * 1000 ))
  else cat "$(ctl_dir "$1" cpuacct)/cpuacct.usage"; fi
}

throttled() { # ID: "nr_throttled throttled_ns"
  local f
  if [ "$MODE" = v2 ]; then f=$(ctl_dir "$1" "")/cpu.stat; echo "$(key "$f" nr_throttled) $(( $(key "$f" throttled_usec) * 1000 ))"
  else f=$(ctl_dir "$1" cpu)/cpu.stat; echo "$(key "$f" nr_throttled) $(key "$f" throttled_time)"; fi
}

oom_kills() { # DIR (the memory cgroup directory)
  if [ "$MODE" = v2 ]; then key "$1/memory.events" oom_kill; else key "$1/memory.oom_control" oom_kill; fi
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# ratio ID SECONDS: cores used over SECONDS, from the cgroup's usage counter.
ratio() {
  local u0 u1 t0 t1
  u0=$(usage_ns "$1"); t0=$(uptime_s)
  sleep "$2"
  u1=$(usage_ns "$1"); t1=$(uptime_s)
  awk -v u0="$u0" -v u1="$u1" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.3f", (u1 - u0) / ((t1 - t0) * 1e9) }'
}

within() { # VALUE WANT TOLERANCE: |VALUE - WANT| <= WANT * TOLERANCE
  awk -v v="$1" -v w="$2" -v t="$3" 'BEGIN { d = v - w; if (d < 0) d = -d; exit !(d <= w * t) }'
}

# cores ID WANT: the usage holds to WANT cores (+-15%) in one of three 2 s windows and
# never goes above; prints the ratios.
cores() {
  local seen="" r
  for _ in 1 2 3; do
    r=$(ratio "$1" 2); seen="$seen $r"
    awk -v v="$r" -v w="$2" 'BEGIN { exit !(v <= w * 1.15) }' || { echo "$seen"; return 1; }
    if within "$r" "$2" 0.15; then echo "$seen"; return 0; fi
  done
  echo "$seen"; return 1
}

# ---------------------------------------------------------------- bundles and containers

make_rootfs() {
  r=$W/rootfs
  mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/etc" "$r/root"
  chmod 1777 "$r/tmp"
  cp "$BB" "$r/bin/busybox" && cp "$TB" "$r/bin/guise-testbin" || return 1
  for a in sh sleep dd cat echo true; do ln -sf busybox "$r/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
  echo 'root:x:0:' > "$r/etc/group"
}

# config ID ARGS_JSON RESOURCES_JSON [DEVICES_JSON [CAPS_JSON]]: a bundle for ID; runc's
# `spec` default (examples/make-bundle.sh) with the given process and resources.
config() {
  local b=$W/b-$1 caps
  mkdir -p "$b" && ln -sfn "$W/rootfs" "$b/rootfs"
  caps=${5:-'"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"'}
  cat > "$b/config.json" <<EOF
{
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "args": $2,
    "env": ["PATH=/bin", "TERM=xterm"], "cwd": "/",
    "capabilities": {"bounding": [$caps], "effective": [$caps], "permitted": [$caps]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "cgroup-tests",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {
    "cgroupsPath": "$PARENT/$1",
    "resources": $3,
    "devices": ${4:-[]},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
  }
}
EOF
  ids="$ids $1"
}

bundle() { echo "$W/b-$1"; }
init_pid() { rt state "$1" 2>/dev/null | awk -F'[:,]' '/"pid"/ { gsub(/ /, "", $2); print $2 }'; }
status_of() { rt state "$1" 2>/dev/null | awk -F'"' '/"status"/ { print $4 }'; }

wait_status() { # ID STATUS [TENTHS]
  local n=${3:-100}
  while [ "$n" -gt 0 ]; do
    [ "$(status_of "$1")" = "$2" ] && return 0
    sleep 0.1; n=$((n - 1))
  done
  return 1
}

wait_pid() { # PID TENTHS: wait for a background job to end; 1 if it did not in time
  local n=$2
  while kill -0 "$1" 2>/dev/null; do
    [ "$n" -le 0 ] && return 1
    sleep 0.1; n=$((n - 1))
  done
  return 0
}

run_d() { # ID: run -d the bundle of ID
  (cd "$(bundle "$1")" && rt run -d "$1" >"$W/$1.out" 2>"$W/$1.err" </dev/null)
}

gone() { [ ! -e "$1" ]; }
file_is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }
has_line() { grep -qxF "$2" "$1" 2>/dev/null; }
contains() { grep -qF "$2" "$1" 2>/dev/null; }

# ---------------------------------------------------------------- the checks

t_memory() {
  id=mem; res="{\"memory\": {\"limit\": $((32 * MiB)), \"swap\": $((32 * MiB))}}"
  config $id '["/bin/sh", "-c", "sleep 2; exec dd if=/dev/zero of=/dev/null bs=64M count=1"]' "$res"
  (cd "$(bundle $id)" && rt run --keep $id >"$W/$id.out" 2>"$W/$id.err" </dev/null; echo $? > "$W/$id.rc") &
  runner=$!
  if ! wait_status $id running; then
    not_ok "memory: the container did not start ($(cat "$W/$id.err"))"; wait $runner; return
  fi
  dir=$(ctl_dir $id memory)
  before=$(oom_kills "$dir")
  rt events --interval 500ms $id > "$W/$id.events" 2>&1 &
  events=$!
  rt events --stats $id > "$W/$id.stats" 2>&1
  check "memory: events --stats reports the 32 MiB limit" contains "$W/$id.stats" "\"usage\":{\"limit\":$((32 * MiB))"
  wait_pid $runner 300
  check "memory: a process allocating past the limit is killed, exit 137 (got $(cat "$W/$id.rc" 2>/dev/null))" \
    file_is "$W/$id.rc" 137
  after=$(oom_kills "$dir")
  check "memory: oom_kill rose ($before -> $after)" [ "${after:-0}" -gt "${before:-0}" ]
  check "memory: events ends by itself when the container stops" wait_pid $events 100
  check "memory: events reports the oom" has_line "$W/$id.events" "{\"type\":\"oom\",\"id\":\"$id\"}"
  rt delete $id
}

t_cpu() {
  id=cpu
  config $id '["/bin/guise-testbin", "spin", "120"]' '{"cpu": {"quota": 50000, "period": 100000, "shares": 262144}}'
  run_d $id || { not_ok "cpu: run"; return; }
  sleep 0.5
  set -- $(throttled $id); n0=$1 t0=$2
  seen=$(cores $id 0.5); good=$?
  set -- $(throttled $id); n1=$1 t1=$2
  check "cpu: quota 50000/100000 holds a busy loop to 0.5 core (measured:$seen)" [ $good = 0 ]
  check "cpu: nr_throttled rose ($n0 -> $n1)" [ "$n1" -gt "$n0" ]
  check "cpu: throttled time rose (${t0}ns -> ${t1}ns)" [ "$t1" -gt "$t0" ]
  rt delete --force $id
}

t_pids() {
  id=pids
  config $id '["/bin/guise-testbin", "fork-many", "20"]' '{"pids": {"limit": 10}}'
  (cd "$(bundle $id)" && rt run $id >"$W/$id.out" 2>"$W/$id.err" </dev/null)
  forked=$(key "$W/$id.out" forked)
  check "pids: fork beyond the limit of 10 fails with EAGAIN (forked $forked)" has_line "$W/$id.out" "errno EAGAIN"
  check "pids: fewer than 10 forks succeeded" [ "${forked:-99}" -lt 10 ]
}

t_io() {
  dev=""
  for b in /sys/block/vd* /sys/block/sd* /sys/block/nvme* /sys/block/loop*; do
    [ -e "$b/dev" ] && { dev=$(cat "$b/dev"); break; }
  done
  if [ -z "$dev" ]; then not_ok "io: no block device in /sys/block"; return; fi
  major=${dev%:*} minor=${dev#*:}
  id=io
  rate() { echo "[{\"major\": $major, \"minor\": $minor, \"rate\": $1}]"; }
  config $id '["/bin/guise-testbin", "sleep", "60"]' "{\"blockIO\": {\"throttleReadBpsDevice\": $(rate 1048576),
    \"throttleWriteBpsDevice\": $(rate 2097152), \"throttleReadIOPSDevice\": $(rate 300),
    \"throttleWriteIOPSDevice\": $(rate 100)}}"
  run_d $id || { not_ok "io: run ($(cat "$W/$id.err"))"; return; }
  if [ "$MODE" = v2 ]; then
    f=$(ctl_dir $id "")/io.max
    check "io: io.max holds \"$dev rbps=1048576 wbps=2097152 riops=300 wiops=100\"" \
      has_line "$f" "$dev rbps=1048576 wbps=2097152 riops=300 wiops=100"
  else
    d=$(ctl_dir $id blkio)
    check "io: blkio.throttle.read_bps_device is $dev 1048576" has_line "$d/blkio.throttle.read_bps_device" "$dev 1048576"
    check "io: blkio.throttle.write_bps_device is $dev 2097152" has_line "$d/blkio.throttle.write_bps_device" "$dev 2097152"
    check "io: blkio.throttle.read_iops_device is $dev 300" has_line "$d/blkio.throttle.read_iops_device" "$dev 300"
    check "io: blkio.throttle.write_iops_device is $dev 100" has_line "$d/blkio.throttle.write_iops_device" "$dev 100"
  fi
  rt delete --force $id
}

KMSG='[{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 438, "uid": 0, "gid": 0}]'
ROOTCAPS='"CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE", "CAP_MKNOD", "CAP_SYSLOG", "CAP_SYS_RAWIO", "CAP_KILL"'
DENY_ALL='{"allow": false, "access": "rwm"}'
KMSG_W='{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}'

opens() { # ID PATH FLAGS: exec testbin open in the container; prints "ok" or "errno E"
  rt exec "$1" /bin/guise-testbin open "$2" "$3" 2>/dev/null | tail -1
}

t_devices() {
  id=dev
  config $id '["/bin/guise-testbin", "sleep", "60"]' "{\"devices\": [$DENY_ALL]}" "$KMSG" "$ROOTCAPS"
  run_d $id || { not_ok "devices: run ($(cat "$W/$id.err"))"; return; }
  check "devices: a denied device (/dev/kmsg, c 1:11) cannot be opened for writing by root" \
    [ "$(opens $id /dev/kmsg w)" = "errno EPERM" ]
  check "devices: nor for reading" [ "$(opens $id /dev/kmsg r)" = "errno EPERM" ]
  check "devices: an allowed one (/dev/null) opens" [ "$(opens $id /dev/null w)" = ok ]
  # update swaps the program: had the old one stayed attached, the new allow could not open it
  echo "{\"devices\": [$DENY_ALL, $KMSG_W]}" > "$W/dev-allow.json"
  check "devices: update -r allows c 1:11 w" rt update -r "$W/dev-allow.json" $id
  check "devices: /dev/kmsg now opens for writing" [ "$(opens $id /dev/kmsg w)" = ok ]
  check "devices: but not for reading" [ "$(opens $id /dev/kmsg r)" = "errno EPERM" ]
  echo "{\"devices\": [$DENY_ALL]}" > "$W/dev-deny.json"
  check "devices: update -r takes the rule back" rt update -r "$W/dev-deny.json" $id
  check "devices: /dev/kmsg is refused again" [ "$(opens $id /dev/kmsg w)" = "errno EPERM" ]
  rt delete --force $id
}

t_update() {
  id=upd
  config $id '["/bin/guise-testbin", "spin", "120"]' "{\"cpu\": {\"quota\": 20000, \"period\": 100000, \"shares\": 262144},
    \"memory\": {\"limit\": $((64 * MiB)), \"swap\": $((64 * MiB))}, \"pids\": {\"limit\": 20}}"
  run_d $id || { not_ok "update: run ($(cat "$W/$id.err"))"; return; }
  sleep 0.5
  seen=$(cores $id 0.2); good=$?
  check "update: before, quota 20000 holds the loop to 0.2 core (measured:$seen)" [ $good = 0 ]
  check "update: --cpu-quota 50000 --memory 128m --memory-swap 128m --pids-limit 30" \
    rt update --cpu-quota 50000 --memory 128m --memory-swap 128m --pids-limit 30 $id
  sleep 0.3
  seen=$(cores $id 0.5); good=$?
  check "update: after, the loop gets 0.5 core (measured:$seen)" [ $good = 0 ]
  rt events --stats $id > "$W/$id.stats"
  check "update: events --stats shows the new memory limit" contains "$W/$id.stats" "\"usage\":{\"limit\":$((128 * MiB))"
  check "update: events --stats shows the new pids limit" contains "$W/$id.stats" '"pids":{"current":1,"limit":30}'
  if [ "$MODE" = v2 ]; then
    d=$(ctl_dir $id "")
    check "update: memory.max is 128 MiB" file_is "$d/memory.max" $((128 * MiB))
    check "update: pids.max is 30" file_is "$d/pids.max" 30
    check "update: cpu.max is 50000 100000" file_is "$d/cpu.max" "50000 100000"
  fi
  # docker's JSON: 0 leaves a limit alone
  echo '{"memory": {"limit": 0, "swap": 0, "reservation": 0}, "cpu": {"shares": 0, "quota": 30000, "period": 0,
    "cpus": "", "mems": ""}, "pids": {"limit": 0}, "blockIO": {"weight": 0}}' > "$W/docker.json"
  check "update: -r - (docker's JSON on stdin)" sh -c "\"$G\" --root \"$ROOT\" update -r - $id < \"$W/docker.json\""
  rt events --stats $id > "$W/$id.stats2"
  check "update: the zeros left memory and pids as they were" \
    contains "$W/$id.stats2" "\"usage\":{\"limit\":$((128 * MiB))"
  check "update: ... pids too" contains "$W/$id.stats2" '"limit":30}'
  [ "$MODE" = v2 ] && check "update: cpu.max is 30000 100000" file_is "$(ctl_dir $id "")/cpu.max" "30000 100000"
  check "update: the record in the state dir has the new limits" contains "$ROOT/$id/resources.json" '"quota":30000'
  rt delete --force $id
}

t_pause() {
  id=pause
  config $id '["/bin/guise-testbin", "spin", "120"]' '{}'
  run_d $id || { not_ok "pause: run"; return; }
  sleep 0.3
  check "pause: pause" rt pause $id
  check "pause: state says paused" [ "$(status_of $id)" = paused ]
  u0=$(usage_ns $id); sleep 1.5; u1=$(usage_ns $id)
  check "pause: the busy loop's usage stands still ($u0 -> $u1)" [ $((u1 - u0)) -lt 1000000 ]
  check "pause: resume" rt resume $id
  check "pause: state says running" [ "$(status_of $id)" = running ]
  r=$(ratio $id 1)
  check "pause: the loop goes on ($r cores)" awk -v r="$r" 'BEGIN { exit !(r > 0.3) }'
  rt delete --force $id
}

t_delete() {
  id=del
  config $id '["/bin/guise-testbin", "sleep", "60"]' "{\"memory\": {\"limit\": $((64 * MiB))}, \"pids\": {\"limit\": 20}}"
  run_d $id || { not_ok "delete: run"; return; }
  pid=$(init_pid $id)
  dirs=$(for c in "" memory pids cpu cpuacct freezer devices blkio; do cg_dir "$c" "$pid"; done | sort -u | grep "/$id\$")
  rt exec -d $id /bin/guise-testbin sleep 60
  check "delete: the container has its cgroup ($(echo $dirs))" [ -n "$dirs" ]
  check "delete: delete --force" rt delete --force $id
  left=""
  for d in $dirs; do [ -e "$d" ] && left="$left $d"; done
  check "delete: the cgroup is gone in every hierarchy" [ -z "$left" ]
}

# have CONTROLLER: the host offers it (v2: in the root's cgroup.controllers; v1: mounted)
have() {
  if [ "$MODE" = v2 ]; then grep -qw "$1" /sys/fs/cgroup/cgroup.controllers
  else [ -n "$(cg_dir "$1" $$)" ]; fi
}

# own_has CONTROLLER FILE: the containers' parent cgroup (else this shell's own, as a
# root cgroup lacks the weight files) has FILE (v1: in CONTROLLER's hierarchy)
own_has() {
  local d
  if [ "$MODE" = v2 ]; then d=$(cg_dir "" $$); else d=$(cg_dir "$1" $$); fi
  [ -d "$d/$PARENT" ] && d=$d/$PARENT
  [ -e "$d/$2" ]
}

# file_at ID CONTROLLER FILE WANT: FILE in ID's cgroup (v1: CONTROLLER's hierarchy) reads WANT
file_at() {
  local f
  f=$(ctl_dir "$1" "$2")/$3
  if [ ! -e "$f" ]; then echo "# ($f absent: not checked)"; return 0; fi
  check "fields: $3 = $4" file_is "$f" "$4"
}

# blkio/io weights need a scheduler that has them (CFQ, BFQ, or v2's io.weight)
has_weight() {
  if [ "$MODE" = v2 ]; then own_has io io.weight || own_has io io.bfq.weight
  else own_has blkio blkio.weight || own_has blkio blkio.bfq.weight; fi
}
weight_json() { has_weight && echo ', "blockIO": {"weight": 500}'; }

t_fields() {
  id=fields
  config $id '["/bin/guise-testbin", "sleep", "60"]' "{
    \"memory\": {\"limit\": $((64 * MiB)), \"reservation\": $((32 * MiB)), \"swap\": $((96 * MiB))},
    \"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000, \"burst\": 10000, \"cpus\": \"0\", \"mems\": \"0\", \"idle\": 0},
    \"pids\": {\"limit\": 33}$(weight_json)$(
      have hugetlb && echo ", \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": $((4 * MiB))}]")$(
      [ "$MODE" = v2 ] && echo ", \"unified\": {\"memory.high\": \"$((100 * MiB))\"}")}"
  run_d $id || { not_ok "fields: run ($(cat "$W/$id.err"))"; return; }
  if [ "$MODE" = v2 ]; then
    file_at $id "" memory.max $((64 * MiB))
    file_at $id "" memory.low $((32 * MiB))
    file_at $id "" memory.swap.max $((32 * MiB))
    file_at $id "" memory.high $((100 * MiB))
    file_at $id "" cpu.weight 20
    file_at $id "" cpu.max "50000 100000"
    file_at $id "" cpu.max.burst 10000
    file_at $id "" cpu.idle 0
    file_at $id "" cpuset.cpus 0
    file_at $id "" cpuset.mems 0
    file_at $id "" pids.max 33
    have hugetlb && file_at $id "" hugetlb.2MB.max $((4 * MiB))
    f=$(ctl_dir $id "")/io.bfq.weight; [ -e "$f" ] || f=$(ctl_dir $id "")/io.weight
    has_weight && check "fields: $(basename "$f") default is 4950 (blkio 500, or 500 on bfq)" \
      sh -c "head -1 '$f' | grep -qxE 'default (4950|500)'"
  else
    file_at $id memory memory.limit_in_bytes $((64 * MiB))
    file_at $id memory memory.soft_limit_in_bytes $((32 * MiB))
    file_at $id memory memory.memsw.limit_in_bytes $((96 * MiB))
    file_at $id cpu cpu.shares 512
    file_at $id cpu cpu.cfs_quota_us 50000
    file_at $id cpu cpu.cfs_period_us 100000
    file_at $id cpu cpu.cfs_burst_us 10000
    file_at $id cpuset cpuset.cpus 0
    file_at $id cpuset cpuset.mems 0
    file_at $id pids pids.max 33
    have hugetlb && file_at $id hugetlb hugetlb.2MB.limit_in_bytes $((4 * MiB))
    f=$(ctl_dir $id blkio)/blkio.bfq.weight; [ -e "$f" ] || f=$(ctl_dir $id blkio)/blkio.weight
    has_weight && check "fields: $(basename "$f") = 500" sh -c "head -1 '$f' | grep -qxE '(default )?500'"
  fi
  rt delete --force $id
}

t_v1_fields() {
  [ "$MODE" = v2 ] && return
  id=v1fields
  config $id '["/bin/guise-testbin", "sleep", "60"]' "{
    \"memory\": {\"limit\": $((64 * MiB)), \"swappiness\": 30, \"disableOOMKiller\": true, \"kernelTCP\": $((16 * MiB))},
    \"cpu\": {\"shares\": 1024$(own_has cpu cpu.rt_period_us && echo ', "realtimePeriod": 500000')}$(have net_cls && echo ", \"network\": {\"classID\": 1048577}")}"
  run_d $id || { not_ok "fields: run ($(cat "$W/$id.err"))"; return; }
  file_at $id memory memory.swappiness 30
  check "fields: memory.oom_control oom_kill_disable 1" [ "$(key "$(ctl_dir $id memory)/memory.oom_control" oom_kill_disable)" = 1 ]
  file_at $id memory memory.kmem.tcp.limit_in_bytes $((16 * MiB))
  own_has cpu cpu.rt_period_us && file_at $id cpu cpu.rt_period_us 500000
  have net_cls && file_at $id net_cls net_cls.classid 1048577
  rt delete --force $id
}

# refused ID RESOURCES FIELD: a value the host cannot honour fails `run`, naming the field
refused() {
  config "$1" '["/bin/guise-testbin", "sleep", "60"]' "$2"
  if run_d "$1"; then
    echo "# $3: honoured by this host, not checked"; rt delete --force "$1"; return
  fi
  check "refused: $3 ($(cat "$W/$1.err"))" contains "$W/$1.err" "$3"
}

t_refused() {
  # (the period is written first: a kernel without RT group scheduling refuses that one)
  refused rt1 '{"cpu": {"realtimeRuntime": 1000, "realtimePeriod": 500000}}' linux.resources.cpu.realtime
  has_weight || refused bw1 '{"blockIO": {"weight": 500}}' linux.resources.blockIO.weight
  refused lw1 '{"blockIO": {"leafWeight": 500}}' linux.resources.blockIO.leafWeight
  if [ "$MODE" = v2 ]; then
    refused nc1 '{"network": {"classID": 1048577}}' linux.resources.network
    refused oom1 '{"memory": {"disableOOMKiller": true}}' linux.resources.memory.disableOOMKiller
    refused un1 '{"unified": {"../memory.max": "1"}}' 'linux.resources.unified["../memory.max"]'
  else
    refused un1 '{"unified": {"memory.high": "1"}}' linux.resources.unified
    have hugetlb || refused hp1 '{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}' linux.resources.hugepageLimits
    have net_cls || refused nc1 '{"network": {"classID": 1048577}}' linux.resources.network.classID
  fi
}

# warned ID RESOURCES FIELD FILE: a kernel memory limit the kernel does not enforce
# runs, with a warning naming the field (runc 1.1 warns and runs); where FILE holds the
# value, the kernel enforces it and it is not checked
warned() {
  config "$1" '["/bin/guise-testbin", "sleep", "60"]' "$2"
  if ! run_d "$1"; then not_ok "warned: $3: run refused ($(cat "$W/$1.err"))"; return; fi
  if [ "$MODE" != v2 ] && file_is "$(ctl_dir "$1" memory)/$4" $((64 * MiB)); then
    echo "# $3: honoured by this host, not checked"
  else
    check "warned: $3 ($(cat "$W/$1.err"))" contains "$W/$1.err" "$3: kernel memory settings are ignored"
  fi
  rt delete --force "$1"
}

t_warned() {
  warned km1 "{\"memory\": {\"kernel\": $((64 * MiB))}}" linux.resources.memory.kernel memory.kmem.limit_in_bytes
}

# cgroups_path ID PATH: ID's config gets linux.cgroupsPath PATH
cgroups_path() { sed -i "s|\"cgroupsPath\": \"$PARENT/$1\"|\"cgroupsPath\": \"$2\"|" "$(bundle "$1")/config.json"; }

# freezer_of REL: "DIR FILE FROZEN THAWED" of the freezer relative cgroupsPath REL gets
freezer_of() {
  if [ "$MODE" = v2 ]; then echo "$(cg_dir "" $$)/$1 cgroup.freeze 1 0"
  else echo "$(cg_dir freezer $$)/$1 freezer.state FROZEN THAWED"; fi
}

# refused_frozen ID WHAT: `run` of ID ends (within 20 s) refused with runc's words
refused_frozen() {
  if (cd "$(bundle "$1")" && timeout 20 "$G" --root "$ROOT" run "$1" >"$W/$1.out" 2>"$W/$1.err" </dev/null); then
    not_ok "frozen: $2: run was not refused"
  else
    check "frozen: $2 is refused ($(cat "$W/$1.err"))" contains "$W/$1.err" "container's cgroup unexpectedly frozen"
  fi
}

t_frozen() {
  [ "$MODE" != v2 ] && ! have freezer && return
  set -- $(freezer_of "$PARENT/fz1"); d=$1 f=$2
  mkdir -p "$d"
  if [ ! -e "$d/$f" ]; then echo "# frozen: no $f (cgroup v2 freezes from Linux 5.2), not checked"; rmdir "$d"; return; fi
  echo "$3" > "$d/$f"
  config fz1 '["/bin/guise-testbin", "pid"]' '{}'
  refused_frozen fz1 "a pre-made frozen cgroup"
  check "frozen: the pre-made cgroup is left as it was" file_is "$d/$f" "$3"
  echo "$4" > "$d/$f"; rmdir "$d"
  set -- $(freezer_of "$PARENT/fz2-pod"); d=$1 f=$2
  mkdir -p "$d" && echo "$3" > "$d/$f"
  config fz2 '["/bin/guise-testbin", "pid"]' '{}'
  cgroups_path fz2 "$PARENT/fz2-pod/fz2"
  refused_frozen fz2 "a cgroup below a frozen one"
  check "frozen: nothing is made below the frozen cgroup" gone "$d/fz2"
  echo "$4" > "$d/$f"
  for m in $(own_dirs); do rmdir "$m/$PARENT/fz2-pod/fz2" "$m/$PARENT/fz2-pod" 2>/dev/null; done
}

# A pre-made v1 cpuset parent with empty cpus and mems (a pod's can be): the container
# still joins, the parents filled from the nearest ancestor that has them (as runc).
t_cpuset_parent() {
  [ "$MODE" = v2 ] && return
  have cpuset || return
  p=$(cg_dir cpuset $$)/$PARENT
  mkdir -p "$p/cs-pod/slice"
  for d in "$p/cs-pod" "$p/cs-pod/slice"; do echo > "$d/cpuset.cpus"; echo > "$d/cpuset.mems"; done
  config cs1 '["/bin/guise-testbin", "sleep", "60"]' '{}'
  cgroups_path cs1 "$PARENT/cs-pod/slice/cs1"
  if run_d cs1; then
    check "cpuset: an empty pre-made parent gets cpus and mems from above ($(cat "$p/cs-pod/cpuset.cpus"))" \
      sh -c '[ -n "$(cat "$1")" ] && [ -n "$(cat "$2")" ]' sh "$p/cs-pod/cpuset.cpus" "$p/cs-pod/slice/cpuset.mems"
  else
    not_ok "cpuset: run below an empty pre-made parent ($(cat "$W/cs1.err"))"
  fi
  rt delete --force cs1
  for m in $(own_dirs); do rmdir "$m/$PARENT/cs-pod/slice" "$m/$PARENT/cs-pod" 2>/dev/null; done
}

t_leftovers() {
  left=""
  for m in $(own_dirs); do
    for id in $ids; do [ -e "$m/$PARENT/$id" ] && left="$left $m/$PARENT/$id"; done
  done
  check "no container cgroup is left behind (looked in $(own_dirs | wc -l) hierarchies)" [ -z "$left" ]
}

# ---------------------------------------------------------------- main

say "cgroup $MODE on $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpu"
[ "$MODE" = v2 ] && say "controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
for f in "$G" "$TB" "$BB"; do [ -x "$f" ] || { echo "cgroup-tests: $f is not executable" >&2; exit 2; }; done
mkdir -p "$ROOT"
make_rootfs || { echo "cgroup-tests: cannot build the rootfs" >&2; exit 2; }

for t in t_memory t_cpu t_pids t_io t_devices t_update t_pause t_delete t_fields t_v1_fields t_refused t_warned \
  t_frozen t_cpuset_parent; do
  $t
done
for id in $ids; do rt delete --force "$id" >/dev/null 2>&1; done
if [ -x "$here/cgroup-smoke" ]; then  # the driver's own smoke test, when shipped alongside
  if "$here/cgroup-smoke" > "$W/smoke.out" 2>&1; then ok "cgroup-smoke: the driver smoke test passes"
  else sed 's/^/# /' "$W/smoke.out"; not_ok "cgroup-smoke: the driver smoke test passes"; fi
fi
t_leftovers
echo "cgroup-$MODE: $passed passed, $failed failed"
[ "$failed" = 0 ]
