// v2 usage counters: cpu.stat, memory.*, pids.*, io.stat, hugetlb.* and cpuset.*; a
// controller not enabled for the cgroup leaves its group out (cpu.stat's usage lines
// are always there).
#include <set>

#include "cgroups/fs.h"
#include "cgroups/stats_parse.h"
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

Result<uint64_t> optional_u64(const std::string& dir, const char* file) {
  if (!fs::exists(dir, file)) return uint64_t{0};
  return fs::read_u64(dir, file);
}

Result<MemoryStats> memory_stats(const std::string& dir) {
  MemoryStats s;
  s.usage = GUISE_TRY(fs::read_u64(dir, "memory.current"));
  s.max_usage = GUISE_TRY(optional_u64(dir, "memory.peak"));
  s.limit = GUISE_TRY(fs::read_u64(dir, "memory.max"));
  auto events = GUISE_TRY(fs::read_flat_keyed(dir, "memory.events"));
  s.failcnt = events["max"];
  s.high_events = events["high"];
  if (fs::exists(dir, "memory.high")) s.high_limit = GUISE_TRY(fs::read_u64(dir, "memory.high"));
  s.oom_events = events["oom"];
  s.oom_kill = events["oom_kill"];
  s.swap_usage = GUISE_TRY(optional_u64(dir, "memory.swap.current"));
  // runc reports v1's memory+swap here, so v2's swap is added to memory.
  s.memory_and_swap.usage = s.usage + s.swap_usage;
  s.memory_and_swap.max_usage = GUISE_TRY(optional_u64(dir, "memory.swap.peak"));
  uint64_t swap_max = fs::exists(dir, "memory.swap.max") ? GUISE_TRY(fs::read_u64(dir, "memory.swap.max")) : 0;
  s.memory_and_swap.limit = swap_max == kUnlimited || s.limit == kUnlimited ? kUnlimited : s.limit + swap_max;
  if (fs::exists(dir, "memory.swap.events"))
    s.memory_and_swap.failcnt = GUISE_TRY(fs::read_flat_keyed(dir, "memory.swap.events"))["fail"];
  s.raw = GUISE_TRY(fs::read_flat_keyed(dir, "memory.stat"));
  s.cache = s.raw["file"];
  return s;
}

Result<PidsStats> pids_stats(const std::string& dir) {
  PidsStats s;
  s.current = GUISE_TRY(fs::read_u64(dir, "pids.current"));
  uint64_t max = GUISE_TRY(fs::read_u64(dir, "pids.max"));
  s.limit = max == kUnlimited ? 0 : max;
  if (fs::exists(dir, "pids.events")) s.limit_hits = GUISE_TRY(fs::read_flat_keyed(dir, "pids.events"))["max"];
  return s;
}

Result<std::map<std::string, HugetlbStats>> hugetlb_stats(const std::string& dir) {
  std::set<std::string> sizes;
  for (const auto& name : GUISE_TRY(fs::file_names(dir)))
    if (auto size = hugetlb_size_of(name); !size.empty()) sizes.insert(size);
  std::map<std::string, HugetlbStats> out;
  for (const auto& size : sizes) {
    std::string p = "hugetlb." + size + ".";
    HugetlbStats h;
    h.usage = GUISE_TRY(fs::read_u64(dir, p + "current"));
    if (fs::exists(dir, p + "events")) h.failcnt = GUISE_TRY(fs::read_flat_keyed(dir, p + "events"))["max"];
    out[size] = h;
  }
  return out;
}

Result<CpusetStats> cpuset_stats(const std::string& dir) {
  CpusetStats s;
  s.cpus = parse_id_list(GUISE_TRY(fs::read(dir, "cpuset.cpus.effective")));
  s.mems = parse_id_list(GUISE_TRY(fs::read(dir, "cpuset.mems.effective")));
  return s;
}

}  // namespace

Result<Stats> read_stats(const std::string& dir) {
  Stats stats;
  stats.cpu = GUISE_TRY(cpu_stats(dir), "reading cpu stats");
  if (fs::exists(dir, "memory.current")) stats.memory = GUISE_TRY(memory_stats(dir), "reading memory stats");
  if (fs::exists(dir, "pids.current")) stats.pids = GUISE_TRY(pids_stats(dir), "reading pids stats");
  if (fs::exists(dir, "io.stat")) stats.blkio = parse_io_stat(GUISE_TRY(fs::read(dir, "io.stat"), "reading io stats"));
  stats.hugetlb = GUISE_TRY(hugetlb_stats(dir), "reading hugetlb stats");  // empty without the controller
  if (fs::exists(dir, "cpuset.cpus.effective")) stats.cpuset = GUISE_TRY(cpuset_stats(dir), "reading cpuset stats");
  stats.pressure = read_pressure(dir);
  return stats;
}

}  // namespace guise::cgroups::v2
