// watch: a running container's OOM kills and usage, until its init exits.
#include <poll.h>

#include <cerrno>

#include "runtime/container_cgroup.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "sys/log.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

using Clock = std::chrono::steady_clock;

// Waits for the first of: an OOM notification, the init's exit, the next tick.
struct Waiter {
  int pidfd = -1, oomfd = -1;
  bool init_gone = false, oom_ready = false;

  Result<void> wait_until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    struct pollfd fds[2] = {{pidfd, POLLIN, 0}, {oomfd, POLLIN, 0}};
    int n = ::poll(fds, 2, left < 0 ? 0 : static_cast<int>(left) + 1);
    if (n < 0 && errno != EINTR) return sys::sys_error("poll");
    init_gone = n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR));
    oom_ready = n > 0 && (fds[1].revents & POLLIN);
    return Ok();
  }
};

}  // namespace

Result<void> watch_container(const Globals& g, const std::string& id, const WatchCallbacks& cb) {
  if (cb.on_stats && cb.stats_interval.count() <= 0) return sys::user_error("duration interval must be greater than 0");
  ContainerState st;
  {  // the state dir's lock is held only while reading: a watch lasts as long as the container
    auto [dir, state, status] = GUISE_TRY(open_container(g.root, id));
    if (status == Status::kStopped) return sys::wrong_state("container with id " + id + " is not running");
    st = std::move(state);
  }
  auto cg = GUISE_TRY(container_cgroup(st));
  sys::debug("events: watching container " + id + " until its init, pid " + std::to_string(st.pid) + ", exits");
  sys::Fd pidfd = GUISE_TRY(sys::pidfd_open(st.pid), "watching the container's init");
  auto oom = cg->watch_oom();  // without a memory controller there is nothing to watch
  Waiter w{pidfd.get(), oom.ok() ? (*oom)->fd() : -1};
  auto report_ooms = [&]() {
    if (!oom.ok()) return;
    auto n = (*oom)->take();
    for (uint64_t i = 0; n.ok() && i < *n && cb.on_oom; ++i) cb.on_oom();
  };
  // Without a stats callback only the OOM watch and the init's exit wake the loop.
  const auto interval = cb.on_stats ? cb.stats_interval : std::chrono::nanoseconds(std::chrono::hours(24));
  auto next_tick = Clock::now() + interval;
  for (;;) {
    GUISE_TRY(w.wait_until(next_tick));
    if (w.oom_ready) report_ooms();
    if (w.init_gone) {
      report_ooms();  // a kill counted before its notification came through
      return Ok();
    }
    if (Clock::now() >= next_tick) {
      if (cb.on_stats) {
        auto stats = cg->stats();
        if (stats.ok()) cb.on_stats(*stats);  // as runc: a failed read skips a tick
      }
      next_tick += interval;
      if (next_tick < Clock::now()) next_tick = Clock::now() + interval;
    }
  }
}

}  // namespace guise::runtime
