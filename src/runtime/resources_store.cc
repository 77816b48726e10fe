#include "runtime/resources_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "oci/parse.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

using nlohmann::ordered_json;

template <class T>
void put(ordered_json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

ordered_json device_rule(const oci::DeviceRule& d) {
  ordered_json j;
  j["allow"] = d.allow;
  if (!d.type.empty()) j["type"] = d.type;
  put(j, "major", d.major);
  put(j, "minor", d.minor);
  if (!d.access.empty()) j["access"] = d.access;
  return j;
}

ordered_json memory(const oci::MemoryResources& m) {
  ordered_json j = ordered_json::object();
  put(j, "limit", m.limit);
  put(j, "reservation", m.reservation);
  put(j, "swap", m.swap);
  put(j, "kernel", m.kernel);
  put(j, "kernelTCP", m.kernel_tcp);
  put(j, "swappiness", m.swappiness);
  put(j, "disableOOMKiller", m.disable_oom_killer);
  put(j, "useHierarchy", m.use_hierarchy);
  put(j, "checkBeforeUpdate", m.check_before_update);
  return j;
}

ordered_json cpu(const oci::CpuResources& c) {
  ordered_json j = ordered_json::object();
  put(j, "shares", c.shares);
  put(j, "quota", c.quota);
  put(j, "burst", c.burst);
  put(j, "period", c.period);
  put(j, "realtimeRuntime", c.realtime_runtime);
  put(j, "realtimePeriod", c.realtime_period);
  if (!c.cpus.empty()) j["cpus"] = c.cpus;
  if (!c.mems.empty()) j["mems"] = c.mems;
  put(j, "idle", c.idle);
  return j;
}

ordered_json throttles(const std::vector<oci::ThrottleDevice>& list) {
  ordered_json a = ordered_json::array();
  for (const auto& t : list) a.push_back({{"major", t.major}, {"minor", t.minor}, {"rate", t.rate}});
  return a;
}

ordered_json block_io(const oci::BlockIoResources& b) {
  ordered_json j = ordered_json::object();
  put(j, "weight", b.weight);
  put(j, "leafWeight", b.leaf_weight);
  if (!b.weight_device.empty()) {
    ordered_json a = ordered_json::array();
    for (const auto& w : b.weight_device) {
      ordered_json d = {{"major", w.major}, {"minor", w.minor}};
      put(d, "weight", w.weight);
      put(d, "leafWeight", w.leaf_weight);
      a.push_back(d);
    }
    j["weightDevice"] = a;
  }
  auto add = [&](const char* key, const std::vector<oci::ThrottleDevice>& list) {
    if (!list.empty()) j[key] = throttles(list);
  };
  add("throttleReadBpsDevice", b.throttle_read_bps_device);
  add("throttleWriteBpsDevice", b.throttle_write_bps_device);
  add("throttleReadIOPSDevice", b.throttle_read_iops_device);
  add("throttleWriteIOPSDevice", b.throttle_write_iops_device);
  return j;
}

}  // namespace

std::string resources_json(const oci::Resources& r) {
  ordered_json j = ordered_json::object();
  if (!r.devices.empty()) {
    ordered_json a = ordered_json::array();
    for (const auto& d : r.devices) a.push_back(device_rule(d));
    j["devices"] = a;
  }
  if (r.memory) j["memory"] = memory(*r.memory);
  if (r.cpu) j["cpu"] = cpu(*r.cpu);
  if (r.pids_limit) j["pids"] = {{"limit", *r.pids_limit}};
  if (r.block_io) j["blockIO"] = block_io(*r.block_io);
  if (!r.hugepage_limits.empty()) {
    ordered_json a = ordered_json::array();
    for (const auto& h : r.hugepage_limits) a.push_back({{"pageSize", h.page_size}, {"limit", h.limit}});
    j["hugepageLimits"] = a;
  }
  if (r.network) {
    ordered_json n = ordered_json::object();
    put(n, "classID", r.network->class_id);
    if (!r.network->priorities.empty()) {
      ordered_json a = ordered_json::array();
      for (const auto& [name, prio] : r.network->priorities) a.push_back({{"name", name}, {"priority", prio}});
      n["priorities"] = a;
    }
    j["network"] = n;
  }
  if (!r.rdma.empty()) {
    ordered_json m = ordered_json::object();
    for (const auto& [dev, l] : r.rdma) {
      ordered_json e = ordered_json::object();
      put(e, "hcaHandles", l.hca_handles);
      put(e, "hcaObjects", l.hca_objects);
      m[dev] = e;
    }
    j["rdma"] = m;
  }
  if (!r.unified.empty()) j["unified"] = r.unified;
  return j.dump();
}

Result<oci::Resources> load_resources(const StateDir& dir) {
  std::string path = dir.path() + "/resources.json";
  auto text = sys::read_file(path);
  if (text.ok()) return oci::parse_resources(*text, path);
  if (text.error().errnum != ENOENT) return std::move(text.error());
  std::string config = GUISE_TRY(sys::read_file(dir.config_path()));
  oci::Spec spec = GUISE_TRY(oci::parse_spec(config, dir.config_path()));
  return spec.linux && spec.linux->resources ? *spec.linux->resources : oci::Resources{};
}

Result<void> save_resources(const StateDir& dir, const oci::Resources& r) {
  std::string tmp = dir.path() + "/.resources.json.tmp";
  GUISE_TRY(sys::write_file(tmp, resources_json(r), O_CREAT | O_TRUNC, 0600));
  std::string path = dir.path() + "/resources.json";
  if (::rename(tmp.c_str(), path.c_str()) < 0) return sys::sys_error("rename to", path);
  return Ok();
}

}  // namespace guise::runtime
