// update: new limits for a running container. The change goes to the cgroup, and the
// container's resources as now applied are recorded in its state dir (resources_store.h),
// so that the next change builds on them.
#include "linux/devices.h"
#include "oci/parse.h"
#include "runtime/container_cgroup.h"
#include "runtime/resources_store.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "sys/log.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

template <class T>
void take(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
}

// What is written to the cgroup: the change, completed where the kernel needs a value
// the change leaves out (v2 computes swap from the memory limit) and with the device
// rules every container gets.
Result<oci::Resources> to_apply(oci::Resources change, const oci::Resources& stored, const StateDir& dir) {
  if (change.memory && change.memory->swap && !change.memory->limit && stored.memory && stored.memory->limit)
    change.memory->limit = stored.memory->limit;
  if (!change.devices.empty()) {
    oci::Spec spec = GUISE_TRY(oci::parse_spec(GUISE_TRY(sys::read_file(dir.config_path())), dir.config_path()));
    change.devices = linux::effective_device_rules(change.devices, spec.linux->devices);
  }
  return change;
}

}  // namespace

oci::Resources merge_resources(oci::Resources s, const oci::Resources& c) {
  if (!c.devices.empty()) s.devices = c.devices;
  if (c.memory) {
    auto& m = s.memory ? *s.memory : s.memory.emplace();
    const auto& n = *c.memory;
    take(m.limit, n.limit);
    take(m.reservation, n.reservation);
    take(m.swap, n.swap);
    take(m.kernel, n.kernel);
    take(m.kernel_tcp, n.kernel_tcp);
    take(m.swappiness, n.swappiness);
    take(m.disable_oom_killer, n.disable_oom_killer);
    take(m.use_hierarchy, n.use_hierarchy);
    take(m.check_before_update, n.check_before_update);
  }
  if (c.cpu) {
    auto& p = s.cpu ? *s.cpu : s.cpu.emplace();
    const auto& n = *c.cpu;
    take(p.shares, n.shares);
    take(p.quota, n.quota);
    take(p.burst, n.burst);
    take(p.period, n.period);
    take(p.realtime_runtime, n.realtime_runtime);
    take(p.realtime_period, n.realtime_period);
    if (!n.cpus.empty()) p.cpus = n.cpus;
    if (!n.mems.empty()) p.mems = n.mems;
    take(p.idle, n.idle);
  }
  take(s.pids_limit, c.pids_limit);
  if (c.block_io) {
    auto& b = s.block_io ? *s.block_io : s.block_io.emplace();
    const auto& n = *c.block_io;
    take(b.weight, n.weight);
    take(b.leaf_weight, n.leaf_weight);
    if (!n.weight_device.empty()) b.weight_device = n.weight_device;
    if (!n.throttle_read_bps_device.empty()) b.throttle_read_bps_device = n.throttle_read_bps_device;
    if (!n.throttle_write_bps_device.empty()) b.throttle_write_bps_device = n.throttle_write_bps_device;
    if (!n.throttle_read_iops_device.empty()) b.throttle_read_iops_device = n.throttle_read_iops_device;
    if (!n.throttle_write_iops_device.empty()) b.throttle_write_iops_device = n.throttle_write_iops_device;
  }
  if (!c.hugepage_limits.empty()) s.hugepage_limits = c.hugepage_limits;
  if (c.network) s.network = c.network;
  for (const auto& [k, v] : c.rdma) s.rdma[k] = v;
  for (const auto& [k, v] : c.unified) s.unified[k] = v;
  return s;
}

Result<void> update_resources(const Globals& g, const std::string& id, const oci::Resources& change) {
  auto [dir, st, status] = GUISE_TRY(open_container(g.root, id));
  if (status == Status::kStopped) return sys::wrong_state("container not running");
  oci::Resources stored = GUISE_TRY(load_resources(dir), "reading the container's resources");
  oci::Resources apply = GUISE_TRY(to_apply(change, stored, dir));
  auto cg = GUISE_TRY(container_cgroup(st));
  sys::debug("update: writing the changed limits to container " + id + "'s cgroup");
  GUISE_TRY(cg->apply(apply), "updating container " + id);
  return save_resources(dir, merge_resources(std::move(stored), change));
}

}  // namespace guise::runtime
