# The cgroup-true /proc view (README "The /proc view") on this kernel's cgroups: the
# container's limits in /proc/meminfo, cpuinfo, stat, cpu/online and sysinfo (busybox
# free), the host's with --proc-view=host, and the real files back when the server dies.
if [ ! -c /dev/fuse ] || ! grep -q '	fuse$' /proc/filesystems; then
  skip "the /proc view" "no /dev/fuse or fuse filesystem (VM_MODULES needs fuse)"
else
  pv_probe='echo mem=$(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo)'
  pv_probe="$pv_probe"' free=$(free | awk "/^Mem:/ {print \$2}")'
  pv_probe="$pv_probe"' cpus=$(grep -c ^processor /proc/cpuinfo) online=$(cat /sys/devices/system/cpu/online)'
  pv_probe="$pv_probe"' stat=$(grep -c "^cpu[0-9]" /proc/stat) up=$(cut -d. -f1 /proc/uptime)'
  out=$(g run --rm --network none --memory 256m --cpus 0.5 bb sh -c "$pv_probe" 2>&1)
  say "view: $out"
  check "/proc/meminfo MemTotal is the 256m limit (got: $out)" sh -c "echo '$out' | grep -q 'mem=262144 '"
  check "sysinfo (busybox free) is the 256m limit (got: $out)" sh -c "echo '$out' | grep -q 'free=262144 '"
  check "--cpus 0.5: one processor, online 0, one cpuN line (got: $out)" \
    sh -c "echo '$out' | grep -q 'cpus=1 online=0 stat=1 '"
  up=$(echo "$out" | sed -n 's/.*up=\([0-9]*\).*/\1/p')
  check "/proc/uptime counts from the container's start (got: ${up}s)" [ "${up:-999}" -lt 30 ]
  host_mem=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
  out=$(g run --rm --network none --memory 256m --proc-view=host bb sh -c "$pv_probe" 2>&1)
  check "--proc-view=host shows the host's MemTotal $host_mem (got: $out)" \
    sh -c "echo '$out' | grep -q 'mem=$host_mem '"

  cid=$(g run -d --network none --memory 256m bb sleep 600)
  pid=$(g inspect -f '{{.State.Pid}}' "$cid")
  n=$(grep -c ' - fuse guise-procview ' "/proc/$pid/mountinfo")
  check "the view's 7 files are bound in the container (got: $n)" [ "$n" = 7 ]
  server=""
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$(dirname "$GUISE")/guise-procview" ] || continue
    pp=$(awk '{print $4}' "$p/stat")
    [ "$(readlink "/proc/$pp/exe" 2>/dev/null)" = "$(dirname "$GUISE")/guise-procview" ] && server=${p#/proc/}
  done
  if [ -z "$server" ]; then
    not_ok "find the view's server process"
  else
    kill -9 "$server"
    i=0
    while [ $i -lt 50 ] && grep -q ' - fuse guise-procview ' "/proc/$pid/mountinfo"; do sleep 0.1; i=$((i + 1)); done
    check "a killed server's binds are detached" sh -c "! grep -q ' - fuse guise-procview ' /proc/$pid/mountinfo"
    out=$(g exec "$cid" sh -c 'sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo; free >/dev/null && echo free-ok' 2>&1)
    check "after it, /proc/meminfo is the host's and free works (got: $out)" \
      sh -c "echo '$out' | grep -q '^$host_mem\$' && echo '$out' | grep -q free-ok"
  fi
  g rm -f "$cid" >/dev/null 2>&1
  i=0
  while [ $i -lt 50 ] && ls -l /proc/[0-9]*/exe 2>/dev/null | grep -q guise-procview; do sleep 0.1; i=$((i + 1)); done
  check "no guise-procview process outlives its containers" sh -c "! ls -l /proc/[0-9]*/exe 2>/dev/null | grep -q guise-procview"
fi
