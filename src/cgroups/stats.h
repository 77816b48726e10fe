// What a container's cgroup has used: the data behind `events --stats` and `guise stats`.
// A group is absent when its controller is not available; a field the kernel does not
// report stays 0 (or empty).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace guise::cgroups {

// Limits read as "max" (v2) are UINT64_MAX; v1 reports its own huge number for "unlimited".
inline constexpr uint64_t kUnlimited = UINT64_MAX;

struct CpuStats {
  uint64_t usage_total_ns = 0;             // v1 cpuacct.usage; v2 cpu.stat usage_usec
  uint64_t usage_user_ns = 0;              // v1 cpuacct.usage_user (or .stat ticks); v2 user_usec
  uint64_t usage_kernel_ns = 0;            // v1 cpuacct.usage_sys (or .stat ticks); v2 system_usec
  std::vector<uint64_t> usage_per_cpu_ns;  // v1 cpuacct.usage_percpu; empty on v2
  uint64_t periods = 0;                    // cpu.stat nr_periods
  uint64_t throttled_periods = 0;          // cpu.stat nr_throttled
  uint64_t throttled_time_ns = 0;          // v1 throttled_time; v2 throttled_usec
};

struct MemoryStats {
  uint64_t usage = 0;                   // v1 memory.usage_in_bytes; v2 memory.current
  uint64_t max_usage = 0;               // v1 memory.max_usage_in_bytes; v2 memory.peak (kernel 5.19+)
  uint64_t limit = 0;                   // v1 memory.limit_in_bytes; v2 memory.max
  uint64_t failcnt = 0;                 // v1 memory.failcnt; v2 memory.events "max" (times the limit was hit)
  uint64_t swap_usage = 0;              // v1 memsw.usage - usage; v2 memory.swap.current
  uint64_t oom_events = 0;              // v2 memory.events "oom"; v1 memory.oom_control under_oom (0/1)
  uint64_t oom_kill = 0;                // processes killed by the OOM killer (memory.oom_control / memory.events)
  std::map<std::string, uint64_t> raw;  // memory.stat as the kernel gives it
};

struct PidsStats {
  uint64_t current = 0;
  uint64_t limit = 0;  // 0: no limit ("max"), as runc reports it
};

struct Stats {
  std::optional<CpuStats> cpu;
  std::optional<MemoryStats> memory;
  std::optional<PidsStats> pids;
};

}  // namespace guise::cgroups
