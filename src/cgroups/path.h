// Where a container's cgroup goes: linux.cgroupsPath resolved in one hierarchy.
// Pure string work; the hierarchy's mountpoint and this process's own cgroup come in.
#pragma once

#include <string>
#include <string_view>

#include "cgroups/layout.h"
#include "sys/result.h"

namespace guise::cgroups {

// Lexically cleans an absolute path: repeated '/', '.' and '..' go; '..' stops at '/'.
std::string clean_path(std::string_view path);

// True when `path` is `ancestor` or lies below it, component-wise ("/ab" is not below "/a").
bool is_path_below(std::string_view path, std::string_view ancestor);

// This process's cgroup directory in `h`, as seen through its mount (whose root may be a
// subtree when the hierarchy was bind-mounted into a container).
Result<std::string> own_dir(const Hierarchy& h);

// The container's cgroup directory in `h`:
//   ""          -> <own cgroup>/<id>
//   "a/b"       -> <own cgroup>/a/b     (cleaned: '..' cannot climb above the own cgroup)
//   "/a/b"      -> <mountpoint>/a/b     (below the hierarchy root)
// where <own cgroup> is the process's cgroup as seen through the mount (its root may be
// a subtree when the hierarchy was bind-mounted into a container). Refuses a path that
// resolves to the hierarchy root or, for the relative forms, to the own cgroup itself.
Result<std::string> container_dir(const Hierarchy& h, std::string_view cgroups_path, std::string_view id);

}  // namespace guise::cgroups
