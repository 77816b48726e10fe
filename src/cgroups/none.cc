#include "cgroups/none.h"

#include <signal.h>

namespace guise::cgroups {

namespace {

class NoCgroup final : public Cgroup {
 public:
  explicit NoCgroup(pid_t pid) : pid_(pid) {}
  std::map<std::string, std::string> paths() const override { return {}; }
  Result<void> apply(const oci::Resources& r) override {
    bool limits = r.memory || r.cpu || r.pids_limit || r.block_io || !r.hugepage_limits.empty() || r.network ||
                  !r.rdma.empty() || !r.unified.empty();
    if (limits) return refuse("linux.resources");
    return Ok();
  }
  bool is_v2() const override { return false; }
  int clone_into_fd() const override { return -1; }
  Result<TaskFiles> open_task_files() const override { return TaskFiles{}; }
  Result<std::vector<pid_t>> pids() const override {
    if (pid_ > 0 && ::kill(pid_, 0) == 0) return std::vector<pid_t>{pid_};
    return std::vector<pid_t>{};
  }
  Result<void> kill_all(int signal) override {
    if (pid_ > 0 && ::kill(pid_, signal) < 0 && errno != ESRCH) return sys::sys_error("kill", std::to_string(pid_));
    return Ok();
  }
  Result<void> freeze() override { return refuse("pause"); }
  Result<void> thaw() override { return refuse("resume"); }
  Result<bool> frozen() const override { return false; }
  Result<void> destroy() override { return Ok(); }
  Result<Stats> stats() const override { return refuse("stats"); }

 private:
  static Error refuse(const std::string& what) {
    return sys::user_error(what + ": this container has no cgroup (rootless, and no cgroup is delegated to the user)");
  }
  pid_t pid_;
};

}  // namespace

std::unique_ptr<Cgroup> no_cgroup(pid_t init_pid) { return std::make_unique<NoCgroup>(init_pid); }

}  // namespace guise::cgroups
