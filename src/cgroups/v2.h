// The cgroup v2 driver: one directory in the unified hierarchy. Each controller's
// writer lives in its own v2_<controller>.cc.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "cgroups/cgroup.h"
#include "cgroups/layout.h"
#include "sys/fd.h"

namespace guise::cgroups::v2 {

// Writes dir/file; a missing file whose controller is not enabled for the cgroup says so.
Result<void> write(const std::string& dir, std::string_view file, std::string_view value, std::string_view field);

Result<void> apply_cpuset(const std::string& dir, const oci::Resources& r);
Result<void> apply_memory(const std::string& dir, const oci::Resources& r);
Result<void> apply_cpu(const std::string& dir, const oci::Resources& r);
Result<void> apply_pids(const std::string& dir, const oci::Resources& r);
Result<void> apply_io(const std::string& dir, const oci::Resources& r);
Result<void> apply_hugetlb(const std::string& dir, const oci::Resources& r);
Result<void> apply_rdma(const std::string& dir, const oci::Resources& r);
Result<void> apply_unified(const std::string& dir, const oci::Resources& r);
// linux.resources.devices as a BPF_CGROUP_DEVICE program attached to cgroup_fd (v2_devices.cc).
Result<void> apply_devices(int cgroup_fd, const std::string& dir, const oci::Resources& r);

// Refuses an existing cgroup2 directory a new process would be frozen in: its own
// cgroup.freeze, or a frozen ancestor (cgroup.events). Also for a hybrid host's cgroup2
// directory, which the init is cloned into.
Result<void> refuse_frozen(const std::string& dir);

// cgroup.freeze, confirmed through cgroup.events; ETIMEDOUT after ~5 s.
Result<void> freeze(const std::string& dir);
Result<void> thaw(const std::string& dir);
Result<bool> frozen(const std::string& dir);

Result<Stats> read_stats(const std::string& dir);

// inotify on dir/memory.events (v2_oom.cc).
Result<std::unique_ptr<OomWatch>> watch_oom(const std::string& dir);

class V2Cgroup final : public Cgroup {
 public:
  V2Cgroup(std::string dir, sys::Fd dir_fd) : dir_(std::move(dir)), dir_fd_(std::move(dir_fd)) {}

  std::map<std::string, std::string> paths() const override { return {{"unified", dir_}}; }
  Result<void> apply(const oci::Resources& resources) override;
  bool is_v2() const override { return true; }
  int clone_into_fd() const override { return dir_fd_.get(); }
  Result<TaskFiles> open_task_files() const override { return TaskFiles{}; }
  Result<std::vector<pid_t>> pids() const override;
  Result<void> kill_all(int signal) override;
  Result<void> freeze() override { return v2::freeze(dir_); }
  Result<void> thaw() override { return v2::thaw(dir_); }
  Result<bool> frozen() const override { return v2::frozen(dir_); }
  Result<void> destroy() override;
  Result<Stats> stats() const override { return read_stats(dir_); }
  Result<std::unique_ptr<OomWatch>> watch_oom() const override { return v2::watch_oom(dir_); }

 private:
  std::string dir_;
  sys::Fd dir_fd_;  // O_DIRECTORY, for clone3(CLONE_INTO_CGROUP)
};

// Makes the container's cgroup in the unified hierarchy `h`, enabling the available
// controllers on the way down from the runtime's own cgroup (or the root, for an
// absolute path).
Result<std::unique_ptr<Cgroup>> create(const Hierarchy& h, const std::string& cgroups_path, const std::string& id);
// Wraps a directory made earlier; for a directory that is gone clone_into_fd() is -1.
std::unique_ptr<Cgroup> open(const std::string& dir);

}  // namespace guise::cgroups::v2
