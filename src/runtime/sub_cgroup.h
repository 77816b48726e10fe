// exec's sub-cgroups (ExecOptions::sub_cgroups): where in the container's cgroup the
// new process goes. Pure: which directories; exec_process() checks they exist.
#pragma once

#include <map>
#include <string>

#include "sys/result.h"

namespace guise::runtime {

// `container`: the container's cgroup paths as saved (key: controller, or "unified" for
// a cgroup2 directory). `sub`: key a controller or "" (every hierarchy), value a path
// relative to the container's cgroup, which it may not leave. A named controller moves
// the controllers co-mounted with it too (they are one directory).
Result<std::map<std::string, std::string>> sub_cgroup_paths(const std::map<std::string, std::string>& container,
                                                            const std::map<std::string, std::string>& sub);

}  // namespace guise::runtime
