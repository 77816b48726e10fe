#include "engine/monitor_exit_facts.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>

#include "sys/syscalls.h"

namespace guise::engine {

namespace {

// v1 reports "no limit" as its page counter's maximum (about 2^63); v2 as "max".
int64_t limit_of(uint64_t v) { return v == 0 || v >= (uint64_t(1) << 62) ? 0 : int64_t(v); }

void memory_facts(const cgroups::Stats& st, const RunEvidence& ev, ExitFacts& f) {
  if (!st.memory) return;
  const auto& m = *st.memory;
  f.memory_limit = limit_of(m.limit);
  if (m.max_usage > 0) {
    f.memory_peak = int64_t(m.max_usage);
    f.memory_peak_source = f.cgroup == "v2" ? "memory.peak" : "max_usage_in_bytes";
  } else {  // a v2 kernel before 5.19: no peak kept, only what was seen
    f.memory_peak = std::max<int64_t>({ev.sampled_peak, int64_t(m.usage), ev.usage_at_oom});
    f.memory_peak_source = "sampled";
  }
  f.memory_cache = int64_t(m.cache);
}

// Whom the OOM killer chose in this cgroup, and the syscall a seccomp kill was for.
void kernel_facts(const RunEvidence& ev, ExitFacts& f) {
  if (!ev.kmsg || !ev.kmsg->valid()) return;
  if (ev.oom_events == 0 && f.signal != SIGSYS) return;
  std::string memdir;
  if (ev.cgroup) {
    auto paths = ev.cgroup->paths();
    memdir = paths.count("memory") ? paths["memory"] : paths.count("unified") ? paths["unified"] : "";
  }
  for (const auto& msg : ev.kmsg->read_new()) {
    if (auto k = parse_oom_kill(msg); k && !memdir.empty() && memcg_within(memdir, k->task_memcg)) {
      f.oom_victims.push_back({k->pid, k->task});
      if (k->pid == ev.pid1) f.main_oom_killed = true;
    } else if (auto s = parse_seccomp_audit(msg); s && f.signal == SIGSYS) {
      // Without --init the program is PID 1, whose host pid is known; with it, the program
      // is a child whose host pid the monitor never learns: the record of a SIGSYS kill.
      if (s->pid == ev.pid1 || (ev.init && s->signal == SIGSYS)) f.seccomp_syscall = s->syscall;
    }
  }
}

}  // namespace

std::vector<StopRequest> parse_stop_requests(std::string_view text) {
  std::vector<StopRequest> out;
  while (!text.empty() && out.size() < 32) {
    size_t nl = text.find('\n');
    std::string line(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t sp = line.find(' ');
    if (sp == std::string::npos) continue;
    int sig = std::atoi(line.c_str());
    if (sig <= 0 || sig >= 65) continue;
    out.push_back({sig, line.substr(sp + 1)});
  }
  return out;
}

void sample_memory(const cgroups::Cgroup& cgroup, int64_t& usage, int64_t& cache) {
  auto st = cgroup.stats();
  if (!st.ok() || !st->memory) return;
  usage = int64_t(st->memory->usage);
  cache = int64_t(st->memory->cache);
}

ExitFacts collect_exit_facts(const RunEvidence& ev, const std::string& container_dir) {
  ExitFacts f;
  f.init = ev.init;
  f.exit_code = ev.exit_code;
  f.ran_ms = ev.ran_ms;
  f.oom_kills = ev.oom_events;
  f.usage_at_oom = ev.usage_at_oom;
  f.cache_at_oom = ev.cache_at_oom;
  f.child_deaths = ev.child_deaths;
  f.signal = ev.exit_signal;
  // With --init, PID 1 exits as its child did: 128+N for a child killed by N.
  if (ev.init && f.signal == 0 && ev.exit_code > 128 && ev.exit_code < 128 + 65)
    for (const auto& d : ev.child_deaths)
      if (d.signal == ev.exit_code - 128) f.signal = d.signal;
  if (auto text = sys::read_file(container_dir + "/stopping"); text.ok())
    f.stop_requests = parse_stop_requests(*text);
  if (ev.monitor_killed) f.stop_requests.push_back({SIGKILL, "monitor"});
  for (const auto& r : f.stop_requests) f.stop_timeout_elapsed = f.stop_timeout_elapsed || r.by == "stop-timeout";
  if (ev.cgroup) {
    f.cgroup = ev.cgroup->is_v2() ? "v2" : "v1";
    if (auto st = ev.cgroup->stats(); st.ok()) {
      memory_facts(*st, ev, f);
      if (st->pids) {
        f.pids_limit = int64_t(st->pids->limit);
        f.pids_limit_hits = int64_t(st->pids->limit_hits);
      }
    }
  }
  bool stop_kill = false;
  for (const auto& r : f.stop_requests) stop_kill = stop_kill || r.signal == SIGKILL;
  kernel_facts(ev, f);
  // Without the kernel's word on the victim (or with --init, whose child's host pid is not
  // known): a SIGKILL nobody asked guise for, in a run with an OOM kill, is the OOM killer's.
  if ((f.oom_victims.empty() || ev.init) && ev.oom_events > 0 && f.signal == SIGKILL && !stop_kill)
    f.main_oom_killed = true;
  return f;
}

}  // namespace guise::engine
