#include "cli/guise/container_common.h"

#include <cstdio>
#include <iostream>

#include <fcntl.h>
#include <poll.h>
#include <linux/openat2.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/common/signal.h"
#include "cli/guise/human.h"
#include "cli/guise/container_network.h"
#include "engine/events.h"
#include "image/store.h"
#include "sys/log.h"
#include "sys/syscalls.h"

namespace guise::cli {

bool confirm(const char* warning) {
  std::printf("%s\nAre you sure you want to continue? [y/N] ", warning);
  std::fflush(stdout);
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y";
}

std::string store_root(const Context& ctx) {
  return ctx.globals.root.empty() ? image::Store::default_root() : ctx.globals.root;
}

namespace {

// What a `create` killed before its record left: its rootfs, its names, its directory.
// Every container command passes here first; with nothing abandoned it costs one readdir.
void collect_abandoned_creates(const Context& ctx, engine::ContainerStore& cs) {
  auto ids = cs.abandoned_ids();
  if (!ids || ids->empty()) return;
  auto store = ctx.open_store();
  for (const auto& id : *ids) {
    sys::debug("removing container " + id + ", left half-made by a create that was killed");
    if (store) (void)store->remove_rootfs(id);
    cs.release_names_of(id);
    (void)cs.remove_dir(id);
  }
}

}  // namespace

Result<engine::ContainerStore> open_containers(const Context& ctx) {
  auto cs = GUISE_TRY(engine::ContainerStore::open(store_root(ctx)));
  collect_abandoned_creates(ctx, cs);
  return cs;
}

runtime::Globals runtime_globals(const engine::ContainerStore& cs) {
  runtime::Globals g;
  g.root = cs.runtime_root();
  return g;
}

Result<std::unique_ptr<engine::OciRuntime>> container_runtime(const engine::ContainerStore& cs, const std::string& id) {
  auto rec = cs.read_record(id);
  return engine::runtime_for(rec ? rec->runtime : "", runtime_globals(cs));
}

std::function<void(int)> signal_forwarder(const engine::ContainerStore& cs, const std::string& id) {
  return [&cs, id](int sig) {
    if (auto rt = container_runtime(cs, id)) (void)(*rt)->kill(id, sig, false);
  };
}

std::string status_line(const engine::ContainerView& v, int64_t now) {
  std::string st = v.status();
  auto ago = [&](const std::string& t) {
    auto s = parse_rfc3339(t);
    return s ? human_duration(now - *s) : std::string("N/A");
  };
  std::string health;
  if (!v.state.health_status.empty())
    health = " (" + std::string(v.state.health_status == "starting" ? "health: starting" : v.state.health_status) + ")";
  if (st == "running") return "Up " + ago(v.state.started_at) + health;
  if (st == "paused") return "Up " + ago(v.state.started_at) + " (Paused)";
  if (st == "restarting") return "Restarting (" + std::to_string(v.state.exit_code) + ") " + ago(v.state.finished_at) + " ago";
  if (st == "exited") return "Exited (" + std::to_string(v.state.exit_code) + ") " + ago(v.state.finished_at) + " ago";
  if (st == "dead") return "Dead";
  return "Created";
}

std::string read_in_rootfs(const std::string& rootfs, const std::string& path) {
  sys::Fd root(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return {};
  auto fd = sys::openat2(root.get(), path, O_RDONLY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (!fd) return {};
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd->get(), buf, sizeof buf)) > 0 && out.size() < (4 << 20)) out.append(buf, static_cast<size_t>(n));
  return out;
}

Result<void> signal_container(const engine::ContainerStore& cs, const std::string& id, int signal, bool all,
                              const char* by) {
  std::string marker = cs.paths(id).dir + "/stopping";
  // One line per request, appended: the monitor reads them at the exit to tell a stop, a
  // kill and a stop timeout apart (ExitFacts::stop_requests).
  sys::Fd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (fd.valid()) (void)sys::write_all(fd.get(), std::to_string(signal) + " " + by + "\n", "write stopping");
  auto rt = GUISE_TRY(container_runtime(cs, id));
  GUISE_TRY(rt->kill(id, signal, all));
  engine::record_container_event(cs.root(), id, "kill", {{"signal", std::to_string(signal)}});
  return Ok();
}

bool wait_for_exit(int pidfd, int timeout_ms) {
  pollfd p{pidfd, POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  return n > 0;
}

bool wait_not_running(const engine::ContainerStore& cs, const std::string& id, int timeout_ms) {
  auto start = std::chrono::steady_clock::now();
  // Looked at after 1, 2, 4, 8 ms, then every 20: a killed container is down and recorded
  // by its monitor within a few ms, and a fixed 20 ms step made that most of an `rm -f`.
  int step_ms = 1;
  for (;;) {
    auto v = engine::view_container(cs, id);
    if (!v || !v->running() || !v->monitor_alive) return true;
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (timeout_ms >= 0 && waited.count() >= timeout_ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
    step_ms = std::min(step_ms * 2, 20);
  }
}

Result<void> stop_container(const engine::ContainerStore& cs, const std::string& id, int signal, int timeout_s) {
  auto v = GUISE_TRY(engine::view_container(cs, id));
  if (!v.running()) {
    // Restarting between runs: the marker alone keeps it down.
    sys::Fd fd(::open((cs.paths(id).dir + "/stopping").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    return Ok();
  }
  uint64_t netns = container_netns_inode(cs, id);  // this run's: a restart meanwhile keeps its own
  auto r = signal_container(cs, id, signal, false, "stop");
  if (!r && !r.error().is(sys::ErrorKind::kNotFound) && !r.error().is(sys::ErrorKind::kWrongState)) return r;
  if (!wait_not_running(cs, id, timeout_s * 1000)) {
    (void)signal_container(cs, id, SIGKILL, true, "stop-timeout");
    if (!wait_not_running(cs, id, 10000)) return sys::Error{0, "container " + id + " did not stop after SIGKILL", {}, {}, sys::ErrorKind::kSystem, {}};
  }
  // Its network goes before stop returns (the monitor's exit command does the same, later).
  return teardown_container_network(cs, id, netns);
}

Result<void> remove_container_fully(Context& ctx, engine::ContainerStore& cs, const std::string& id, bool force,
                                    bool volumes) {
  // One removal at a time, and none while a start sets the container up.
  auto removing = GUISE_TRY(cs.lock_container(id));
  auto v = GUISE_TRY(engine::view_container(cs, id));
  if ((v.status() == "running" || v.status() == "paused" || v.status() == "restarting") && !force)
    return sys::wrong_state("cannot remove container \"/" + v.record.name + "\": container is " + v.status() +
                            ": stop the container before removing or force remove");
  auto rt = GUISE_TRY(container_runtime(cs, id));
  if (v.running()) {
    if (v.paused) (void)rt->resume(id);
    (void)signal_container(cs, id, SIGKILL, true, "rm");
    wait_not_running(cs, id, 10000);
  }
  // A monitor still alive (waiting to restart, or stuck): it was started by guise for
  // this container, and nothing else has its pid (monitor.pid and state.json say so).
  if (v.monitor_alive && v.state.monitor_pid > 0) {
    // Waited on through a pidfd: it turns readable at the exit, while kill(pid, 0) would
    // go on succeeding until whoever is its parent reaps the zombie.
    auto pidfd = sys::pidfd_open(v.state.monitor_pid);
    ::kill(v.state.monitor_pid, SIGKILL);
    if (pidfd) wait_for_exit(pidfd->get(), 2000);
  }
  auto removed = rt->remove(id, true);
  if (!removed && !removed.error().is(sys::ErrorKind::kNotFound)) return removed;
  GUISE_TRY(release_container_network(cs, id), "removing the network of container " + v.record.name);
  auto store = GUISE_TRY(ctx.open_store());
  auto rootfs = store.remove_rootfs(id);
  if (!rootfs && !rootfs.error().is(sys::ErrorKind::kNotFound)) return rootfs;
  cs.release_name(v.record.name, id);
  GUISE_TRY(cs.remove_dir(id));
  engine::record_container_event(cs.root(), id, "destroy", {{"name", v.record.name}, {"image", v.record.image}});
  if (volumes) {
    // Anonymous volumes are named by 64 random hex digits; a named one is the user's to remove.
    for (const auto& m : v.record.mounts) {
      std::string name = m.value("Name", "");
      if (m.value("Type", "") != "volume" || name.size() != 64 ||
          name.find_first_not_of("0123456789abcdef") != std::string::npos)
        continue;
      std::error_code ec;
      std::filesystem::remove_all(cs.root() + "/volumes/" + name, ec);
    }
  }
  return Ok();
}

}  // namespace guise::cli
