#include "cli/oci/commands.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cli/common/log.h"
#include "cli/common/signal.h"
#include "cli/oci/ps_table.h"
#include "oci/parse.h"
#include "runtime/runtime.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

int report(const Error& e) {
  log_error(e.message());
  return 1;
}

template <class T>
bool failed(Options& opt, Result<T>& r) {
  if (r.ok()) return false;
  opt.exit_code = report(r.error());
  return true;
}

// runc's OWNER: the user owning the container's state directory, "#UID" when unnamed.
// /etc/passwd is read directly: this binary is static, without NSS.
std::string owner_name(const std::string& state_dir) {
  struct stat sb {};
  if (::stat(state_dir.c_str(), &sb) < 0) return "";
  if (sb.st_uid == 0) return "root";
  auto passwd = sys::read_file("/etc/passwd");
  std::string uid = std::to_string(sb.st_uid);
  if (passwd.ok()) {
    std::istringstream lines(passwd.value());
    for (std::string line; std::getline(lines, line);) {
      auto c1 = line.find(':'), c2 = line.find(':', c1 + 1), c3 = line.find(':', c2 + 1);
      if (c3 != std::string::npos && line.compare(c2 + 1, c3 - c2 - 1, uid) == 0) return line.substr(0, c1);
    }
  }
  return "#" + uid;
}

// runc's tabwriter: minwidth 12, padding 3; the last column is not padded.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i + 1 < r.size(); ++i) width[i] = std::max(width[i], std::max<size_t>(12, r[i].size() + 3));
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size(), ' ');
    }
    std::cout << line << "\n";
  }
}

void add_create_flags(CLI::App* sub, runtime::CreateOptions& c) {
  sub->add_option("-b,--bundle", c.bundle, "path to the bundle directory (default: current directory)");
  sub->add_option("--pid-file", c.pid_file, "file to write the container init's pid to");
  sub->add_option("--console-socket", c.console_socket, "AF_UNIX socket that receives the pty master");
  sub->add_flag("--no-pivot", c.no_pivot, "use MS_MOVE and chroot instead of pivot_root");
  sub->add_flag("--no-new-keyring", c.no_new_keyring, "keep the caller's session keyring");
  sub->add_option("--preserve-fds", c.preserve_fds, "pass N extra fds (3..3+N-1) to the container");
}

// LISTEN_FDS from a socket-activating parent are passed on, as runc does.
void add_listen_fds(runtime::CreateOptions& c) {
  if (const char* n = ::getenv("LISTEN_FDS")) c.preserve_fds += std::atoi(n);
}

void register_lifecycle(CLI::App& app, Options& opt, const Only& only) {
  if (only.wants("create")) {
    static runtime::CreateOptions create;
    auto* sub = app.add_subcommand("create", "create a container");
    add_create_flags(sub, create);
    sub->add_option("id", create.id, "container id")->required();
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      create.pid_file = absolute_path(create.pid_file);
      add_listen_fds(create);
      auto r = runtime::create_container(opt.globals, create);
      failed(opt, r);
    });
  }

  if (only.wants("start")) {
    static std::string start_id;
    auto* sub = app.add_subcommand("start", "start a created container");
    sub->add_option("id", start_id)->required();
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      auto r = runtime::start_container(opt.globals, start_id);
      failed(opt, r);
    });
  }

  if (only.wants("run")) {
    static runtime::CreateOptions run;
    static bool detach = false, keep = false;
    auto* sub = app.add_subcommand("run", "create and start a container");
    add_create_flags(sub, run);
    sub->add_flag("-d,--detach", detach, "detach from the container's process");
    sub->add_flag("--keep", keep, "do not delete the container after it exits");
    sub->add_option("id", run.id)->required();
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      run.pid_file = absolute_path(run.pid_file);
      add_listen_fds(run);
      // In the foreground, runc proxies the terminal itself unless a socket takes it.
      run.keep_terminal_master = !detach && run.console_socket.empty();
      auto created = runtime::run_container(opt.globals, run);
      if (failed(opt, created) || detach) return;
      auto code = runtime::supervise(created->pid, created->pidfd.get(), created->terminal_master.get());
      if (!keep) {
        auto removed = runtime::remove_created(opt.globals, created.value());
        if (!removed.ok() && code.ok()) code = std::move(removed.error());
      }
      if (!failed(opt, code)) opt.exit_code = code.value();
    });
  }

  if (only.wants("state")) {
    static std::string state_id;
    auto* sub = app.add_subcommand("state", "print the state of a container");
    sub->add_option("id", state_id)->required();
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      auto r = runtime::container_state(opt.globals, state_id);
      if (!failed(opt, r)) std::cout << runtime::state_json(r->state, r->status) << "\n";
    });
  }

  if (only.wants("kill")) {
    static std::string kill_id, kill_signal = "SIGTERM";
    static bool kill_all = false;
    auto* sub = app.add_subcommand("kill", "send a signal to a container's init (default SIGTERM)");
    sub->add_flag("-a,--all", kill_all, "send the signal to every process in the container");
    sub->add_option("id", kill_id)->required();
    sub->add_option("signal", kill_signal);
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      auto sig = parse_signal(kill_signal);
      if (failed(opt, sig)) return;
      auto r = runtime::kill_container(opt.globals, kill_id, sig.value(), kill_all);
      failed(opt, r);
    });
  }

  if (only.wants("delete")) {
    static std::string delete_id;
    static bool delete_force = false;
    auto* sub = app.add_subcommand("delete", "delete a container and everything it holds");
    sub->add_flag("-f,--force", delete_force, "kill the container first if it is running");
    sub->add_option("id", delete_id)->required();
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      auto r = runtime::remove_container(opt.globals, delete_id, delete_force);
      if (!r.ok() && delete_force && r.error().is(sys::ErrorKind::kNotFound)) return;  // runc: --force on a missing id is fine
      failed(opt, r);
    });
  }

  if (only.wants("pause")) {
    static std::string pause_id;
    auto* sub = app.add_subcommand("pause", "suspend every process in a container");
    sub->add_option("id", pause_id)->required();
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      auto r = runtime::pause_container(opt.globals, pause_id);
      failed(opt, r);
    });
  }
  if (only.wants("resume")) {
    static std::string resume_id;
    auto* sub = app.add_subcommand("resume", "resume a paused container");
    sub->add_option("id", resume_id)->required();
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      auto r = runtime::resume_container(opt.globals, resume_id);
      failed(opt, r);
    });
  }
}

void register_queries(CLI::App& app, Options& opt, const Only& only) {
  if (only.wants("list", "ls")) {
    static bool list_quiet = false;
    static std::string list_format = "table";
    auto* sub = app.add_subcommand("list", "list containers");
    sub->alias("ls");
    sub->add_flag("-q,--quiet", list_quiet, "print only ids");
    sub->add_option("-f,--format", list_format, "table or json")->check(CLI::IsMember({"table", "json"}));
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      auto entries = runtime::list_containers(opt.globals);
      if (list_quiet) {
        for (const auto& e : entries) std::cout << e.state.id << "\n";
        return;
      }
      log_debug("list: " + std::to_string(entries.size()) + " container(s) under " + opt.globals.root);
      if (list_format == "json") {
        if (entries.empty()) {
          std::cout << "null\n";
          return;
        }
        // runc's keys in runc's order (the state's, owner filled in).
        nlohmann::ordered_json arr = nlohmann::ordered_json::array();
        for (const auto& e : entries) {
          auto j = nlohmann::ordered_json::parse(runtime::state_json(e.state, e.status, false));
          j["owner"] = owner_name(opt.globals.root + "/" + e.state.id);
          arr.push_back(std::move(j));
        }
        std::cout << arr.dump() << "\n";
        return;
      }
      std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
      for (const auto& e : entries)
        rows.push_back({e.state.id, std::to_string(e.status == runtime::Status::kStopped ? 0 : e.state.pid),
                        runtime::status_name(e.status), e.state.bundle, e.state.created,
                        owner_name(opt.globals.root + "/" + e.state.id)});
      print_table(rows);
    });
  }

  if (only.wants("ps")) {
    static std::string ps_format = "table";
    auto* sub = app.add_subcommand("ps", "list the processes running in a container");
    sub->add_option("-f,--format", ps_format, "table or json")->check(CLI::IsMember({"table", "json"}));
    sub->prefix_command();
    sub->allow_extras();
    sub->callback([&opt, sub] {
      if (!prepare(opt)) return;
      auto rest = sub->remaining();
      if (rest.empty()) {
        opt.exit_code = report(sys::user_error("ps: a container id is required"));
        return;
      }
      auto pids = runtime::container_pids(opt.globals, rest[0]);
      if (failed(opt, pids)) return;
      if (ps_format == "json") {
        std::cout << nlohmann::json(pids.value()).dump() << "\n";
        return;
      }
      std::vector<std::string> args(rest.begin() + 1, rest.end());
      if (args.empty()) args = {"-ef"};
      auto table = ps_table(pids.value(), args);
      if (!failed(opt, table)) std::cout << table.value();
    });
  }

  if (only.wants("features")) {
    auto* sub = app.add_subcommand("features", "print the features this build and kernel support (JSON)");
    sub->callback([&opt] {
      if (!prepare(opt)) return;
      log_debug("features: what this build and this kernel support");
      std::cout << runtime::features_json() << "\n";
    });
  }

  if (only.wants("spec")) {
    static bool spec_rootless = false;
    static std::string spec_bundle;
    auto* sub = app.add_subcommand("spec", "write a new default config.json");
    sub->add_flag("--rootless", spec_rootless, "a config for a rootless container");
    sub->add_option("-b,--bundle", spec_bundle, "where to write config.json");
    sub->callback([&opt] {
      configure_log("guise-oci", opt.log_path, opt.log_format, opt.debug);
      std::string path = (spec_bundle.empty() ? std::string(".") : spec_bundle) + "/config.json";
      log_debug("spec: writing a " + std::string(spec_rootless ? "rootless " : "") + "default config to " + path);
      if (::access(path.c_str(), F_OK) == 0) {
        opt.exit_code = report(sys::user_error("File " + path + " exists. Remove it first"));
        return;
      }
      auto r = sys::write_file(path, oci::default_spec_json(spec_rootless), O_CREAT | O_EXCL, 0666);
      failed(opt, r);
    });
  }
}

}  // namespace

std::string absolute_path(const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return p;
  return std::string(cwd) + "/" + p;
}

bool prepare(Options& opt) {
  configure_log("guise-oci", opt.log_path, opt.log_format, opt.debug);
  opt.globals.rootless = opt.rootless == "true" || (opt.rootless == "auto" && runtime::unprivileged());
  if (opt.globals.root.empty()) opt.globals.root = runtime::default_state_root();
  if (opt.systemd_cgroup) {
    bool running = ::access("/run/systemd/system", F_OK) == 0;
    opt.exit_code = report(sys::user_error(
        running ? "--systemd-cgroup: the systemd cgroup driver is not in this build; configure the engine "
                  "for the cgroupfs driver"
                : "--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); "
                  "use the cgroupfs driver"));
    return false;
  }
  return true;
}

void register_commands(CLI::App& app, Options& opt, const Only& only) {
  register_lifecycle(app, opt, only);
  register_queries(app, opt, only);
  if (only.wants("exec")) register_exec(app, opt);
  register_cgroup_commands(app, opt, only);
  register_criu_commands(app, opt, only);
}

}  // namespace guise::cli
