// v2 OOM notification: inotify on memory.events, which the kernel marks modified on
// every event it counts there (low, high, max, oom, oom_kill). What changed is read
// from the counters.
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>

#include "cgroups/fs.h"
#include "cgroups/v2.h"
#include "sys/fd.h"

namespace guise::cgroups::v2 {

namespace {

struct OomCounts {
  uint64_t oom = 0, kills = 0;
};

Result<OomCounts> read_counts(const std::string& dir) {
  auto events = GUISE_TRY(fs::read_flat_keyed(dir, "memory.events"));
  return OomCounts{events["oom"], events["oom_kill"]};
}

class V2OomWatch final : public OomWatch {
 public:
  V2OomWatch(std::string dir, sys::Fd inotify, OomCounts base)
      : dir_(std::move(dir)), inotify_(std::move(inotify)), base_(base) {}

  int fd() const override { return inotify_.get(); }

  Result<uint64_t> take() override {
    alignas(struct inotify_event) char buf[4096];
    while (::read(inotify_.get(), buf, sizeof buf) > 0) {
    }
    auto now = read_counts(dir_);
    if (!now.ok()) return uint64_t{0};  // the cgroup is gone
    // An OOM that found nothing to kill counts in "oom" alone; each kill in both.
    uint64_t seen = std::max(now->oom - base_.oom, now->kills - base_.kills);
    uint64_t fresh = seen - std::min(seen, reported_);
    reported_ = std::max(reported_, seen);
    return fresh;
  }

 private:
  std::string dir_;
  sys::Fd inotify_;
  OomCounts base_;
  uint64_t reported_ = 0;
};

}  // namespace

Result<std::unique_ptr<OomWatch>> watch_oom(const std::string& dir) {
  if (!fs::exists(dir, "memory.events"))
    return sys::user_error("no memory.events in " + dir + ": the memory controller is not enabled for this cgroup");
  sys::Fd fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!fd.valid()) return sys::sys_error("inotify_init1");
  std::string path = dir + "/memory.events";
  if (::inotify_add_watch(fd.get(), path.c_str(), IN_MODIFY) < 0) return sys::sys_error("inotify_add_watch", path);
  OomCounts base = GUISE_TRY(read_counts(dir));
  return std::unique_ptr<OomWatch>(new V2OomWatch(dir, std::move(fd), base));
}

}  // namespace guise::cgroups::v2
