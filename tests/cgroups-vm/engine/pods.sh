# Pods on this cgroup version: an infra (guise-init -P) whose IPC, UTS and PID namespaces
# two members join (--network none: the VM has no bridge), seen from inside the members;
# stop and start rejoin the new infra; pod rm -f leaves no container and no cgroup.
# Sourced by engine-tests.sh.
pod_ns() { g exec "$1" readlink "/proc/self/ns/$2"; }
if ! pod=$(g pod create --name vmpod --network none --share +pid 2>&1); then
  not_ok "pods: pod create (got: $pod)"
else
  m1=$(g run -d --pod vmpod --name pm1 bb sleep 1001)
  m2=$(g run -d --pod vmpod --name pm2 bb sleep 1002)
  check "pods: both members run" [ "$(g inspect -f '{{.State.Running}}' pm1)$(g inspect -f '{{.State.Running}}' pm2)" = truetrue ]
  check "pods: one hostname, the pod's (got: $(g exec pm2 hostname))" [ "$(g exec pm1 hostname)$(g exec pm2 hostname)" = vmpodvmpod ]
  for ns in ipc uts pid net; do
    check "pods: the members share their $ns namespace" [ "$(pod_ns pm1 $ns)" = "$(pod_ns pm2 $ns)" ]
  done
  check "pods: a member sees the other's process" sh -c "'$GUISE' --root '$STORE' exec pm2 ps -o args | grep -q 'sleep 1001'"
  check "pods: PID 1 is the infra's guise-init -P" sh -c "'$GUISE' --root '$STORE' exec pm1 cat /proc/1/cmdline | tr '\\0' ' ' | grep -q 'guise-init -P'"
  g exec pm1 sh -c 'echo shared > /dev/shm/seg'
  check "pods: /dev/shm is the pod's" [ "$(g exec pm2 cat /dev/shm/seg)" = shared ]
  g pod stop -t 1 vmpod >/dev/null
  check "pods: pod stop stops every container (got: $(g pod ps --format '{{.Status}}'))" [ "$(g pod ps --format '{{.Status}}')" = Exited ]
  g pod start vmpod >/dev/null
  check "pods: pod start runs them again, in one PID namespace" [ "$(pod_ns pm1 pid)" = "$(pod_ns pm2 pid)" ]
  ids=$(g ps -aq --no-trunc)
  g pod rm -f vmpod >/dev/null
  check "pods: pod rm -f removes every container" [ -z "$(g ps -aq)" ]
  left=""
  for id in $ids; do
    found=$(find /sys/fs/cgroup -type d -name "*$id*" 2>/dev/null | head -1)
    [ -n "$found" ] && left="$left $found"
  done
  check "pods: no cgroup left (got:$left)" [ -z "$left" ]
fi
