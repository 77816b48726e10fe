# Rootless guise on cgroup v2 with a delegated subtree: a throwaway user (uid 4000, a
# range in /etc/subuid and /etc/subgid) owns /sys/fs/cgroup/rl with memory, pids and cpu
# enabled for its children, and starts guise from rl/shell below it, as systemd's
# Delegate=yes gives a user. Its containers' limits land in rl/guise/ID, and no warning
# is printed. The VM is thrown away after: the user, its files and cgroups go with it.
rl_setpriv=/usr/bin/setpriv
if [ "$MODE" != v2 ]; then
  skip "rootless: limits through a delegated cgroup" "cgroup $MODE (delegation is a cgroup v2 feature)"
elif [ ! -u /usr/bin/newuidmap ] || [ ! -x "$rl_setpriv" ]; then
  skip "rootless: limits through a delegated cgroup" "no setuid newuidmap or no setpriv staged into the VM"
else
  RL=/tmp/rl
  mkdir -p $RL/run $RL/bin
  cp "$GUISE" "$here/guise-full" "$here/guise-monitor" "$here/guise-init" "$here/guise-procview" $RL/bin/ 2>/dev/null
  grep -q '^rl:' /etc/passwd 2>/dev/null || echo 'rl:x:4000:4000::/tmp/rl:/bin/sh' >> /etc/passwd
  grep -q '^rl:' /etc/group 2>/dev/null || echo 'rl:x:4000:' >> /etc/group
  echo 'rl:200000:65536' >> /etc/subuid
  echo 'rl:200000:65536' >> /etc/subgid
  chown -R 4000:4000 $RL
  chmod 700 $RL/run
  mkdir -p /sys/fs/cgroup/rl/shell
  echo '+memory +pids +cpu' > /sys/fs/cgroup/rl/cgroup.subtree_control
  chown -R 4000:4000 /sys/fs/cgroup/rl
  # As the user, from rl/shell: ARGS to its guise.
  rl() {
    sh -c 'echo $$ > /sys/fs/cgroup/rl/shell/cgroup.procs && exec "$@"' rl \
      "$rl_setpriv" --reuid 4000 --regid 4000 --clear-groups -- \
      env HOME=$RL XDG_RUNTIME_DIR=$RL/run PATH=/usr/bin:/bin:/usr/sbin:/sbin $RL/bin/guise "$@"
  }
  if ! out=$(rl import "$here/bb.tar" bb 2>&1); then
    not_ok "rootless: import as uid 4000 ($out)"
  else
    ok "rootless: import as uid 4000 into its own store"
    out=$(rl run --rm --network none --memory 64m --pids-limit 33 bb sh -c \
      'id -u; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max' 2>$W/rl.err)
    check "rootless: --memory 64m and --pids-limit 33 land in the container's cgroup (got: $(echo $out))" \
      [ "$(echo $out)" = "0 67108864 33" ]
    check "rootless: no warning with a delegated cgroup (stderr: $(cat $W/rl.err))" [ ! -s $W/rl.err ]
    cid=$(rl run -d --network none --memory 32m bb sleep 60 2>&1)
    pid=$(rl inspect -f '{{.State.Pid}}' "$cid" 2>/dev/null)
    path=$(sed -n 's/^0:://p' /proc/$pid/cgroup 2>/dev/null)
    case $path in
      /rl/guise/*) ok "rootless: the container's cgroup is below the delegated subtree ($path)" ;;
      *) not_ok "rootless: the container's cgroup is below the delegated subtree (got: $path)" ;;
    esac
    v=$(cat /sys/fs/cgroup$path/memory.max 2>/dev/null)
    check "rootless: seen from the host, memory.max is 32m (got: $v)" [ "$v" = 33554432 ]
    rl rm -f "$cid" >/dev/null 2>&1
    check "rootless: the container's cgroup is gone after rm" [ ! -d "/sys/fs/cgroup$path" ]
  fi
  rl system migrate >/dev/null 2>&1
fi
