#include "runtime/events.h"

#include <poll.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "runtime/container_cgroup.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

void put_nonzero(ordered_json& j, const char* key, uint64_t v) {
  if (v) j[key] = v;
}

template <class T>
void put_nonempty(ordered_json& j, const char* key, const std::vector<T>& v) {
  if (!v.empty()) j[key] = v;
}

ordered_json cpu_json(const cgroups::CpuStats& c) {
  ordered_json usage = ordered_json::object();
  put_nonzero(usage, "total", c.usage_total_ns);
  put_nonempty(usage, "percpu", c.usage_per_cpu_ns);
  put_nonempty(usage, "percpu_kernel", c.usage_per_cpu_kernel_ns);
  put_nonempty(usage, "percpu_user", c.usage_per_cpu_user_ns);
  usage["kernel"] = c.usage_kernel_ns;
  usage["user"] = c.usage_user_ns;
  ordered_json throttling = ordered_json::object();
  put_nonzero(throttling, "periods", c.periods);
  put_nonzero(throttling, "throttledPeriods", c.throttled_periods);
  put_nonzero(throttling, "throttledTime", c.throttled_time_ns);
  return {{"usage", usage}, {"throttling", throttling}};
}

ordered_json cpuset_json(const cgroups::CpusetStats& c) {
  ordered_json j = ordered_json::object();
  put_nonempty(j, "cpus", c.cpus);
  j["cpu_exclusive"] = 0;
  put_nonempty(j, "mems", c.mems);
  for (const char* key : {"mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
                          "memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level"})
    j[key] = 0;
  return j;
}

ordered_json memory_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt) {
  ordered_json j;
  j["limit"] = limit;
  put_nonzero(j, "usage", usage);
  put_nonzero(j, "max", max);
  j["failcnt"] = failcnt;
  return j;
}

ordered_json memory_entry(const cgroups::MemoryEntry& e) { return memory_entry(e.limit, e.usage, e.max_usage, e.failcnt); }

ordered_json memory_json(const cgroups::MemoryStats& m) {
  ordered_json j = ordered_json::object();
  put_nonzero(j, "cache", m.cache);
  j["usage"] = memory_entry(m.limit, m.usage, m.max_usage, m.failcnt);
  j["swap"] = memory_entry(m.memory_and_swap);
  j["kernel"] = memory_entry(m.kernel);
  j["kernelTCP"] = memory_entry(m.kernel_tcp);
  if (!m.raw.empty()) j["raw"] = m.raw;
  return j;
}

ordered_json blkio_entries(const std::vector<cgroups::BlkioEntry>& list) {
  ordered_json a = ordered_json::array();
  for (const auto& e : list) {
    ordered_json j = ordered_json::object();
    put_nonzero(j, "major", e.major);
    put_nonzero(j, "minor", e.minor);
    if (!e.op.empty()) j["op"] = e.op;
    put_nonzero(j, "value", e.value);
    a.push_back(j);
  }
  return a;
}

ordered_json blkio_json(const cgroups::BlkioStats& b) {
  ordered_json j = ordered_json::object();
  if (!b.service_bytes.empty()) j["ioServiceBytesRecursive"] = blkio_entries(b.service_bytes);
  if (!b.serviced.empty()) j["ioServicedRecursive"] = blkio_entries(b.serviced);
  return j;
}

// One digit run with an optional fraction, then a unit; repeated ("1h2m3.5s").
Result<std::chrono::nanoseconds> parse_duration_body(const std::string& text) {
  static const std::pair<const char*, double> kUnits[] = {{"ns", 1},     {"us", 1e3},   {"\xC2\xB5s", 1e3},
                                                          {"\xCE\xBCs", 1e3}, {"ms", 1e6}, {"s", 1e9},
                                                          {"m", 60e9},   {"h", 3600e9}};
  double total = 0;
  size_t i = 0;
  auto bad = [&] { return sys::user_error("invalid duration \"" + text + "\" (like 5s, 500ms, 1m30s)"); };
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty()) return bad();
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return bad();
    double value = std::strtod(text.substr(start, i - start).c_str(), nullptr);
    size_t unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) && text[i] != '.') ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    bool known = false;
    for (const auto& [name, scale] : kUnits)
      if (unit == name) {
        total += value * scale;
        known = true;
      }
    if (!known) return bad();
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

// Waits for the first of: an OOM notification, the init's exit, the next tick.
struct Waiter {
  int pidfd = -1, oomfd = -1;
  bool init_gone = false, oom_ready = false;

  Result<void> wait_until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    struct pollfd fds[2] = {{pidfd, POLLIN, 0}, {oomfd, POLLIN, 0}};
    int n = ::poll(fds, 2, left < 0 ? 0 : static_cast<int>(left) + 1);
    if (n < 0 && errno != EINTR) return sys::sys_error("poll");
    init_gone = n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR));
    oom_ready = n > 0 && (fds[1].revents & POLLIN);
    return Ok();
  }
};

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(const std::string& text) {
  std::string body = text;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    if (body[0] == '-') return sys::user_error("duration interval must be greater than 0");
    body.erase(0, 1);
  }
  return parse_duration_body(body);
}

ordered_json stats_data(const cgroups::Stats& s) {
  ordered_json j;
  j["cpu"] = cpu_json(s.cpu.value_or(cgroups::CpuStats{}));
  j["cpuset"] = cpuset_json(s.cpuset.value_or(cgroups::CpusetStats{}));
  j["memory"] = memory_json(s.memory.value_or(cgroups::MemoryStats{}));
  ordered_json pids = ordered_json::object();
  if (s.pids) {
    put_nonzero(pids, "current", s.pids->current);
    put_nonzero(pids, "limit", s.pids->limit);
  }
  j["pids"] = pids;
  j["blkio"] = blkio_json(s.blkio.value_or(cgroups::BlkioStats{}));
  ordered_json hugetlb = ordered_json::object();
  for (const auto& [size, h] : s.hugetlb) {
    ordered_json e = ordered_json::object();
    put_nonzero(e, "usage", h.usage);
    put_nonzero(e, "max", h.max_usage);
    e["failcnt"] = h.failcnt;
    hugetlb[size] = e;
  }
  j["hugetlb"] = hugetlb;
  j["intel_rdt"] = ordered_json::object();
  j["network_interfaces"] = nullptr;
  return j;
}

std::string stats_event(const std::string& id, const cgroups::Stats& s) {
  ordered_json j;
  j["type"] = "stats";
  j["id"] = id;
  j["data"] = stats_data(s);
  return j.dump();
}

std::string oom_event(const std::string& id) {
  ordered_json j;
  j["type"] = "oom";
  j["id"] = id;
  return j.dump();
}

Result<void> container_events(const Globals& g, const EventsOptions& o,
                              const std::function<void(const std::string&)>& emit) {
  if (o.interval.count() <= 0) return sys::user_error("duration interval must be greater than 0");
  ContainerState st;
  {  // the state dir's lock is held only while reading: events runs for as long as the container
    StateDir dir = GUISE_TRY(StateDir::open(g.root, o.id));
    st = GUISE_TRY(dir.load());
    if (current_status(st, dir.path()) == Status::kStopped)
      return sys::user_error("container with id " + o.id + " is not running");
  }
  auto cg = GUISE_TRY(container_cgroup(st));
  if (o.stats_once) {
    emit(stats_event(o.id, GUISE_TRY(cg->stats(), "reading stats")));
    return Ok();
  }
  sys::Fd pidfd = GUISE_TRY(sys::pidfd_open(st.pid), "watching the container's init");
  auto oom = cg->watch_oom();  // without a memory controller there is nothing to watch
  Waiter w{pidfd.get(), oom.ok() ? (*oom)->fd() : -1};
  auto report_ooms = [&]() {
    if (!oom.ok()) return;
    auto n = (*oom)->take();
    for (uint64_t i = 0; n.ok() && i < *n; ++i) emit(oom_event(o.id));
  };
  auto next_tick = Clock::now() + o.interval;
  for (;;) {
    GUISE_TRY(w.wait_until(next_tick));
    if (w.oom_ready) report_ooms();
    if (w.init_gone) {
      report_ooms();  // a kill counted before its notification came through
      return Ok();
    }
    if (Clock::now() >= next_tick) {
      auto stats = cg->stats();
      if (stats.ok()) emit(stats_event(o.id, *stats));  // as runc: a failed read skips a tick
      next_tick += o.interval;
      if (next_tick < Clock::now()) next_tick = Clock::now() + o.interval;
    }
  }
}

}  // namespace guise::runtime
