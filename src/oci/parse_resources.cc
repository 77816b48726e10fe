// linux.resources of config.json: the cgroup limits, read as given. Whether a
// value suits the host's cgroup version is the cgroups driver's question.
#include "oci/parse_reader.h"

namespace guise::oci::detail {

Result<void> read(const Node& n, DeviceRule& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "allow", out.allow));
  GUISE_TRY(optional_field(n, "type", out.type));
  if (out.type != "" && out.type != "a" && out.type != "b" && out.type != "c")
    return n.at("type").fail("unknown device type " + quote(out.type) + " (expected a, b or c)");
  GUISE_TRY(optional_field(n, "major", out.major));
  GUISE_TRY(optional_field(n, "minor", out.minor));
  GUISE_TRY(optional_field(n, "access", out.access));
  if (out.access.find_first_not_of("rwm") != std::string::npos)
    return n.at("access").fail("must be a combination of r, w and m, got " + quote(out.access));
  return Ok();
}

Result<void> read(const Node& n, MemoryResources& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "limit", out.limit));
  GUISE_TRY(optional_field(n, "reservation", out.reservation));
  GUISE_TRY(optional_field(n, "swap", out.swap));
  GUISE_TRY(optional_field(n, "kernel", out.kernel));
  GUISE_TRY(optional_field(n, "kernelTCP", out.kernel_tcp));
  GUISE_TRY(optional_field(n, "swappiness", out.swappiness));
  GUISE_TRY(optional_field(n, "disableOOMKiller", out.disable_oom_killer));
  GUISE_TRY(optional_field(n, "useHierarchy", out.use_hierarchy));
  GUISE_TRY(optional_field(n, "checkBeforeUpdate", out.check_before_update));
  return Ok();
}

Result<void> read(const Node& n, CpuResources& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "shares", out.shares));
  GUISE_TRY(optional_field(n, "quota", out.quota));
  GUISE_TRY(optional_field(n, "burst", out.burst));
  GUISE_TRY(optional_field(n, "period", out.period));
  GUISE_TRY(optional_field(n, "realtimeRuntime", out.realtime_runtime));
  GUISE_TRY(optional_field(n, "realtimePeriod", out.realtime_period));
  GUISE_TRY(optional_field(n, "cpus", out.cpus));
  GUISE_TRY(optional_field(n, "mems", out.mems));
  GUISE_TRY(optional_field(n, "idle", out.idle));
  return Ok();
}

Result<void> read(const Node& n, WeightDevice& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "major", out.major));
  GUISE_TRY(required_field(n, "minor", out.minor));
  GUISE_TRY(optional_field(n, "weight", out.weight));
  GUISE_TRY(optional_field(n, "leafWeight", out.leaf_weight));
  return Ok();
}

Result<void> read(const Node& n, ThrottleDevice& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "major", out.major));
  GUISE_TRY(required_field(n, "minor", out.minor));
  GUISE_TRY(required_field(n, "rate", out.rate));
  return Ok();
}

Result<void> read(const Node& n, BlockIoResources& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "weight", out.weight));
  GUISE_TRY(optional_field(n, "leafWeight", out.leaf_weight));
  GUISE_TRY(optional_field(n, "weightDevice", out.weight_device));
  GUISE_TRY(optional_field(n, "throttleReadBpsDevice", out.throttle_read_bps_device));
  GUISE_TRY(optional_field(n, "throttleWriteBpsDevice", out.throttle_write_bps_device));
  GUISE_TRY(optional_field(n, "throttleReadIOPSDevice", out.throttle_read_iops_device));
  GUISE_TRY(optional_field(n, "throttleWriteIOPSDevice", out.throttle_write_iops_device));
  return Ok();
}

Result<void> read(const Node& n, HugepageLimit& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "pageSize", out.page_size));
  if (out.page_size.empty()) return n.at("pageSize").fail("must not be empty");
  GUISE_TRY(required_field(n, "limit", out.limit));
  return Ok();
}

Result<void> read(const Node& n, std::pair<std::string, uint32_t>& out) {  // network.priorities[]
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "name", out.first));
  GUISE_TRY(required_field(n, "priority", out.second));
  return Ok();
}

Result<void> read(const Node& n, NetworkResources& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "classID", out.class_id));
  GUISE_TRY(optional_field(n, "priorities", out.priorities));
  return Ok();
}

Result<void> read(const Node& n, RdmaLimit& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "hcaHandles", out.hca_handles));
  GUISE_TRY(optional_field(n, "hcaObjects", out.hca_objects));
  return Ok();
}

namespace {

Result<void> read_pids(const Node& n, Resources& out) {
  Node pids = n.at("pids");
  if (!pids.present()) return Ok();
  GUISE_TRY(pids.expect_object());
  int64_t limit = 0;
  GUISE_TRY(required_field(pids, "limit", limit));
  out.pids_limit = limit;
  return Ok();
}

Result<void> read_rdma(const Node& n, Resources& out) {
  Node rdma = n.at("rdma");
  if (!rdma.present()) return Ok();
  for (auto& [device, limit] : GUISE_TRY(rdma.members())) {
    if (!limit.present()) return limit.fail_value("an object");
    GUISE_TRY(read(limit, out.rdma[device]));
  }
  return Ok();
}

}  // namespace

Result<void> read(const Node& n, Resources& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "devices", out.devices));
  GUISE_TRY(optional_field(n, "memory", out.memory));
  GUISE_TRY(optional_field(n, "cpu", out.cpu));
  GUISE_TRY(read_pids(n, out));
  GUISE_TRY(optional_field(n, "blockIO", out.block_io));
  GUISE_TRY(optional_field(n, "hugepageLimits", out.hugepage_limits));
  GUISE_TRY(optional_field(n, "network", out.network));
  GUISE_TRY(read_rdma(n, out));
  GUISE_TRY(optional_field(n, "unified", out.unified));
  return Ok();
}

}  // namespace guise::oci::detail
