// v1 usage counters: cpuacct and cpu (usage, throttling), memory, pids.
#include <unistd.h>

#include <cstdlib>

#include "cgroups/fs.h"
#include "cgroups/v1.h"

namespace guise::cgroups::v1 {

namespace {

std::vector<uint64_t> parse_list(const std::string& text) {
  std::vector<uint64_t> out;
  const char* p = text.c_str();
  for (;;) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(p, &end, 10);
    if (end == p) return out;
    out.push_back(v);
    p = end;
  }
}

Result<CpuStats> cpu_stats(const std::string* cpuacct, const std::string* cpu) {
  CpuStats s;
  if (cpuacct) {
    s.usage_total_ns = GUISE_TRY(fs::read_u64(*cpuacct, "cpuacct.usage"));
    s.usage_per_cpu_ns = parse_list(GUISE_TRY(fs::read(*cpuacct, "cpuacct.usage_percpu")));
    if (fs::exists(*cpuacct, "cpuacct.usage_user")) {  // nanoseconds, Linux 4.7+
      s.usage_user_ns = GUISE_TRY(fs::read_u64(*cpuacct, "cpuacct.usage_user"));
      s.usage_kernel_ns = GUISE_TRY(fs::read_u64(*cpuacct, "cpuacct.usage_sys"));
    } else {  // cpuacct.stat counts USER_HZ ticks
      auto ticks = GUISE_TRY(fs::read_flat_keyed(*cpuacct, "cpuacct.stat"));
      uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
      s.usage_user_ns = ticks["user"] * ns_per_tick;
      s.usage_kernel_ns = ticks["system"] * ns_per_tick;
    }
  }
  if (cpu && fs::exists(*cpu, "cpu.stat")) {
    auto stat = GUISE_TRY(fs::read_flat_keyed(*cpu, "cpu.stat"));
    s.periods = stat["nr_periods"];
    s.throttled_periods = stat["nr_throttled"];
    s.throttled_time_ns = stat["throttled_time"];
  }
  return s;
}

Result<MemoryStats> memory_stats(const std::string& dir) {
  MemoryStats s;
  s.usage = GUISE_TRY(fs::read_u64(dir, "memory.usage_in_bytes"));
  s.max_usage = GUISE_TRY(fs::read_u64(dir, "memory.max_usage_in_bytes"));
  s.limit = GUISE_TRY(fs::read_u64(dir, "memory.limit_in_bytes"));
  s.failcnt = GUISE_TRY(fs::read_u64(dir, "memory.failcnt"));
  if (fs::exists(dir, "memory.memsw.usage_in_bytes")) {
    uint64_t memsw = GUISE_TRY(fs::read_u64(dir, "memory.memsw.usage_in_bytes"));
    s.swap_usage = memsw > s.usage ? memsw - s.usage : 0;
  }
  auto oom = GUISE_TRY(fs::read_flat_keyed(dir, "memory.oom_control"));
  s.oom_events = oom["under_oom"];
  s.oom_kill = oom["oom_kill"];
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

Result<Stats> read_stats(const Dirs& dirs) {
  Stats stats;
  const std::string* cpuacct = dirs.find("cpuacct");
  const std::string* cpu = dirs.find("cpu");
  if (cpuacct || cpu) stats.cpu = GUISE_TRY(cpu_stats(cpuacct, cpu), "reading cpu stats");
  if (auto* dir = dirs.find("memory")) stats.memory = GUISE_TRY(memory_stats(*dir), "reading memory stats");
  if (auto* dir = dirs.find("pids")) stats.pids = GUISE_TRY(pids_stats(*dir), "reading pids stats");
  return stats;
}

}  // namespace guise::cgroups::v1
