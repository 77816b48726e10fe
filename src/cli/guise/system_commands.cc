// system df: what the store holds and what a prune would give back, in docker's table.
#include <CLI/CLI.hpp>
#include <cstdio>

#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cli/guise/container_common.h"
#include "cli/guise/context.h"
#include "cli/guise/human.h"
#include "cli/guise/template.h"
#include "engine/rootless_checks.h"
#include "engine/rootless_session.h"
#include "linux/userns.h"

namespace guise::cli {

namespace {

std::string reclaimable(int64_t bytes, int64_t total) {
  std::string s = human_size(bytes);
  if (total > 0) s += " (" + std::to_string(bytes * 100 / total) + "%)";
  return s;
}

struct DfFlags {
  std::string format;
};

void df(Context& ctx, const DfFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto du = store->disk_usage();
  if (!du) return ctx.fail(du.error());
  auto row = [](const char* type, int total, int active, int64_t size, std::string rec) {
    return nlohmann::json{{"Type", type},        {"TotalCount", std::to_string(total)},
                          {"Active", std::to_string(active)}, {"Size", human_size(size)},
                          {"Reclaimable", std::move(rec)}};
  };
  std::vector<nlohmann::json> rows = {
      row("Images", du->images, du->images_active, du->images_size,
          reclaimable(du->images_reclaimable, du->images_size)),
      row("Containers", du->containers, du->containers, du->rootfs_size, human_size(0)),
      row("Local Volumes", 0, 0, 0, human_size(0)),
      row("Build Cache", 0, 0, 0, human_size(0)),
  };
  auto out = format_rows(f.format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                         rows, {{"TotalCount", "TOTAL"}});
  if (!out) return ctx.fail(out.error());
  std::fputs(out->c_str(), stdout);
}

struct InfoFlags {
  std::string format;
};

// docker info's facts that mean something here: the store, the counts, the kernel and cgroups.
void info(Context& ctx, const InfoFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  int running = 0, paused = 0, stopped = 0;
  auto ids = cs->list_ids();
  for (const auto& id : ids ? *ids : std::vector<std::string>{}) {
    auto v = engine::view_container(*cs, id);
    if (!v) continue;
    if (v->status() == "paused") ++paused;
    else if (v->running()) ++running;
    else ++stopped;
  }
  auto images = store->list_images();
  bool rootless = ::geteuid() != 0;
  utsname u{};
  ::uname(&u);
  struct statfs fs {};
  bool v2 = ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
  nlohmann::json j = {{"Containers", running + paused + stopped}, {"ContainersRunning", running},
                      {"ContainersPaused", paused}, {"ContainersStopped", stopped},
                      {"Images", images ? static_cast<int>(images->size()) : 0}, {"Driver", "overlay"},
                      {"DockerRootDir", store->root()}, {"CgroupDriver", "cgroupfs"},
                      {"CgroupVersion", v2 ? "2" : "1"}, {"KernelVersion", u.release},
                      {"OperatingSystem", "Linux"}, {"OSType", "linux"}, {"Architecture", u.machine},
                      {"NCPU", static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN))},
                      {"MemTotal", static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE)},
                      {"ServerVersion", GUISE_VERSION}, {"DefaultRuntime", "guise"}, {"Name", u.nodename},
                      {"Rootless", rootless}};
  if (!f.format.empty()) {
    auto out = f.format == "json" ? Result<std::string>(j.dump() + "\n") : format_rows(f.format, "", {j}, {});
    if (!out) return ctx.fail(out.error());
    std::fputs(out->c_str(), stdout);
    return;
  }
  std::printf("Containers: %d\n Running: %d\n Paused: %d\n Stopped: %d\nImages: %d\nServer Version: %s\n"
              "Storage Driver: overlay\nCgroup Driver: cgroupfs\nCgroup Version: %s\nKernel Version: %s\n"
              "Operating System: Linux\nOSType: linux\nArchitecture: %s\nCPUs: %d\nTotal Memory: %s\n"
              "Name: %s\nDocker Root Dir: %s\n",
              running + paused + stopped, running, paused, stopped, j["Images"].get<int>(), GUISE_VERSION,
              v2 ? "2" : "1", u.release, u.machine, j["NCPU"].get<int>(),
              human_size(j["MemTotal"].get<int64_t>()).c_str(), u.nodename, store->root().c_str());
  if (rootless) std::printf("Rootless: true\n%s", engine::format_rootless_checks(engine::rootless_checks()).c_str());
}

// podman's `system migrate` for what it means here: the user's guise-pause ends, once no
// container of the user runs (their mounts live in its namespace).
void migrate(Context& ctx) {
  if (!engine::needs_rootless_namespaces()) return ctx.fail("system migrate: only a rootless user's guise has a pause process");
  auto cs = open_containers(ctx);
  if (cs) {
    auto ids = cs->list_ids();
    for (const auto& id : ids ? *ids : std::vector<std::string>{})
      if (auto v = engine::view_container(*cs, id); v && v->running())
        return ctx.fail("system migrate: container " + v->record.name + " is running; stop it first");
  }
  auto dir = engine::rootless_run_dir();
  if (!dir) return ctx.fail(dir.error());
  auto stopped = engine::stop_pause_process(*dir);
  if (!stopped) return ctx.fail(stopped.error());
}

// Everything rootless guise needs, checked for the calling user, each missing one with
// its fix; exit 1 when something required is missing.
void doctor(Context& ctx) {
  if (::geteuid() == 0 && !linux::in_rootless_session())
    std::printf("guise runs as root here and needs none of what follows; the checks are those of uid 0 "
                "as a rootless user (run `guise doctor` as the user who will run guise).\n");
  auto checks = engine::rootless_checks();
  std::printf("Rootless checks for uid %u:\n%s", ::getuid(), engine::format_rootless_checks(checks).c_str());
  for (const auto& c : checks)
    if (c.required && !c.ok) ctx.exit_code = 1;
}

}  // namespace

void register_system_commands(CLI::App& app, Context& ctx) {
  static InfoFlags inf;
  for (auto* c : {app.add_subcommand("info", "Show system-wide information")}) {
    c->add_option("-f,--format", inf.format, "json, or a Go template");
    c->callback([&ctx] { info(ctx, inf); });
  }
  static InfoFlags vf;
  auto* version = app.add_subcommand("version", "Show the guise version");
  version->add_option("-f,--format", vf.format, "json, or a Go template");
  version->callback([&ctx] {
    utsname u{};
    ::uname(&u);
    nlohmann::json client = {{"Version", GUISE_VERSION}, {"ApiVersion", "1.41"}, {"Os", "linux"},
                             {"Arch", u.machine}, {"Runtime", "guise (in process)"}};
    nlohmann::json j = {{"Client", client}};
    if (!vf.format.empty()) {
      auto out = vf.format == "json" ? Result<std::string>(j.dump() + "\n") : format_rows(vf.format, "", {j}, {});
      if (!out) return ctx.fail(out.error());
      std::fputs(out->c_str(), stdout);
      return;
    }
    std::printf("Client:\n Version:           %s\n API version:       1.41\n OS/Arch:           linux/%s\n"
                " Runtime:           guise (in process; no daemon)\n",
                GUISE_VERSION, u.machine);
  });
  auto* system = app.add_subcommand("system", "Manage guise");
  system->require_subcommand(1);
  system->add_subcommand("migrate", "End the rootless pause process (no container may run)")->callback([&ctx] {
    migrate(ctx);
  });
  app.add_subcommand("doctor", "Check what rootless guise needs, and say how to fix what is missing")->callback([&ctx] {
    doctor(ctx);
  });
  static DfFlags f;
  auto* c = system->add_subcommand("df", "Show disk usage");
  c->add_option("--format", f.format, "json, table, or a Go template");
  c->callback([&ctx] { df(ctx, f); });
}

}  // namespace guise::cli
