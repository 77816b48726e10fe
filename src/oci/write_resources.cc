// oci::Resources -> linux.resources: the cgroup limits, written as they are held.
#include "oci/write.h"
#include "oci/write_detail.h"

namespace guise::oci {
namespace detail {
namespace {

// Allow is written even when false, as Go writes it: a deny rule must read as one.
OJson device_rule_json(const DeviceRule& d) {
  OJson j = {{"allow", d.allow}};
  put_nonempty(j, "type", d.type);
  put(j, "major", d.major);
  put(j, "minor", d.minor);
  put_nonempty(j, "access", d.access);
  return j;
}

OJson memory_json(const MemoryResources& m) {
  OJson j = OJson::object();
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

OJson cpu_json(const CpuResources& c) {
  OJson j = OJson::object();
  put(j, "shares", c.shares);
  put(j, "quota", c.quota);
  put(j, "burst", c.burst);
  put(j, "period", c.period);
  put(j, "realtimeRuntime", c.realtime_runtime);
  put(j, "realtimePeriod", c.realtime_period);
  put_nonempty(j, "cpus", c.cpus);
  put_nonempty(j, "mems", c.mems);
  put(j, "idle", c.idle);
  return j;
}

OJson weight_device_json(const WeightDevice& w) {
  OJson j = {{"major", w.major}, {"minor", w.minor}};
  put(j, "weight", w.weight);
  put(j, "leafWeight", w.leaf_weight);
  return j;
}

OJson throttle_device_json(const ThrottleDevice& t) {
  return {{"major", t.major}, {"minor", t.minor}, {"rate", t.rate}};
}

OJson block_io_json(const BlockIoResources& b) {
  OJson j = OJson::object();
  put(j, "weight", b.weight);
  put(j, "leafWeight", b.leaf_weight);
  put_list(j, "weightDevice", b.weight_device, weight_device_json);
  put_list(j, "throttleReadBpsDevice", b.throttle_read_bps_device, throttle_device_json);
  put_list(j, "throttleWriteBpsDevice", b.throttle_write_bps_device, throttle_device_json);
  put_list(j, "throttleReadIOPSDevice", b.throttle_read_iops_device, throttle_device_json);
  put_list(j, "throttleWriteIOPSDevice", b.throttle_write_iops_device, throttle_device_json);
  return j;
}

OJson hugepage_limit_json(const HugepageLimit& h) { return {{"pageSize", h.page_size}, {"limit", h.limit}}; }

OJson interface_priority_json(const std::pair<std::string, uint32_t>& p) {
  return {{"name", p.first}, {"priority", p.second}};
}

OJson network_json(const NetworkResources& n) {
  OJson j = OJson::object();
  put(j, "classID", n.class_id);
  put_list(j, "priorities", n.priorities, interface_priority_json);
  return j;
}

OJson rdma_json(const std::map<std::string, RdmaLimit>& rdma) {
  OJson j = OJson::object();
  for (const auto& [device, limit] : rdma) {
    OJson l = OJson::object();
    put(l, "hcaHandles", limit.hca_handles);
    put(l, "hcaObjects", limit.hca_objects);
    j[device] = std::move(l);
  }
  return j;
}

}  // namespace
}  // namespace detail

detail::OJson to_json(const Resources& r) {
  using namespace detail;
  OJson j = OJson::object();
  put_list(j, "devices", r.devices, device_rule_json);
  if (r.memory) j["memory"] = memory_json(*r.memory);
  if (r.cpu) j["cpu"] = cpu_json(*r.cpu);
  if (r.pids_limit) j["pids"] = {{"limit", *r.pids_limit}};
  if (r.block_io) j["blockIO"] = block_io_json(*r.block_io);
  put_list(j, "hugepageLimits", r.hugepage_limits, hugepage_limit_json);
  if (r.network) j["network"] = network_json(*r.network);
  if (!r.rdma.empty()) j["rdma"] = rdma_json(r.rdma);
  put_nonempty(j, "unified", r.unified);
  return j;
}

}  // namespace guise::oci
