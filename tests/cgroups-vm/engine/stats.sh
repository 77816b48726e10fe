# `guise stats` and `guise events` on cgroup v2: throttling under a CPU quota (cpu.stat
# nr_throttled / throttled_usec), the container's own pressure (cpu/memory/io.pressure),
# memory.high events, and the `throttled` and `die` events.
st() { g stats --no-stream --format "$1" "$2" 2>&1; }

# One at a time: two busy containers on the VM's one CPU would each get about half of it,
# just what the quota allows.
capped=$(g run -d --network none --name capped --cpus 0.5 bb sh -c 'while :; do :; done')
sleep 1
set -- $(st '{{.ThrottledPeriods}} {{.Periods}} {{.CPUThrottled}}' capped)
check "stats: a busy loop under --cpus 0.5 is throttled ($*)" [ "${1:-0}" -gt 0 ] 2>/dev/null

p=$(st '{{.CPUPressure}}|{{.MemPressure}}|{{.IOPressure}}' capped)
if [ "$MODE" = v2 ] && [ -r "$(cg_file "$capped" cpu.pressure)" ] && cat "$(cg_file "$capped" cpu.pressure)" >/dev/null 2>&1; then
  case $p in
    --\|*|*\|--\|*|*\|--) not_ok "stats: PSI for cpu, memory and io (got: $p)" ;;
    *%*) ok "stats: PSI for cpu, memory and io ($p)" ;;
    *) not_ok "stats: PSI for cpu, memory and io (got: $p)" ;;
  esac
  j=$(st '{{json .Pressure}}' capped)
  case $j in *'"cpu":{'*) ok "stats: Pressure as numbers ($j)" ;; *) not_ok "stats: Pressure as numbers (got: $j)" ;; esac
else
  skip "stats: PSI for cpu, memory and io" "no readable cpu.pressure in the container's cgroup (kernel without PSI)"
fi

free=$(g run -d --network none --name free bb sh -c 'while :; do :; done')
ev=$(g events --until "$(($(date +%s) + 4))" --filter event=throttled --format '{{.Actor.Attributes.name}}' 2>&1)
check "events: throttled for the capped container only (got: $(echo $ev))" [ "$(echo $ev)" = capped ]
g rm -f capped >/dev/null 2>&1
set -- $(st '{{.ThrottledPeriods}} {{.Periods}} {{.CPUThrottled}}' free)
check "stats: no throttling without a quota ($*)" [ "$*" = "0 0 --" ]
g rm -f free >/dev/null 2>&1

if [ "$MODE" = v2 ]; then
  c=$(g run -d --network none --name high bb sleep 60)
  hf=$(cg_file "$c" memory.high)
  if echo 4194304 > "$hf" 2>/dev/null; then
    g exec high sh -c "x=\$(head -c 6000000 /dev/zero | tr '\\0' a); echo \${#x}" >/dev/null 2>&1 &
    ex=$!
    sleep 3
    h=$(st '{{.MemHighEvents}}' high)
    kill "$ex" 2>/dev/null; wait "$ex" 2>/dev/null
    check "stats: memory.high events counted past memory.high (got: $h)" [ "${h:-0}" -gt 0 ] 2>/dev/null
  else
    skip "stats: memory.high events" "memory.high not writable"
  fi
  g rm -f high >/dev/null 2>&1
fi

t0=$(date +%s)
g run -d --network none --name dies bb sh -c 'exit 7' >/dev/null
g wait dies >/dev/null
d=$(g events --since "$t0" --until "$(($(date +%s) + 1))" --filter event=die --filter container=dies 2>&1)
case $d in
  *" container die "*"exitCode=7, image=bb"*"name=dies)"*) ok "events: die with exitCode ($d)" ;;
  *) not_ok "events: die with exitCode (got: $d)" ;;
esac
