// v2 usage counters: cpu.stat, memory.* and pids.*; a controller not enabled for the
// cgroup leaves its group out (cpu.stat's usage lines are always there).
#include "cgroups/fs.h"
#include "cgroups/v2.h"

namespace guise::cgroups::v2 {

namespace {

Result<CpuStats> cpu_stats(const std::string& dir) {
  auto stat = GUISE_TRY(fs::read_flat_keyed(dir, "cpu.stat"));
  CpuStats s;
  s.usage_total_ns = stat["usage_usec"] * 1000;
  s.usage_user_ns = stat["user_usec"] * 1000;
  s.usage_kernel_ns = stat["system_usec"] * 1000;
  s.periods = stat["nr_periods"];
  s.throttled_periods = stat["nr_throttled"];
  s.throttled_time_ns = stat["throttled_usec"] * 1000;
  return s;
}

Result<MemoryStats> memory_stats(const std::string& dir) {
  MemoryStats s;
  s.usage = GUISE_TRY(fs::read_u64(dir, "memory.current"));
  if (fs::exists(dir, "memory.peak")) s.max_usage = GUISE_TRY(fs::read_u64(dir, "memory.peak"));
  s.limit = GUISE_TRY(fs::read_u64(dir, "memory.max"));
  auto events = GUISE_TRY(fs::read_flat_keyed(dir, "memory.events"));
  s.failcnt = events["max"];
  s.oom_events = events["oom"];
  s.oom_kill = events["oom_kill"];
  if (fs::exists(dir, "memory.swap.current")) s.swap_usage = GUISE_TRY(fs::read_u64(dir, "memory.swap.current"));
  s.raw = GUISE_TRY(fs::read_flat_keyed(dir, "memory.stat"));
  return s;
}

Result<PidsStats> pids_stats(const std::string& dir) {
  PidsStats s;
  s.current = GUISE_TRY(fs::read_u64(dir, "pids.current"));
  uint64_t max = GUISE_TRY(fs::read_u64(dir, "pids.max"));
  s.limit = max == kUnlimited ? 0 : max;
  return s;
}

}  // namespace

Result<Stats> read_stats(const std::string& dir) {
  Stats stats;
  stats.cpu = GUISE_TRY(cpu_stats(dir), "reading cpu stats");
  if (fs::exists(dir, "memory.current")) stats.memory = GUISE_TRY(memory_stats(dir), "reading memory stats");
  if (fs::exists(dir, "pids.current")) stats.pids = GUISE_TRY(pids_stats(dir), "reading pids stats");
  return stats;
}

}  // namespace guise::cgroups::v2
