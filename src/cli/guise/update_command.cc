// docker update: new resource limits for containers. The record's HostConfig is changed
// (inspect shows it), the bundle's spec too (the next start keeps them), and a running
// container's cgroup through runtime::update_resources. --restart goes to the record and
// monitor.json; a running monitor read monitor.json when it started, so the new policy
// takes effect from the container's next start, as the message says.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/guise/container_common.h"
#include "cli/guise/run_flag_values.h"
#include "engine/spec_internal.h"
#include "oci/parse.h"
#include "oci/write.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

struct UpdateFlags {
  std::vector<std::string> names;
  std::string memory, memory_swap, memory_reservation, cpus, cpuset_cpus, cpuset_mems, restart;
  std::optional<int64_t> cpu_shares, cpu_period, cpu_quota, pids_limit, blkio_weight;
};

Result<void> change_host_config(nlohmann::json& h, const UpdateFlags& f) {
  if (!f.memory.empty()) {
    int64_t m = GUISE_TRY(parse_size_flag(f.memory, "--memory"));
    int64_t swap = h.value("MemorySwap", int64_t{0});
    if (f.memory_swap.empty() && swap > 0 && m > swap)
      return sys::user_error("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
    h["Memory"] = m;
  }
  if (!f.memory_swap.empty()) h["MemorySwap"] = GUISE_TRY(parse_size_flag(f.memory_swap, "--memory-swap", true));
  if (!f.memory_reservation.empty())
    h["MemoryReservation"] = GUISE_TRY(parse_size_flag(f.memory_reservation, "--memory-reservation"));
  if (!f.cpus.empty()) h["NanoCpus"] = GUISE_TRY(parse_cpus(f.cpus, ::sysconf(_SC_NPROCESSORS_ONLN)));
  if (f.cpu_shares) h["CpuShares"] = *f.cpu_shares;
  if (f.cpu_period) h["CpuPeriod"] = *f.cpu_period;
  if (f.cpu_quota) h["CpuQuota"] = *f.cpu_quota;
  if (!f.cpuset_cpus.empty()) h["CpusetCpus"] = f.cpuset_cpus;
  if (!f.cpuset_mems.empty()) h["CpusetMems"] = f.cpuset_mems;
  if (f.pids_limit) h["PidsLimit"] = *f.pids_limit;
  if (f.blkio_weight) {
    if (*f.blkio_weight != 0 && (*f.blkio_weight < 10 || *f.blkio_weight > 1000))
      return sys::user_error("invalid --blkio-weight " + std::to_string(*f.blkio_weight) + ": range of blkio weight is from 10 to 1000");
    h["BlkioWeight"] = *f.blkio_weight;
  }
  if (!f.restart.empty()) {
    auto p = GUISE_TRY(parse_restart(f.restart));
    h["RestartPolicy"] = {{"Name", p.name}, {"MaximumRetryCount", p.maximum_retry_count}};
  }
  return Ok();
}

// The limits the HostConfig gives, built as create builds them (devices left out: update
// changes none).
Result<oci::Resources> resources_of(const nlohmann::json& host_config, const std::string& id) {
  auto h = GUISE_TRY(engine::host_config_from_json(host_config, "HostConfig"));
  h.devices.clear();
  h.blkio_device_read_bps.clear();
  h.blkio_device_write_bps.clear();
  h.blkio_device_read_iops.clear();
  h.blkio_device_write_iops.clear();
  engine::SpecContext sc;
  sc.id = id;
  oci::Linux l;
  GUISE_TRY(engine::spec_detail::build_resources(h, sc, l));
  oci::Resources r = l.resources.value_or(oci::Resources{});
  oci::Resources change;
  change.memory = r.memory;
  change.cpu = r.cpu;
  change.pids_limit = r.pids_limit;
  change.block_io = r.block_io;
  return change;
}

Result<void> update_one(engine::ContainerStore& cs, const std::string& id, const UpdateFlags& f) {
  auto rec = GUISE_TRY(cs.read_record(id));
  nlohmann::json h = rec.host_config;
  GUISE_TRY(change_host_config(h, f));
  oci::Resources change = GUISE_TRY(resources_of(h, id));
  auto v = GUISE_TRY(engine::view_container(cs, id));
  if (v.running() || v.status() == "paused") {
    if (!rec.runtime.empty() && rec.runtime != "guise")
      return sys::user_error("container " + id + " runs on runtime " + rec.runtime + ": update of a running container goes through the guise library only so far");
    GUISE_TRY(runtime::update_resources(runtime_globals(cs), id, change));
  }
  // The bundle's spec: the limits a later start applies.
  std::string spec_path = cs.paths(id).bundle() + "/config.json";
  auto text = GUISE_TRY(sys::read_file(spec_path));
  auto spec = GUISE_TRY(oci::parse_spec(text, spec_path));
  if (spec.linux) spec.linux->resources = runtime::merge_resources(spec.linux->resources.value_or(oci::Resources{}), change);
  GUISE_TRY(engine::write_file_atomic(spec_path, oci::spec_json(spec)));
  if (!f.restart.empty()) {
    auto mc_text = GUISE_TRY(sys::read_file(cs.paths(id).monitor_config()));
    auto mc = GUISE_TRY(engine::parse_monitor_config(mc_text));
    mc.restart_policy = h["RestartPolicy"].value("Name", "no");
    mc.restart_max_retries = h["RestartPolicy"].value("MaximumRetryCount", 0);
    GUISE_TRY(engine::write_file_atomic(cs.paths(id).monitor_config(), GUISE_TRY(engine::monitor_config_json(mc))));
  }
  rec.host_config = std::move(h);
  return cs.write_record(rec);
}

}  // namespace

void register_update_command(CLI::App& app, Context& ctx) {
  static UpdateFlags f;
  for (auto* c : {app.add_subcommand("update", "Update configuration of one or more containers"),
                  app.get_subcommand("container")->add_subcommand("update", "Update configuration of one or more containers")}) {
    c->add_option("-m,--memory", f.memory, "memory limit");
    c->add_option("--memory-swap", f.memory_swap, "memory plus swap; -1 for unlimited");
    c->add_option("--memory-reservation", f.memory_reservation, "memory soft limit");
    c->add_option("--cpus", f.cpus, "number of CPUs");
    c->add_option("-c,--cpu-shares", f.cpu_shares, "CPU shares (relative weight)");
    c->add_option("--cpu-period", f.cpu_period, "CFS period");
    c->add_option("--cpu-quota", f.cpu_quota, "CFS quota");
    c->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)");
    c->add_option("--cpuset-mems", f.cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)");
    c->add_option("--pids-limit", f.pids_limit, "tune the pids limit (-1 for unlimited)");
    c->add_option("--blkio-weight", f.blkio_weight, "block IO weight (10 to 1000, 0 to disable)");
    c->add_option("--restart", f.restart, "restart policy when a container exits");
    c->add_option("CONTAINER", f.names)->required();
    c->callback([&ctx] {
      auto cs = open_containers(ctx);
      if (!cs) return ctx.fail(cs.error());
      for (const auto& n : f.names) {
        auto id = cs->resolve(n);
        if (!id) {
          ctx.fail(id.error());
          continue;
        }
        auto r = update_one(*cs, *id, f);
        if (!r) {
          ctx.fail(std::move(r.error()).with_context("Cannot update container " + n));
          continue;
        }
        std::printf("%s\n", n.c_str());
      }
    });
  }
}

}  // namespace guise::cli
