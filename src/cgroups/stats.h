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
  std::vector<uint64_t> usage_per_cpu_kernel_ns, usage_per_cpu_user_ns;  // v1 cpuacct.usage_percpu_sys/_user
  uint64_t periods = 0;                    // cpu.stat nr_periods
  uint64_t throttled_periods = 0;          // cpu.stat nr_throttled
  uint64_t throttled_time_ns = 0;          // v1 throttled_time; v2 throttled_usec
};

// One of runc's memory entries: usage, its peak, the limit and how often it was hit.
struct MemoryEntry {
  uint64_t usage = 0, max_usage = 0, limit = 0, failcnt = 0;
};

struct MemoryStats {
  uint64_t usage = 0;                   // v1 memory.usage_in_bytes; v2 memory.current
  uint64_t max_usage = 0;               // v1 memory.max_usage_in_bytes; v2 memory.peak (kernel 5.19+)
  uint64_t limit = 0;                   // v1 memory.limit_in_bytes; v2 memory.max
  uint64_t failcnt = 0;                 // v1 memory.failcnt; v2 memory.events "max" (times the limit was hit)
  uint64_t swap_usage = 0;              // v1 memsw.usage - usage; v2 memory.swap.current
  uint64_t oom_events = 0;              // v2 memory.events "oom"; v1 memory.oom_control under_oom (0/1)
  uint64_t oom_kill = 0;                // processes killed by the OOM killer (memory.oom_control / memory.events)
  uint64_t cache = 0;                   // page cache: v1 memory.stat "cache", v2 "file"
  // runc's "swap" entry: memory+swap, as v1 counts it (v2: memory.current + memory.swap.current,
  // limit memory.max + memory.swap.max), as runc reports both.
  MemoryEntry memory_and_swap;
  MemoryEntry kernel, kernel_tcp;       // v1 memory.kmem.* and memory.kmem.tcp.*; 0 on v2
  std::map<std::string, uint64_t> raw;  // memory.stat as the kernel gives it
  // v2 only (v1 has no memory.high): the soft limit, and how often the cgroup went over
  // it and was throttled into reclaim (memory.events "high"). Absent on v1.
  std::optional<uint64_t> high_limit;   // kUnlimited when "max"
  std::optional<uint64_t> high_events;
};

struct PidsStats {
  uint64_t current = 0;
  uint64_t limit = 0;  // 0: no limit ("max"), as runc reports it
  uint64_t limit_hits = 0;  // pids.events "max": forks refused (EAGAIN) because of the limit
};

// A blkio line: "8:0 Read 4096" (v1) or one key of an io.stat line (v2, op "Read"/"Write").
struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;
  uint64_t value = 0;
};

struct BlkioStats {
  std::vector<BlkioEntry> service_bytes;  // bytes moved, per device and op
  std::vector<BlkioEntry> serviced;       // I/Os done, per device and op
};

struct HugetlbStats {
  uint64_t usage = 0, max_usage = 0, failcnt = 0;
};

struct CpusetStats {
  std::vector<uint16_t> cpus, mems;  // effective lists, expanded
};

// Pressure stall information: the share of wall time (percent) in which some, or all, of
// the cgroup's runnable tasks waited for the resource, averaged over 10, 60 and 300 s,
// and the total stall time.
struct PressureLine {
  double avg10 = 0, avg60 = 0, avg300 = 0;
  uint64_t total_us = 0;
};
struct Pressure {
  PressureLine some;
  std::optional<PressureLine> full;  // cpu.pressure has a "full" line since Linux 5.13
};
struct PressureStats {
  std::optional<Pressure> cpu, memory, io;
};

struct Stats {
  std::optional<CpuStats> cpu;
  std::optional<MemoryStats> memory;
  std::optional<PidsStats> pids;
  std::optional<BlkioStats> blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // by page size: "2MB"
  std::optional<CpusetStats> cpuset;
  // From the cgroup2 directory's *.pressure files: on v2, and on a hybrid host (the
  // kernel accounts pressure per cgroup of the cgroup2 hierarchy whatever else is
  // mounted). Absent on a v1-only host or a kernel without PSI: never the host's numbers.
  std::optional<PressureStats> pressure;
};

}  // namespace guise::cgroups
