// v1 usage counters: cpuacct and cpu (usage, throttling), memory (with memory+swap and
// kernel memory, as runc reports them), pids, blkio, hugetlb and cpuset.
#include <unistd.h>

#include <set>

#include "cgroups/fs.h"
#include "cgroups/stats_parse.h"
#include "cgroups/v1.h"

namespace guise::cgroups::v1 {

namespace {

Result<std::vector<uint64_t>> optional_list(const std::string& dir, const char* file) {
  if (!fs::exists(dir, file)) return std::vector<uint64_t>{};
  return parse_number_list(GUISE_TRY(fs::read(dir, file)));
}

Result<void> cpuacct_stats(const std::string& dir, CpuStats& s) {
  s.usage_total_ns = GUISE_TRY(fs::read_u64(dir, "cpuacct.usage"));
  s.usage_per_cpu_ns = GUISE_TRY(optional_list(dir, "cpuacct.usage_percpu"));
  s.usage_per_cpu_kernel_ns = GUISE_TRY(optional_list(dir, "cpuacct.usage_percpu_sys"));
  s.usage_per_cpu_user_ns = GUISE_TRY(optional_list(dir, "cpuacct.usage_percpu_user"));
  if (fs::exists(dir, "cpuacct.usage_user")) {  // nanoseconds, Linux 4.7+
    s.usage_user_ns = GUISE_TRY(fs::read_u64(dir, "cpuacct.usage_user"));
    s.usage_kernel_ns = GUISE_TRY(fs::read_u64(dir, "cpuacct.usage_sys"));
  } else {  // cpuacct.stat counts USER_HZ ticks
    auto ticks = GUISE_TRY(fs::read_flat_keyed(dir, "cpuacct.stat"));
    uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
    s.usage_user_ns = ticks["user"] * ns_per_tick;
    s.usage_kernel_ns = ticks["system"] * ns_per_tick;
  }
  return Ok();
}

Result<CpuStats> cpu_stats(const std::string* cpuacct, const std::string* cpu) {
  CpuStats s;
  if (cpuacct) GUISE_TRY(cpuacct_stats(*cpuacct, s));
  if (cpu && fs::exists(*cpu, "cpu.stat")) {
    auto stat = GUISE_TRY(fs::read_flat_keyed(*cpu, "cpu.stat"));
    s.periods = stat["nr_periods"];
    s.throttled_periods = stat["nr_throttled"];
    s.throttled_time_ns = stat["throttled_time"];
  }
  return s;
}

// memory.<prefix>usage_in_bytes and its siblings; zeros where the kernel has no such files.
Result<MemoryEntry> memory_entry(const std::string& dir, const std::string& prefix) {
  MemoryEntry e;
  if (!fs::exists(dir, prefix + "usage_in_bytes")) return e;
  e.usage = GUISE_TRY(fs::read_u64(dir, prefix + "usage_in_bytes"));
  e.max_usage = GUISE_TRY(fs::read_u64(dir, prefix + "max_usage_in_bytes"));
  e.limit = GUISE_TRY(fs::read_u64(dir, prefix + "limit_in_bytes"));
  e.failcnt = GUISE_TRY(fs::read_u64(dir, prefix + "failcnt"));
  return e;
}

Result<MemoryStats> memory_stats(const std::string& dir) {
  MemoryStats s;
  MemoryEntry mem = GUISE_TRY(memory_entry(dir, "memory."));
  s.usage = mem.usage;
  s.max_usage = mem.max_usage;
  s.limit = mem.limit;
  s.failcnt = mem.failcnt;
  s.memory_and_swap = GUISE_TRY(memory_entry(dir, "memory.memsw."));
  s.swap_usage = s.memory_and_swap.usage > s.usage ? s.memory_and_swap.usage - s.usage : 0;
  s.kernel = GUISE_TRY(memory_entry(dir, "memory.kmem."));
  s.kernel_tcp = GUISE_TRY(memory_entry(dir, "memory.kmem.tcp."));
  auto oom = GUISE_TRY(fs::read_flat_keyed(dir, "memory.oom_control"));
  s.oom_events = oom["under_oom"];
  s.oom_kill = oom["oom_kill"];
  s.raw = GUISE_TRY(fs::read_flat_keyed(dir, "memory.stat"));
  s.cache = s.raw["cache"];
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

// The throttle files count every I/O whatever the scheduler (the CFQ ones are gone).
Result<BlkioStats> blkio_stats(const std::string& dir) {
  BlkioStats s;
  s.service_bytes = parse_blkio_v1(GUISE_TRY(fs::read(dir, "blkio.throttle.io_service_bytes_recursive")));
  s.serviced = parse_blkio_v1(GUISE_TRY(fs::read(dir, "blkio.throttle.io_serviced_recursive")));
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
    h.usage = GUISE_TRY(fs::read_u64(dir, p + "usage_in_bytes"));
    h.max_usage = GUISE_TRY(fs::read_u64(dir, p + "max_usage_in_bytes"));
    h.failcnt = GUISE_TRY(fs::read_u64(dir, p + "failcnt"));
    out[size] = h;
  }
  return out;
}

Result<CpusetStats> cpuset_stats(const std::string& dir) {
  CpusetStats s;
  s.cpus = parse_id_list(GUISE_TRY(fs::read(dir, "cpuset.effective_cpus")));
  s.mems = parse_id_list(GUISE_TRY(fs::read(dir, "cpuset.effective_mems")));
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
  if (auto* dir = dirs.find("blkio")) stats.blkio = GUISE_TRY(blkio_stats(*dir), "reading blkio stats");
  if (auto* dir = dirs.find("hugetlb")) stats.hugetlb = GUISE_TRY(hugetlb_stats(*dir), "reading hugetlb stats");
  if (auto* dir = dirs.find("cpuset")) stats.cpuset = GUISE_TRY(cpuset_stats(*dir), "reading cpuset stats");
  // A hybrid host's cgroup2 directory: the kernel keeps the container's own pressure there.
  if (auto* dir = dirs.find("unified")) stats.pressure = read_pressure(*dir);
  return stats;
}

}  // namespace guise::cgroups::v1
