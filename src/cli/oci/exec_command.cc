// `exec`: flags as runc 1.1 takes them.
#include "cli/common/log.h"
#include "cli/oci/commands.h"
#include "cli/oci/exec_flags.h"
#include "oci/parse.h"
#include "runtime/runtime.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

// The process the flags ask for: a whole process.json (-p), or the container's own
// process with the flags' changes.
Result<oci::Process> requested_process(const runtime::Globals& g, const std::string& id, const ExecFlags& f) {
  if (!f.process_file.empty()) {
    auto text = GUISE_TRY(sys::read_file(f.process_file), "--process");
    return oci::parse_process(text, f.process_file);
  }
  if (f.args.empty()) return sys::user_error("exec: a command to run is required (args or --process)");
  oci::Process base = GUISE_TRY(runtime::container_process(g, id));
  return exec_process_from_flags(base, f);
}

Result<int> exec(const runtime::Globals& g, const std::string& id, const ExecFlags& f, runtime::ExecOptions o,
                 const std::vector<std::string>& cgroup_args, bool detach) {
  o.sub_cgroups = GUISE_TRY(parse_sub_cgroups(cgroup_args));
  oci::Process proc = GUISE_TRY(requested_process(g, id, f));
  if (proc.terminal && o.console_socket.empty() && detach)
    return sys::user_error("exec --tty --detach needs --console-socket to receive the terminal");
  o.keep_terminal_master = !detach && o.console_socket.empty();
  o.pid_file = absolute_path(o.pid_file);
  runtime::ExecStarted started = GUISE_TRY(runtime::exec_process(g, id, proc, o));
  if (detach) {
    started.process.release();
    return 0;
  }
  // supervise reaps the process itself: it is handed on, not killed here.
  sys::Fd pidfd = started.process.release_pidfd();
  pid_t pid = started.process.release();
  return runtime::supervise(pid, pidfd.get(), started.terminal_master.get());
}

// runc's hint where the exec was refused because the container is paused.
std::string paused_hint(const runtime::Globals& g, const std::string& id, const runtime::ExecOptions& o,
                        const Error& e) {
  if (o.ignore_paused || !e.is(sys::ErrorKind::kWrongState)) return "";
  auto info = runtime::container_state(g, id);
  return info.ok() && info->status == runtime::Status::kPaused ? " (use --ignore-paused to override)" : "";
}

}  // namespace

void register_exec(CLI::App& app, Options& opt) {
  static ExecFlags f;
  static runtime::ExecOptions o;
  static std::vector<std::string> gids, sub_cgroups;
  static bool detach = false;
  auto* sub = app.add_subcommand("exec", "run a new process in a running container");
  sub->add_option("-p,--process", f.process_file, "process.json giving the whole process");
  sub->add_flag("-t,--tty", f.tty, "allocate a pseudo-TTY");
  sub->add_option("--console-socket", o.console_socket, "AF_UNIX socket that receives the pty master");
  sub->add_flag("-d,--detach", detach, "detach from the process");
  sub->add_option("--pid-file", o.pid_file, "file to write the process's pid to");
  sub->add_option("-e,--env", f.env, "set an environment variable (KEY=VALUE)")->allow_extra_args(false);
  sub->add_option("--cwd", f.cwd, "working directory in the container");
  sub->add_option("-u,--user", f.user, "UID[:GID]");
  sub->add_option("-g,--additional-gids", gids, "additional gids")->allow_extra_args(false);
  sub->add_option("-c,--cap", f.caps, "add a capability")->allow_extra_args(false);
  sub->add_flag("--no-new-privs", f.no_new_privs, "set no_new_privs for the process");
  sub->add_option("--preserve-fds", o.preserve_fds, "pass N extra fds (3..3+N-1)");
  sub->add_option("--apparmor", f.apparmor_profile, "AppArmor profile for the process");
  sub->add_option("--process-label", f.process_label, "SELinux label for the process");
  sub->add_option("--cgroup", sub_cgroups,
                  "run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.")
      ->allow_extra_args(false);
  sub->add_flag("--ignore-paused", o.ignore_paused, "allow exec in a paused container");
  sub->prefix_command();
  sub->allow_extras();
  sub->callback([&opt, sub] {
    if (!prepare(opt)) return;
    auto rest = sub->remaining();
    if (rest.empty()) {
      log_error("exec: a container id is required");
      opt.exit_code = 1;
      return;
    }
    std::string id = rest[0];
    f.args.assign(rest.begin() + 1, rest.end());
    if (!f.args.empty() && f.args[0] == "--") f.args.erase(f.args.begin());
    auto parsed = parse_gid_lists(gids);
    if (!parsed.ok()) {
      log_error(parsed.error().message());
      opt.exit_code = 1;
      return;
    }
    f.additional_gids = std::move(parsed).take();
    auto r = exec(opt.globals, id, f, o, sub_cgroups, detach);
    if (!r.ok()) {
      // runc's words and code for an exec that could not start (its own fatal exits 1).
      log_error("exec failed: " + r.error().message() + paused_hint(opt.globals, id, o, r.error()));
      opt.exit_code = 255;
      return;
    }
    opt.exit_code = r.value();
  });
}

}  // namespace guise::cli
