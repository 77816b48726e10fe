#include "engine/container_stats.h"

#include <time.h>

#include <cstdlib>

#include "engine/oci_runtime.h"
#include "sys/syscalls.h"

namespace guise::engine {

namespace {

int64_t mono_now_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

uint64_t sub_or_zero(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

}  // namespace

NetTotals parse_net_dev(std::string_view text) {
  NetTotals t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // the two header lines
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    if (name == "lo") continue;
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes ...
    std::string rest(line.substr(colon + 1));
    const char* p = rest.c_str();
    uint64_t fields[9] = {};
    int n = 0;
    for (char* e = nullptr; n < 9; ++n, p = e) {
      fields[n] = std::strtoull(p, &e, 10);
      if (e == p) break;
    }
    if (n < 9) continue;
    t.rx_bytes += fields[0];
    t.tx_bytes += fields[8];
  }
  return t;
}

uint64_t host_memory_total() {
  auto text = sys::read_file("/proc/meminfo");
  if (!text.ok()) return 0;
  auto at = text->find("MemTotal:");
  if (at == std::string::npos) return 0;
  return std::strtoull(text->c_str() + at + 9, nullptr, 10) * 1024;
}

Result<StatsSample> sample_container(const runtime::Globals& g, const ContainerView& v) {
  auto rt = GUISE_TRY(runtime_for(v.record.runtime, g));
  if (!rt->in_process())
    return sys::user_error("container " + v.record.name + " runs under " + rt->name() +
                           ", whose cgroup guise does not know: stats need the guise runtime");
  StatsSample s;
  s.cgroup = GUISE_TRY(runtime::container_stats(g, v.record.id));
  s.mono_ns = mono_now_ns();
  if (v.state.pid > 0) {
    // The init's view of /proc/net is its network namespace's, whichever that is.
    auto dev = sys::read_file("/proc/" + std::to_string(v.state.pid) + "/net/dev");
    if (dev.ok()) s.net = parse_net_dev(*dev);
  }
  return s;
}

StatsRow stats_row(const StatsSample* before, const StatsSample& now, uint64_t host_memory) {
  StatsRow r;
  const cgroups::Stats& c = now.cgroup;
  if (c.cpu) {
    r.throttled_periods_total = c.cpu->throttled_periods;
    if (before && before->cgroup.cpu && now.mono_ns > before->mono_ns) {
      const cgroups::CpuStats& b = *before->cgroup.cpu;
      double wall = double(now.mono_ns - before->mono_ns);
      r.cpu_percent = 100.0 * double(sub_or_zero(c.cpu->usage_total_ns, b.usage_total_ns)) / wall;
      r.periods = sub_or_zero(c.cpu->periods, b.periods);
      r.throttled_periods = sub_or_zero(c.cpu->throttled_periods, b.throttled_periods);
      r.throttled_ns = sub_or_zero(c.cpu->throttled_time_ns, b.throttled_time_ns);
    }
  }
  if (c.memory) {
    const cgroups::MemoryStats& m = *c.memory;
    // docker: usage less inactive file pages, which the kernel would reclaim before an OOM.
    auto key = [&](const char* k) -> uint64_t {
      auto it = m.raw.find(k);
      return it == m.raw.end() ? 0 : it->second;
    };
    uint64_t inactive = m.raw.count("total_inactive_file") ? key("total_inactive_file") : key("inactive_file");
    r.mem_usage = inactive < m.usage ? m.usage - inactive : m.usage;
    r.mem_limit = m.limit;
    if (host_memory && (r.mem_limit == 0 || r.mem_limit > host_memory)) r.mem_limit = host_memory;
    if (r.mem_limit) r.mem_percent = 100.0 * double(r.mem_usage) / double(r.mem_limit);
    r.mem_high_events = m.high_events;
    r.oom_kills = m.oom_kill;
  }
  if (now.net) r.net_rx = now.net->rx_bytes, r.net_tx = now.net->tx_bytes;
  if (c.blkio)
    for (const auto& e : c.blkio->service_bytes) {
      if (e.op == "Read") r.block_read += e.value;
      else if (e.op == "Write") r.block_write += e.value;
    }
  if (c.pids) r.pids = c.pids->current, r.pids_limit = c.pids->limit;
  r.pressure = c.pressure;
  return r;
}

}  // namespace guise::engine
