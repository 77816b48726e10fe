// The host's cgroup hierarchies: which are mounted where, and where this process
// sits in each. Parsed from /proc/self/mountinfo and /proc/self/cgroup text so the
// detection is pure and testable; host_layout() reads the two files and checks that
// each mountpoint it picks shows what mountinfo says is there.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/result.h"

namespace guise::cgroups {

// kV1: one cgroup (v1) mount per controller set. kHybrid: v1 controllers plus a cgroup2
// mount that only tracks processes (systemd's /sys/fs/cgroup/unified). kV2: unified.
enum class Mode { kV1, kHybrid, kV2 };
const char* mode_name(Mode mode);  // "v1", "hybrid", "v2"

struct Hierarchy {
  // {"cpu", "cpuacct"} for a co-mounted pair, {"name=systemd"} for a named hierarchy,
  // empty for the cgroup2 hierarchy.
  std::vector<std::string> controllers;
  std::string mountpoint;        // "/sys/fs/cgroup/cpu,cpuacct"
  std::string mount_root = "/";  // the hierarchy's directory shown at the mountpoint (mountinfo field 4)
  std::string own_path;          // this process's cgroup in the hierarchy (/proc/self/cgroup)

  bool is_v2() const { return controllers.empty(); }
  bool has(std::string_view controller) const;
};

struct Layout {
  Mode mode = Mode::kV2;
  std::vector<Hierarchy> v1;         // mounted v1 hierarchies, named ones included
  std::optional<Hierarchy> unified;  // the cgroup2 hierarchy (kV2 and kHybrid)

  const Hierarchy* find_v1(std::string_view controller) const;
};

// Whether `mountpoint` shows a cgroup filesystem (cgroup2 when `v2`) now. mountinfo can
// list a mount that something mounted over it hides; a hierarchy is only taken from a
// mount that passes.
using MountCheck = std::function<bool(const std::string& mountpoint, bool v2)>;

Result<Layout> parse_layout(std::string_view mountinfo, std::string_view proc_self_cgroup,
                            const MountCheck& is_cgroupfs = {});
// With the check made by statfs on each mountpoint: its f_type must be
// CGROUP_SUPER_MAGIC or CGROUP2_SUPER_MAGIC.
Result<Layout> host_layout();

}  // namespace guise::cgroups
