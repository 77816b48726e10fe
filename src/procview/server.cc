#include "procview/server.h"

#include <poll.h>
#include <signal.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "procview/fuse_server.h"
#include "procview/render.h"
#include "procview/sysinfo_agent.h"
#include "procview/wire.h"
#include "sys/idle_memory.h"
#include "sys/syscalls.h"

namespace guise::procview {

namespace {

std::string host_file(const char* path) {
  auto r = sys::read_file(path);
  return r.ok() ? std::move(r).take() : std::string();
}

class Server {
 public:
  Server(Source src, sys::Fd fuse, sys::Fd watcher)
      : src_(std::move(src)), fuse_(std::move(fuse), [this](File f) { return render(f); }), watcher_(std::move(watcher)) {}
  [[noreturn]] void run();

 private:
  std::string render(File f);
  View view(unsigned need);
  void start_sampling();
  void on_watcher();

  Source src_;
  FuseServer fuse_;
  sys::Fd watcher_, init_, timer_;
  std::vector<sys::Fd> notify_;  // one per filter: the init's, each exec's
  Sampler sampler_;
  long hz_ = ::sysconf(_SC_CLK_TCK);
};

View Server::view(unsigned need) {
  View v = read_view(src_, need);
  sampler_.fill(v);
  return v;
}

// The load average is sampled from the first time something asks for it on, so a
// container nobody asks costs no periodic work.
void Server::start_sampling() {
  if (timer_.valid()) return;
  timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer_.valid()) return;
  itimerspec every{{Sampler::kIntervalSeconds, 0}, {Sampler::kIntervalSeconds, 0}};
  ::timerfd_settime(timer_.get(), 0, &every, nullptr);
  sampler_.sample(src_);
}

std::string Server::render(File f) {
  switch (f) {
    case File::kMeminfo: return render_meminfo(host_file("/proc/meminfo"), view(kMemory));
    case File::kCpuinfo: return render_cpuinfo(host_file("/proc/cpuinfo"), view(kCpus));
    case File::kStat: return render_stat(host_file("/proc/stat"), view(kCpus | kCpuTime), hz_);
    case File::kUptime: return render_uptime(view(kCpus | kCpuTime), hz_);
    case File::kLoadavg:
      start_sampling();
      return render_loadavg(host_file("/proc/loadavg"), view(0));
    case File::kSwaps: return render_swaps(host_file("/proc/swaps"), view(kMemory));
    case File::kCpuOnline: return render_cpu_online(view(kCpus));
    case File::kRoot: break;
  }
  return {};
}

void Server::on_watcher() {
  auto m = recv_message(watcher_.get());
  if (!m.ok() || (m->text.empty() && m->fds.empty())) {
    watcher_.reset();  // the watcher is gone; serving goes on until the init ends
    return;
  }
  if (m->text.rfind("pid ", 0) == 0) {
    src_.init = static_cast<pid_t>(std::atoi(m->text.c_str() + 4));
    auto fd = sys::pidfd_open(src_.init);
    if (fd.ok()) init_ = std::move(fd).take();
  } else if (m->text == "notify" && !m->fds.empty()) {
    notify_.push_back(std::move(m->fds[0]));
  }
}

void Server::run() {
  for (;;) {
    std::vector<pollfd> p = {{fuse_.fd(), POLLIN, 0}, {watcher_.get(), POLLIN, 0}, {-1, 0, 0},
                             {init_.get(), POLLIN, 0}, {timer_.get(), POLLIN, 0}};
    for (const auto& n : notify_) p.push_back({n.get(), POLLIN, 0});
    if (::poll(p.data(), p.size(), -1) < 0) continue;
    if (p[3].revents) ::_exit(0);  // the container's init has exited
    if (p[0].revents & (POLLERR | POLLHUP)) ::_exit(0);
    if (p[0].revents & POLLIN) {
      auto more = fuse_.serve_one();
      if (!more.ok() || !more.value()) ::_exit(0);
    }
    for (size_t i = 5; i < p.size(); ++i) {
      if (p[i].revents & POLLIN) {
        (void)answer_notification(p[i].fd, [this] {
          start_sampling();
          return view_sysinfo(view(kAll));
        });
      } else if (p[i].revents & (POLLHUP | POLLERR)) {
        notify_[i - 5].reset();  // no process is left under this filter
      }
    }
    notify_.erase(std::remove_if(notify_.begin(), notify_.end(), [](const sys::Fd& f) { return !f.valid(); }),
                  notify_.end());
    if (p[1].revents) on_watcher();
    if (p[4].revents & POLLIN) {
      uint64_t ticks;
      if (::read(timer_.get(), &ticks, sizeof ticks) > 0) sampler_.sample(src_);
    }
  }
}

}  // namespace

struct sysinfo view_sysinfo(const View& v) {
  struct sysinfo si {};
  ::sysinfo(&si);
  si.uptime = static_cast<long>(v.uptime);
  for (int i = 0; i < 3; ++i) si.loads[i] = static_cast<unsigned long>(v.load[i] * 65536.0);
  si.procs = static_cast<unsigned short>(std::min<unsigned>(v.tasks, 65535));
  if (v.mem_limited) {
    uint64_t used = std::min(v.mem_used, v.mem_total);
    si.mem_unit = 1;
    si.totalram = v.mem_total;
    si.freeram = v.mem_total - used;
    si.sharedram = v.shmem;
    si.bufferram = 0;
    si.totalswap = v.swap_total;
    si.freeswap = v.swap_total - std::min(v.swap_used, v.swap_total);
    si.totalhigh = si.freehigh = 0;
  }
  return si;
}

void run_server(Source src, sys::Fd fuse, sys::Fd watcher) {
  ::signal(SIGPIPE, SIG_IGN);
  Server s(std::move(src), std::move(fuse), std::move(watcher));
  sys::give_back_idle_memory();  // what the set-up needed alone: this process stays as long as the container
  s.run();
}

}  // namespace guise::procview
