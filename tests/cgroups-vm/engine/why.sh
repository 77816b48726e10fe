# `guise why` on this cgroup version: an OOM kill of PID 1 and of a child (with the limit
# and the peak from memory.peak or max_usage_in_bytes), and the pids limit (pids.events).
# Sourced by engine-tests.sh.
why_field() { # NAME FIELD: a top-level or facts field of `why --format json`, as sed can find it
  g why --format json "$1" | tr -d '\n' | sed -n "s/.*\"$2\": *\\(\"[^\"]*\"\\|[-0-9a-z]*\\).*/\\1/p" | head -1
}
why_wait() { # NAME: until it is no longer running (60 s at most)
  local i=0
  while [ $i -lt 300 ] && [ "$(g inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; do
    sleep 0.2; i=$((i + 1))
  done
}
tb=$here/guise-testbin
if [ ! -x "$tb" ]; then
  skip "why: OOM and pids cases" "no guise-testbin beside engine-tests.sh"
else
  g run -d --network none --name why-hog --memory 32m --memory-swap 32m -v "$tb:/t:ro" bb /t memhog 256 >/dev/null
  why_wait why-hog
  c=$(why_field why-hog cause); lim=$(why_field why-hog memory_limit); peak=$(why_field why-hog memory_peak)
  src=$(why_field why-hog memory_peak_source)
  check "why: memory hog as PID 1 is oom (got: $c)" [ "$c" = '"oom"' ]
  check "why: its limit is 32 MiB (got: $lim)" [ "$lim" = 33554432 ]
  check "why: its peak comes near the limit (got: $peak from $src)" [ "${peak:-0}" -ge 25165824 ]
  check "why: OOMKilled is true" [ "$(g inspect -f '{{.State.OOMKilled}}' why-hog)" = true ]

  g run -d --network none --name why-child --memory 32m --memory-swap 32m -v "$tb:/t:ro" bb \
    sh -c '/t memhog 256; exit 0' >/dev/null
  why_wait why-child
  c=$(why_field why-child cause)
  check "why: memory hog as a child is oom-child (got: $c)" [ "$c" = '"oom-child"' ]
  check "why: exit code 0 yet OOMKilled is true" \
    [ "$(g inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}}' why-child)" = "0 true" ]

  g run -d --network none --name why-forks --pids-limit 10 bb sh -c 'for i in $(seq 30); do sleep 3 & done; wait' \
    >/dev/null
  why_wait why-forks
  c=$(why_field why-forks cause); hits=$(why_field why-forks pids_limit_hits)
  check "why: a fork bomb under --pids-limit 10 is pids-limit (got: $c)" [ "$c" = '"pids-limit"' ]
  check "why: pids.events counted the refused forks (got: $hits)" [ "${hits:-0}" -ge 1 ]
  g why why-forks | grep -q 'pids limit 10' && ok "why: the paragraph names the limit" ||
    not_ok "why: the paragraph names the limit ($(g why why-forks))"
fi
