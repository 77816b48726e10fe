// The cgroup v1 driver (also used on hybrid hosts): one directory per mounted
// hierarchy. Each controller's writer lives in its own v1_<controller>.cc.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/cgroup.h"
#include "cgroups/layout.h"

namespace guise::cgroups::v1 {

// The container's directory in each hierarchy, keyed by controller ("cpu", "cpuacct",
// "name=systemd"), and "unified" for the cgroup2 mount of a hybrid host.
class Dirs {
 public:
  Dirs() = default;
  explicit Dirs(std::map<std::string, std::string> by_key);

  const std::map<std::string, std::string>& map() const { return by_key_; }
  const std::string* find(std::string_view controller) const;
  // The directory of a controller the config asks for; an error naming `field` if unmounted.
  Result<std::string> need(std::string_view controller, std::string_view field) const;
  std::vector<std::string> unique() const;  // each directory once (co-mounted controllers share one)

 private:
  std::map<std::string, std::string> by_key_;
};

// One writer per controller; each writes only what the resources set and asks for its
// hierarchy only then.
Result<void> apply_cpuset(const Dirs& dirs, const oci::Resources& r);
Result<void> apply_devices(const Dirs& dirs, const oci::Resources& r);
Result<void> apply_memory(const Dirs& dirs, const oci::Resources& r);
Result<void> apply_cpu(const Dirs& dirs, const oci::Resources& r);
Result<void> apply_pids(const Dirs& dirs, const oci::Resources& r);
Result<void> apply_blkio(const Dirs& dirs, const oci::Resources& r);
Result<void> apply_hugetlb(const Dirs& dirs, const oci::Resources& r);
Result<void> apply_network(const Dirs& dirs, const oci::Resources& r);  // net_cls and net_prio
Result<void> apply_rdma(const Dirs& dirs, const oci::Resources& r);

// A new cpuset cgroup starts with empty cpus and mems and refuses processes (ENOSPC), and
// so can a pre-made parent: each empty level up from `leaf` gets the nearest ancestor's.
Result<void> inherit_cpuset(const std::string& leaf);

// Refuses a cgroup a new process would be frozen in: `dir` itself, or (while `dir` is
// not made yet) the nearest cgroup above it, up to the hierarchy's mountpoint `top`
// (a new cgroup starts frozen below a frozen one). Makes nothing.
Result<void> refuse_frozen(const std::string& dir, const std::string& top);

// freezer.state; each returns once the state is reached (ETIMEDOUT after ~5 s).
Result<void> freeze(const std::string& freezer_dir);
Result<void> thaw(const std::string& freezer_dir);
Result<bool> frozen(const std::string& freezer_dir);

Result<Stats> read_stats(const Dirs& dirs);

// An eventfd on memory_dir/memory.oom_control (v1_oom.cc).
Result<std::unique_ptr<OomWatch>> watch_oom(const std::string& memory_dir);

class V1Cgroup final : public Cgroup {
 public:
  // Opens the cgroup2 directory of a hybrid host, if `dirs` has one.
  explicit V1Cgroup(Dirs dirs, bool made = true);

  std::map<std::string, std::string> paths() const override { return dirs_.map(); }
  Result<void> apply(const oci::Resources& resources) override;
  bool is_v2() const override { return false; }
  int clone_into_fd() const override { return unified_fd_.get(); }
  Result<TaskFiles> open_task_files() const override;
  Result<void> complete() override;
  Result<std::vector<pid_t>> pids() const override;
  Result<void> kill_all(int signal) override;
  Result<void> freeze() override;
  Result<void> thaw() override;
  Result<bool> frozen() const override;
  Result<void> destroy() override;
  Result<Stats> stats() const override;
  Result<std::unique_ptr<OomWatch>> watch_oom() const override;

 private:
  Dirs dirs_;
  sys::Fd unified_fd_;  // a hybrid host's cgroup2 directory, for CLONE_INTO_CGROUP
  bool made_;           // the v1 directories exist
};

// Makes the container's directory in every hierarchy of `layout` (v1 or hybrid).
// With defer_v1, only the cgroup2 directory of a hybrid host; complete() makes the rest.
Result<std::unique_ptr<Cgroup>> create(const Layout& layout, const std::string& cgroups_path, const std::string& id,
                                       bool defer_v1);
// The directories create() makes, as paths() will list them; makes nothing.
Result<std::map<std::string, std::string>> planned_paths(const Layout& layout, const std::string& cgroups_path,
                                                         const std::string& id);

}  // namespace guise::cgroups::v1
