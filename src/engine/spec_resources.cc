// linux.resources and linux.devices as docker's daemon sets them (moby
// daemon/oci_linux.go WithResources, WithDevices; oci/defaults.go).
#include "engine/spec_internal.h"

namespace guise::engine::spec_detail {

namespace {

oci::DeviceRule rule(bool allow, std::string type, std::optional<int64_t> major, std::optional<int64_t> minor,
                     std::string access) {
  oci::DeviceRule r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}

// moby's DefaultLinuxSpec: deny everything, then the standard character devices; fuse
// stays denied. The runtime adds its own defaults (pts, ptmx, mknod), as runc does.
std::vector<oci::DeviceRule> docker_device_rules() {
  return {
      rule(false, "", std::nullopt, std::nullopt, "rwm"), rule(true, "c", 1, 5, "rwm"),  // zero
      rule(true, "c", 1, 3, "rwm"),                                                       // null
      rule(true, "c", 1, 9, "rwm"),                                                       // urandom
      rule(true, "c", 1, 8, "rwm"),                                                       // random
      rule(true, "c", 5, 0, "rwm"),                                                       // tty
      rule(true, "c", 5, 1, "rwm"),                                                       // console
      rule(false, "c", 10, 229, "rwm"),                                                   // fuse
  };
}

Result<std::vector<oci::ThrottleDevice>> throttles(const std::vector<ThrottleDevice>& in, const SpecContext& ctx,
                                                   const char* flag) {
  std::vector<oci::ThrottleDevice> out;
  for (const auto& t : in) {
    if (!ctx.device_info) return sys::user_error(std::string(flag) + " " + t.path + ": devices cannot be looked up here");
    auto d = GUISE_TRY(ctx.device_info(t.path), std::string(flag) + " " + t.path);
    if (d.type != "b") return sys::user_error(std::string(flag) + " " + t.path + ": not a block device");
    out.push_back({d.major, d.minor, t.rate});
  }
  return out;
}

}  // namespace

Result<void> build_resources(const HostConfig& h, const SpecContext& ctx, oci::Linux& l) {
  oci::Resources res;
  if (h.privileged) {
    res.devices = {rule(true, "a", std::nullopt, std::nullopt, "rwm")};
    l.devices = ctx.host_devices;
  } else {
    res.devices = docker_device_rules();
    for (const auto& d : h.devices) {
      if (!ctx.device_info) return sys::user_error("--device " + d.path_on_host + ": devices cannot be looked up here");
      auto dev = GUISE_TRY(ctx.device_info(d.path_on_host), "--device " + d.path_on_host);
      dev.path = d.path_in_container;
      res.devices.push_back(rule(true, dev.type, dev.major, dev.minor, d.cgroup_permissions));
      l.devices.push_back(std::move(dev));
    }
  }

  oci::MemoryResources mem;
  bool any_memory = false;
  if (h.memory > 0) mem.limit = h.memory, any_memory = true;
  if (h.memory_reservation > 0) mem.reservation = h.memory_reservation, any_memory = true;
  int64_t swap = h.memory_swap;
  if (h.memory > 0 && swap == 0) swap = 2 * h.memory;  // docker's default: as much swap as memory
  if (swap != 0 && h.memory > 0) mem.swap = swap, any_memory = true;
  if (h.oom_kill_disable.value_or(false)) mem.disable_oom_killer = true, any_memory = true;
  if (any_memory) res.memory = mem;

  oci::CpuResources cpu;
  bool any_cpu = false;
  if (h.cpu_shares > 0) cpu.shares = static_cast<uint64_t>(h.cpu_shares), any_cpu = true;
  if (h.nano_cpus > 0) {
    // docker: period 100ms, quota the CPUs' share of it.
    cpu.period = 100000;
    cpu.quota = h.nano_cpus * 100000 / 1000000000;
    any_cpu = true;
  }
  if (h.cpu_period > 0) cpu.period = static_cast<uint64_t>(h.cpu_period), any_cpu = true;
  if (h.cpu_quota != 0) cpu.quota = h.cpu_quota, any_cpu = true;
  if (!h.cpuset_cpus.empty()) cpu.cpus = h.cpuset_cpus, any_cpu = true;
  if (!h.cpuset_mems.empty()) cpu.mems = h.cpuset_mems, any_cpu = true;
  if (any_cpu) res.cpu = cpu;

  if (h.pids_limit && *h.pids_limit > 0) res.pids_limit = *h.pids_limit;

  oci::BlockIoResources blkio;
  if (h.blkio_weight > 0) blkio.weight = h.blkio_weight;
  blkio.throttle_read_bps_device = GUISE_TRY(throttles(h.blkio_device_read_bps, ctx, "--device-read-bps"));
  blkio.throttle_write_bps_device = GUISE_TRY(throttles(h.blkio_device_write_bps, ctx, "--device-write-bps"));
  blkio.throttle_read_iops_device = GUISE_TRY(throttles(h.blkio_device_read_iops, ctx, "--device-read-iops"));
  blkio.throttle_write_iops_device = GUISE_TRY(throttles(h.blkio_device_write_iops, ctx, "--device-write-iops"));
  if (blkio.weight || !blkio.throttle_read_bps_device.empty() || !blkio.throttle_write_bps_device.empty() ||
      !blkio.throttle_read_iops_device.empty() || !blkio.throttle_write_iops_device.empty())
    res.block_io = blkio;

  l.resources = std::move(res);
  return Ok();
}

}  // namespace guise::engine::spec_detail
