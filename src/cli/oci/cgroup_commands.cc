// `update` and `events`: flags as runc 1.1 takes them.
#include <cstdio>
#include <string>

#include "cli/common/duration.h"
#include "cli/common/log.h"
#include "cli/oci/commands.h"
#include "cli/oci/events_json.h"
#include "cli/oci/update_flags.h"
#include "runtime/runtime.h"

namespace guise::cli {

namespace {

struct StringFlag {
  std::string value;
  CLI::Option* option = nullptr;
  std::optional<std::string> get() const {
    return option && option->count() ? std::optional<std::string>(value) : std::nullopt;
  }
};

void register_update(CLI::App& app, Options& opt) {
  static UpdateFlags o;
  static std::string id;
  static StringFlag memory, reservation, swap, kmem, kmem_tcp, period, quota, share, rt_period, rt_runtime, cpus, mems,
      l3, mba;
  static int64_t pids = 0;
  static uint64_t blkio = 0;
  auto* sub = app.add_subcommand("update", "update the resource limits of a running container");
  sub->add_option("-r,--resources", o.resources,
                  "a file with the linux.resources JSON to apply, or - for stdin (the other flags are ignored then)");
  auto* blkio_opt = sub->add_option("--blkio-weight", blkio, "block IO weight, 10 to 1000");
  auto str = [&](StringFlag& f, const char* name, const char* help) { f.option = sub->add_option(name, f.value, help); };
  str(period, "--cpu-period", "CPU CFS period in usecs (0: keep)");
  str(quota, "--cpu-quota", "CPU CFS quota in usecs per period (-1: none)");
  str(share, "--cpu-share", "CPU shares (relative weight)");
  str(rt_period, "--cpu-rt-period", "CPU realtime period in usecs");
  str(rt_runtime, "--cpu-rt-runtime", "CPU realtime runtime in usecs per period");
  str(cpus, "--cpuset-cpus", "CPUs to use (0-3, 0,1)");
  str(mems, "--cpuset-mems", "memory nodes to use (0-3, 0,1)");
  str(kmem, "--kernel-memory", "kernel memory limit (v1 kernels that still have it)");
  str(kmem_tcp, "--kernel-memory-tcp", "kernel TCP buffer limit (v1 kernels that still have it)");
  str(memory, "--memory", "memory limit (64m, 1g; -1: none)");
  str(reservation, "--memory-reservation", "memory soft limit");
  str(swap, "--memory-swap", "memory+swap limit; -1: unlimited swap");
  auto* pids_opt = sub->add_option("--pids-limit", pids, "maximum number of pids (-1: none)");
  str(l3, "--l3-cache-schema", "Intel RDT L3 schema (not supported)");
  str(mba, "--mem-bw-schema", "Intel RDT memory bandwidth schema (not supported)");
  sub->add_option("id", id, "container id")->required();
  sub->callback([&opt, blkio_opt, pids_opt] {
    if (!prepare(opt)) return;
    o.memory = memory.get();
    o.memory_reservation = reservation.get();
    o.memory_swap = swap.get();
    o.kernel_memory = kmem.get();
    o.kernel_memory_tcp = kmem_tcp.get();
    o.cpu_period = period.get();
    o.cpu_quota = quota.get();
    o.cpu_share = share.get();
    o.cpu_rt_period = rt_period.get();
    o.cpu_rt_runtime = rt_runtime.get();
    o.cpuset_cpus = cpus.get();
    o.cpuset_mems = mems.get();
    o.l3_cache_schema = l3.get();
    o.mem_bw_schema = mba.get();
    if (pids_opt->count()) o.pids_limit = pids;
    if (blkio_opt->count()) o.blkio_weight = blkio;
    auto change = update_request(o);
    auto r = change.ok() ? runtime::update_resources(opt.globals, id, change.value()) : Result<void>(change.error());
    if (!r.ok()) {
      log_error(r.error().message());
      opt.exit_code = 1;
    }
  });
}

void register_events(CLI::App& app, Options& opt) {
  static std::string id, interval = "5s";
  static bool stats_once = false;
  auto* sub = app.add_subcommand("events", "print a container's resource usage and OOM events as JSON lines");
  sub->add_flag("--stats", stats_once, "print the stats once and exit");
  sub->add_option("--interval", interval, "time between stats (default 5s)");
  sub->add_option("id", id, "container id")->required();
  sub->callback([&opt] {
    if (!prepare(opt)) return;
    auto d = parse_duration(interval);
    if (!d.ok()) {
      log_error(d.error().message());
      opt.exit_code = 1;
      return;
    }
    if (d->count() <= 0) {
      log_error("duration interval must be greater than 0");
      opt.exit_code = 1;
      return;
    }
    auto emit = [](const std::string& line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    };
    Result<void> r;
    if (stats_once) {
      auto stats = runtime::container_stats(opt.globals, id);
      if (stats.ok()) emit(stats_event(id, *stats));
      else r = std::move(stats.error()).with_context("reading stats");
    } else {
      runtime::WatchCallbacks cb;
      cb.stats_interval = *d;
      cb.on_stats = [&](const cgroups::Stats& s) { emit(stats_event(id, s)); };
      cb.on_oom = [&] { emit(oom_event(id)); };
      r = runtime::watch_container(opt.globals, id, cb);
    }
    if (!r.ok()) {
      log_error(r.error().message());
      opt.exit_code = 1;
    }
  });
}

}  // namespace

void register_cgroup_commands(CLI::App& app, Options& opt, const Only& only) {
  if (only.wants("update")) register_update(app, opt);
  if (only.wants("events")) register_events(app, opt);
}

}  // namespace guise::cli
