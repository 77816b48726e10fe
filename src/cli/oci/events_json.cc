#include "cli/oci/events_json.h"

namespace guise::cli {

namespace {

using nlohmann::ordered_json;

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

}  // namespace

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

}  // namespace guise::cli
