// `exec`: flags as runc 1.1 takes them.
#include <cstdlib>
#include <sstream>

#include "cli/commands.h"
#include "cli/log.h"
#include "runtime/exec.h"

namespace guise::cli {

void register_exec(CLI::App& app, Options& opt) {
  static runtime::ExecOptions o;
  static std::vector<std::string> gids;
  static bool ignore_paused = false;
  auto* sub = app.add_subcommand("exec", "run a new process in a running container: exec [flags] ID COMMAND [ARGS...]");
  sub->add_option("-p,--process", o.process_file, "process.json giving the whole process");
  sub->add_flag("-t,--tty", o.tty, "allocate a pseudo-TTY");
  sub->add_option("--console-socket", o.console_socket, "AF_UNIX socket that receives the pty master");
  sub->add_flag("-d,--detach", o.detach, "detach from the process");
  sub->add_option("--pid-file", o.pid_file, "file to write the process's pid to");
  sub->add_option("-e,--env", o.env, "set an environment variable (KEY=VALUE)")->allow_extra_args(false);
  sub->add_option("--cwd", o.cwd, "working directory in the container");
  sub->add_option("-u,--user", o.user, "UID[:GID]");
  sub->add_option("-g,--additional-gids", gids, "additional gids")->allow_extra_args(false);
  sub->add_option("-c,--cap", o.caps, "add a capability")->allow_extra_args(false);
  sub->add_flag("--no-new-privs", o.no_new_privs, "set no_new_privs for the process");
  sub->add_option("--preserve-fds", o.preserve_fds, "pass N extra fds (3..3+N-1)");
  sub->add_option("--apparmor", o.apparmor_profile, "AppArmor profile for the process");
  sub->add_option("--process-label", o.process_label, "SELinux label for the process");
  sub->add_flag("--ignore-paused", ignore_paused, "accepted for runc compatibility");
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
    o.id = rest[0];
    o.args.assign(rest.begin() + 1, rest.end());
    if (!o.args.empty() && o.args[0] == "--") o.args.erase(o.args.begin());
    for (const auto& list : gids) {
      std::stringstream ss(list);
      std::string g;
      while (std::getline(ss, g, ',')) o.additional_gids.push_back(static_cast<uint32_t>(std::strtoul(g.c_str(), nullptr, 10)));
    }
    auto r = runtime::exec_in_container(opt.globals, o);
    if (!r.ok()) {
      log_error(r.error().message());
      opt.exit_code = 1;
      return;
    }
    opt.exit_code = r.value();
  });
}

}  // namespace guise::cli
