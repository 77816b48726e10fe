// What `guise stats` reads of a running container and works out from two readings:
// docker's numbers (CPU %, memory net of reclaimable page cache, network and block I/O,
// pids) and what docker leaves out (CPU throttling over the interval, pressure, memory.high
// events, OOM kills, the pids limit). Reading is one call into the runtime's cgroup and one
// read of /proc/PID/net/dev; the arithmetic is pure and unit-tested.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cgroups/stats.h"
#include "engine/container_view.h"
#include "runtime/runtime.h"
#include "sys/result.h"

namespace guise::engine {

struct NetTotals {
  uint64_t rx_bytes = 0, tx_bytes = 0;
};

// /proc/PID/net/dev summed over every interface but loopback (as docker sums its
// networks' interfaces).
NetTotals parse_net_dev(std::string_view text);

// MemTotal of /proc/meminfo in bytes: what docker shows as the limit of a container
// without one. 0 when unreadable.
uint64_t host_memory_total();

struct StatsSample {
  int64_t mono_ns = 0;  // CLOCK_MONOTONIC when taken
  cgroups::Stats cgroup;
  std::optional<NetTotals> net;  // nullopt when the container's /proc entry is gone
};

// One reading of a running container (its view says so; the caller checks). Containers run
// by an OCI runtime binary (--runtime runc) keep their cgroup in that runtime's state,
// which guise does not read: an error says so.
Result<StatsSample> sample_container(const runtime::Globals& g, const ContainerView& v);

// One row of `guise stats`, from the sample before (nullptr: none yet) and this one.
struct StatsRow {
  double cpu_percent = 0;           // CPU time over wall time in the interval, 100 = one CPU
  uint64_t mem_usage = 0;           // usage less inactive page cache, as docker computes it
  uint64_t mem_limit = 0;           // the cgroup's limit, or the host's memory without one
  double mem_percent = 0;
  uint64_t net_rx = 0, net_tx = 0;  // bytes since the container's network came up
  uint64_t block_read = 0, block_write = 0;
  uint64_t pids = 0, pids_limit = 0;  // 0: no limit
  // CPU bandwidth control over the interval: periods in which the quota ran out, of all
  // periods, and the time the cgroup spent throttled. periods == 0 without a quota.
  uint64_t periods = 0, throttled_periods = 0, throttled_ns = 0;
  uint64_t throttled_periods_total = 0;  // since the cgroup was made
  std::optional<cgroups::PressureStats> pressure;
  std::optional<uint64_t> mem_high_events;  // v2 only
  uint64_t oom_kills = 0;
  double throttled_percent() const { return periods ? 100.0 * double(throttled_periods) / double(periods) : 0; }
};

StatsRow stats_row(const StatsSample* before, const StatsSample& now, uint64_t host_memory);

}  // namespace guise::engine
