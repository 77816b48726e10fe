// v1 OOM notification: an eventfd registered through cgroup.event_control on
// memory.oom_control. The kernel also signals it when the cgroup is removed; that
// wake-up is told apart by the cgroup being gone.
#include <sys/eventfd.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "cgroups/fs.h"
#include "cgroups/v1.h"
#include "sys/fd.h"

namespace guise::cgroups::v1 {

namespace {

class V1OomWatch final : public OomWatch {
 public:
  V1OomWatch(std::string dir, sys::Fd event, sys::Fd control, uint64_t kills)
      : dir_(std::move(dir)), event_(std::move(event)), control_(std::move(control)), base_kills_(kills) {}

  int fd() const override { return event_.get(); }

  Result<uint64_t> take() override {
    uint64_t n = 0;
    bool woke = ::read(event_.get(), &n, sizeof n) == sizeof n;
    auto oom = fs::read_flat_keyed(dir_, "memory.oom_control");
    if (!oom.ok()) return uint64_t{0};  // removed: the wake-up was the removal
    if (woke) notified_ += n;
    uint64_t kills = (*oom)["oom_kill"] - base_kills_;
    // The eventfd fires on an OOM (killer or not); the counter catches a kill whose
    // notification has not been read yet. Whichever saw more is the truth.
    uint64_t seen = std::max(notified_, kills);
    uint64_t fresh = seen - std::min(seen, reported_);
    reported_ = std::max(reported_, seen);
    return fresh;
  }

 private:
  std::string dir_;
  sys::Fd event_, control_;  // the registration lives as long as both are open
  uint64_t base_kills_, notified_ = 0, reported_ = 0;
};

}  // namespace

Result<std::unique_ptr<OomWatch>> watch_oom(const std::string& dir) {
  std::string control_path = dir + "/memory.oom_control";
  sys::Fd control(::open(control_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!control.valid()) return sys::sys_error("open", control_path);
  sys::Fd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event.valid()) return sys::sys_error("eventfd");
  std::string line = std::to_string(event.get()) + " " + std::to_string(control.get());
  GUISE_TRY(fs::write(dir, "cgroup.event_control", line, "registering for OOM notification"));
  auto oom = GUISE_TRY(fs::read_flat_keyed(dir, "memory.oom_control"));
  return std::unique_ptr<OomWatch>(new V1OomWatch(dir, std::move(event), std::move(control), oom["oom_kill"]));
}

}  // namespace guise::cgroups::v1
