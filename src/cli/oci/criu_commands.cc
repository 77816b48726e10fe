// `checkpoint` and `restore`: runc 1.1's flags. The subset engines use is carried out;
// the rest is refused by name, never dropped.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/common/log.h"
#include "cli/oci/commands.h"
#include "runtime/runtime.h"

namespace guise::cli {

namespace {

// A runc flag this build does not carry out: registered, so that giving it is refused
// with its name instead of "unknown flag".
struct Unsupported {
  std::vector<std::pair<std::string, CLI::Option*>> options;
  void flag(CLI::App* sub, const char* names, const char* help) {
    static bool sink;
    options.emplace_back(names, sub->add_flag(names, sink, help));
  }
  void option(CLI::App* sub, const char* names, const char* help) {
    static std::string sink;
    options.emplace_back(names, sub->add_option(names, sink, help));
  }
  // The first one given, by its long name.
  std::string given() const {
    for (const auto& [name, o] : options)
      if (o->count()) return name;
    return "";
  }
};

void add_criu_flags(CLI::App* sub, runtime::CriuFlags& f, std::vector<std::string>& empty_ns) {
  sub->add_option("--image-path", f.image_path, "path for criu image files (default: ./checkpoint)");
  sub->add_option("--work-path", f.work_path, "path for criu's work files and log (default: the image path)");
  sub->add_flag("--tcp-established", f.tcp_established, "allow open tcp connections");
  sub->add_flag("--ext-unix-sk", f.ext_unix_sk, "allow external unix sockets");
  sub->add_flag("--shell-job", f.shell_job, "allow shell jobs");
  sub->add_flag("--file-locks", f.file_locks, "handle file locks, for safety");
  sub->add_option("--manage-cgroups-mode", f.manage_cgroups_mode, "cgroups mode: 'soft' (default), 'full' and 'strict'");
  sub->add_option("--empty-ns", empty_ns, "create a namespace, but don't restore its properties (network only)");
}

// What runc checks of the flags before it looks at the container.
Result<void> check_criu_flags(const char* command, runtime::CriuFlags& f, const std::vector<std::string>& empty_ns,
                              const Unsupported& unsupported, const std::string& criu) {
  if (auto name = unsupported.given(); !name.empty())
    return sys::user_error(std::string(command) + ": " + name + " is not supported by guise-oci");
  const auto& mode = f.manage_cgroups_mode;
  if (!mode.empty() && mode != "soft" && mode != "full" && mode != "strict")
    return sys::user_error("--manage-cgroups-mode: invalid manage cgroups mode \"" + mode +
                           "\" (soft, full or strict)");
  // The network namespace is always made empty (runc's fixed choice): naming it changes nothing.
  for (const auto& ns : empty_ns)
    if (ns != "network") return sys::user_error("--empty-ns: namespace \"" + ns + "\" is not supported");
  f.image_path = absolute_path(f.image_path.empty() ? std::string("checkpoint") : f.image_path);
  f.work_path = absolute_path(f.work_path);
  if (!criu.empty()) f.criu = criu;
  return Ok();
}

int report(const Error& e) {
  log_error(e.message());
  return 1;
}

void register_checkpoint(CLI::App& app, Options& opt) {
  static runtime::CheckpointOptions o;
  static std::vector<std::string> empty_ns;
  static Unsupported unsupported;
  static std::string id;
  auto* sub = app.add_subcommand("checkpoint", "checkpoint a running container (through criu)");
  add_criu_flags(sub, o, empty_ns);
  sub->add_flag("--leave-running", o.leave_running, "leave the process running after checkpointing");
  unsupported.option(sub, "--parent-path", "path for previous criu image files in pre-dump (not supported)");
  unsupported.flag(sub, "--pre-dump", "dump memory information only (not supported)");
  unsupported.flag(sub, "--lazy-pages", "use userfaultfd to lazily restore memory pages (not supported)");
  unsupported.option(sub, "--status-fd", "criu writes \\0 to this FD once lazy-pages is ready (not supported)");
  unsupported.option(sub, "--page-server", "ADDRESS:PORT of the page server (not supported)");
  unsupported.flag(sub, "--auto-dedup", "enable auto deduplication of memory images (not supported)");
  sub->add_option("id", id, "container id")->required();
  sub->callback([&opt] {
    if (!prepare(opt)) return;
    auto r = check_criu_flags("checkpoint", o, empty_ns, unsupported, opt.criu);
    if (r.ok()) r = runtime::checkpoint_container(opt.globals, id, o);
    if (!r.ok()) opt.exit_code = report(r.error());
  });
}

void register_restore(CLI::App& app, Options& opt) {
  static runtime::RestoreOptions o;
  static std::vector<std::string> empty_ns;
  static Unsupported unsupported;
  static bool detach = false, no_subreaper = false, no_pivot = false;
  auto* sub = app.add_subcommand("restore", "restore a container from a checkpoint (through criu)");
  add_criu_flags(sub, o, empty_ns);
  sub->add_option("-b,--bundle", o.bundle, "path to the bundle directory (default: current directory)");
  sub->add_option("--console-socket", o.console_socket, "AF_UNIX socket that receives the pty master");
  sub->add_option("--pid-file", o.pid_file, "file to write the restored init's pid to");
  sub->add_flag("-d,--detach", detach, "detach from the container's process");
  // No subreaper is used, and criu restores the mount tree itself: both change nothing.
  sub->add_flag("--no-subreaper", no_subreaper, "accepted; guise-oci uses no subreaper");
  sub->add_flag("--no-pivot", no_pivot, "accepted; criu restores the container's root itself");
  unsupported.flag(sub, "--auto-dedup", "enable auto deduplication of memory images (not supported)");
  unsupported.flag(sub, "--lazy-pages", "use userfaultfd to lazily restore memory pages (not supported)");
  unsupported.option(sub, "--lsm-profile", "LSM profile for the restored process (not supported)");
  unsupported.option(sub, "--lsm-mount-context", "LSM mount context for the restore (not supported)");
  sub->add_option("id", o.id, "container id")->required();
  sub->callback([&opt] {
    if (!prepare(opt)) return;
    auto checked = check_criu_flags("restore", o, empty_ns, unsupported, opt.criu);
    if (!checked.ok()) {
      opt.exit_code = report(checked.error());
      return;
    }
    o.pid_file = absolute_path(o.pid_file);
    o.bundle = absolute_path(o.bundle);
    auto restored = runtime::restore_container(opt.globals, o);
    if (!restored.ok()) {
      opt.exit_code = report(restored.error());
      return;
    }
    if (detach) return;
    auto code = runtime::supervise(restored->pid, restored->pidfd.get(), -1);
    auto removed = runtime::remove_created(opt.globals, restored.value());
    if (!removed.ok() && code.ok()) code = std::move(removed.error());
    if (!code.ok()) opt.exit_code = report(code.error());
    else opt.exit_code = code.value();
  });
}

}  // namespace

void register_criu_commands(CLI::App& app, Options& opt, const Only& only) {
  if (only.wants("checkpoint")) register_checkpoint(app, opt);
  if (only.wants("restore")) register_restore(app, opt);
}

}  // namespace guise::cli
