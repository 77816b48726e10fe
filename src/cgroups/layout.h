// The host's cgroup hierarchies: which are mounted where, and where this process
// sits in each. Parsed from /proc/self/mountinfo and /proc/self/cgroup text so the
// detection is pure and testable; host_layout() reads the two files.
#pragma once

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

Result<Layout> parse_layout(std::string_view mountinfo, std::string_view proc_self_cgroup);
Result<Layout> host_layout();

}  // namespace guise::cgroups
