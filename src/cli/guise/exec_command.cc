// exec: a new process in a running container, through the runtime's exec_process (the
// container's namespaces, cgroup and confinement), with docker's flags and exit codes.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include "cli/guise/container_common.h"
#include "engine/spec_builder.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

struct ExecFlags {
  bool detach = false, interactive = false, tty = false, privileged = false;
  std::vector<std::string> env, env_file;
  std::string user, workdir;
};

// docker's codes when the command never ran: 127 not found, 126 not runnable.
int exec_failure_code(const Error& e) {
  std::string m = e.message();
  if (m.find("not found") != std::string::npos || m.find("No such file") != std::string::npos) return 127;
  return 126;
}

Result<void> add_env_file(std::vector<std::string>& env, const std::string& path) {
  std::ifstream in(path);
  if (!in) return sys::user_error("open " + path + ": no such file or directory");
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line.find('=') == std::string::npos) {
      const char* v = std::getenv(line.c_str());
      if (v) env.push_back(line + "=" + v);
      continue;
    }
    env.push_back(line);
  }
  return Ok();
}

void set_env(std::vector<std::string>& env, const std::string& kv) {
  std::string key = kv.substr(0, kv.find('='));
  for (auto& e : env)
    if (e.substr(0, e.find('=')) == key) {
      e = kv;
      return;
    }
  env.push_back(kv);
}

void exec(Context& ctx, const ExecFlags& f, std::vector<std::string> args) {
  if (args.size() < 2) return ctx.fail("\"exec\" requires at least 2 arguments: CONTAINER COMMAND [ARG...]", 125);
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error(), 125);
  auto id = cs->resolve(args[0]);
  if (!id) return ctx.fail(id.error(), 125);
  auto v = engine::view_container(*cs, *id);
  if (!v) return ctx.fail(v.error(), 125);
  if (!v->running()) return ctx.fail("container " + *id + " is not running", 125);
  if (v->paused) return ctx.fail("container " + *id + " is paused, unpause the container before exec", 125);
  if (auto rec = cs->read_record(*id); rec && !rec->runtime.empty() && rec->runtime != "guise")
    return ctx.fail("container " + *id + " runs on runtime " + rec->runtime + ": exec goes through the guise library only so far", 125);
  runtime::Globals g = runtime_globals(*cs);
  auto base = runtime::container_process(g, *id);
  if (!base) return ctx.fail(base.error(), 125);
  oci::Process p = *base;
  p.args.assign(args.begin() + 1, args.end());
  p.terminal = f.tty;
  for (const auto& file : f.env_file) {
    auto r = add_env_file(p.env, file);
    if (!r) return ctx.fail(r.error(), 125);
  }
  for (const auto& e : f.env) {
    if (e.find('=') != std::string::npos) {
      set_env(p.env, e);
    } else if (const char* val = std::getenv(e.c_str())) {
      set_env(p.env, e + "=" + val);
    }
  }
  if (f.tty) set_env(p.env, "TERM=xterm");
  if (!f.workdir.empty()) {
    if (f.workdir[0] != '/') return ctx.fail("the working directory '" + f.workdir + "' is invalid, it needs to be an absolute path", 125);
    p.cwd = f.workdir;
  }
  if (!f.user.empty()) {
    auto rec = cs->read_record(*id);
    std::string rootfs = rec ? rec->rootfs : "";
    auto u = engine::resolve_user(f.user, {}, read_in_rootfs(rootfs, "/etc/passwd"), read_in_rootfs(rootfs, "/etc/group"));
    if (!u) return ctx.fail(u.error(), 126);
    p.user = *u;
  }
  if (f.privileged) {
    auto all = engine::effective_capabilities(engine::HostConfig{.privileged = true}, {});
    if (all) {
      oci::Capabilities caps;
      caps.bounding = caps.effective = caps.permitted = *all;
      p.capabilities = caps;
    }
  }
  runtime::ExecOptions o;
  sys::Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!f.interactive && !f.tty) o.stdio.in = null.get();
  if (f.detach) o.stdio = {null.get(), null.get(), null.get()};
  o.keep_terminal_master = f.tty && !f.detach;
  auto started = runtime::exec_process(g, *id, p, o);
  if (!started) return ctx.fail(started.error(), exec_failure_code(started.error()));
  if (f.detach) {
    started->process.release();
    return;
  }
  pid_t pid = started->process.pid();
  int pidfd = started->process.pidfd();
  auto code = runtime::supervise(pid, pidfd, started->terminal_master.valid() ? started->terminal_master.get() : -1);
  started->process.release();
  if (!code) return ctx.fail(code.error(), 126);
  ctx.exit_code = *code;
}

}  // namespace

void register_exec_command(CLI::App& app, Context& ctx) {
  static ExecFlags f;
  CLI::App* container = app.get_subcommand("container");
  for (auto* c : {app.add_subcommand("exec", "Run a command in a running container"),
                  container->add_subcommand("exec", "Run a command in a running container")}) {
    c->add_flag("-d,--detach", f.detach, "run in the background");
    c->add_flag("-i,--interactive", f.interactive, "keep STDIN open");
    c->add_flag("-t,--tty", f.tty, "allocate a pseudo-TTY");
    c->add_option("-e,--env", f.env, "set environment variables");
    c->add_option("--env-file", f.env_file, "read in a file of environment variables");
    c->add_option("-u,--user", f.user, "user name or UID[:GID]");
    c->add_option("-w,--workdir", f.workdir, "working directory inside the container");
    c->add_flag("--privileged", f.privileged, "extended privileges for the command");
    c->prefix_command();
    c->callback([&ctx, c] { exec(ctx, f, c->remaining()); });
  }
}

}  // namespace guise::cli
