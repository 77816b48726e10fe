// Drives the runtime through its typed seam (runtime/runtime.h), as the engine will:
// no command line anywhere. Prints one JSON object a line, one per step, for
// test_runtime_api.py to check from outside. Usage: runtime-api-probe ROOT BUNDLE ID
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/runtime.h"
#include "sys/log.h"

using namespace guise;
using nlohmann::json;

namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

void step(const std::string& name, json fields) {
  fields["step"] = name;
  std::cout << fields.dump() << std::endl;
}

json error_json(const Error& e) { return {{"ok", false}, {"kind", sys::kind_name(e.kind)}, {"message", e.message()}}; }

template <class T>
json outcome(const Result<T>& r) {
  return r.ok() ? json{{"ok", true}} : error_json(r.error());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: runtime-api-probe ROOT BUNDLE ID\n");
    return 2;
  }
  runtime::Globals g;
  g.root = argv[1];
  const std::string bundle = argv[2], id = argv[3];

  // run: the container's stdout is a pipe of ours.
  int out[2];
  if (::pipe2(out, O_CLOEXEC) < 0) return 1;
  runtime::CreateOptions co;
  co.id = id;
  co.bundle = bundle;
  co.stdio.out = out[1];
  auto created = runtime::run_container(g, co);
  ::close(out[1]);
  step("run", outcome(created));
  if (!created.ok()) return 1;

  auto again = runtime::run_container(g, co);
  step("run-same-id", outcome(again));

  auto info = runtime::container_state(g, id);
  step("state", {{"ok", info.ok()}, {"status", info.ok() ? runtime::status_name(info->status) : ""},
                 {"pid", info.ok() ? info->state.pid : 0}});

  // exec: an oci::Process, its stdout a pipe; the child is ours to wait for.
  auto base = runtime::container_process(g, id);
  step("container-process", outcome(base));
  if (!base.ok()) return 1;
  oci::Process p = *base;
  p.args = {"/bin/guise-testbin", "hostname"};
  p.terminal = false;
  int eout[2];
  if (::pipe2(eout, O_CLOEXEC) < 0) return 1;
  runtime::ExecOptions eo;
  eo.stdio.out = eout[1];
  auto started = runtime::exec_process(g, id, p, eo);
  ::close(eout[1]);
  json exec_step = outcome(started);
  if (started.ok()) {
    auto status = started->process.wait();
    exec_step["exit_code"] = status.ok() ? sys::exit_code(*status) : -1;
    exec_step["stdout"] = read_all(eout[0]);
  }
  step("exec", exec_step);

  auto stats = runtime::container_stats(g, id);
  step("stats", {{"ok", stats.ok()}, {"pids_current", stats.ok() && stats->pids ? stats->pids->current : 0}});

  step("remove-running", outcome(runtime::remove_container(g, id, false)));

  // watch: returns once the init exits; the kill comes from another process.
  pid_t killer = ::fork();
  if (killer == 0) {
    ::usleep(200 * 1000);
    auto r = runtime::kill_container(g, id, SIGKILL, false);
    ::_exit(r.ok() ? 0 : 1);
  }
  runtime::WatchCallbacks cb;
  int ticks = 0;
  cb.stats_interval = std::chrono::milliseconds(50);
  cb.on_stats = [&](const cgroups::Stats&) { ++ticks; };
  auto watched = runtime::watch_container(g, id, cb);
  int kstatus = 0;
  ::waitpid(killer, &kstatus, 0);
  json w = outcome(watched);
  w["stats_ticks"] = ticks;
  w["kill_ok"] = WIFEXITED(kstatus) && WEXITSTATUS(kstatus) == 0;
  step("watch", w);

  // The init is ours (run_container made it): reap it, then remove what create kept.
  int status = 0;
  ::waitpid(created->pid, &status, 0);
  step("init-exit", {{"exit_code", sys::exit_code(status)}});
  step("container-stdout", {{"text", read_all(out[0])}});
  step("remove", outcome(runtime::remove_created(g, created.value())));
  step("state-after", outcome(runtime::container_state(g, id)));
  step("remove-missing", outcome(runtime::remove_container(g, id, true)));
  return 0;
}
