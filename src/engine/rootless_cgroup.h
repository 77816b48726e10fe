// Where a rootless engine may put its containers' cgroups: a cgroup v2 subtree delegated
// to the user (one it owns, with controllers enabled for its children), found from the
// engine's own cgroup upwards. Without one a rootless container runs without limits,
// and the engine says what is missing and how to get it, as podman does.
#pragma once

#include <string>
#include <vector>

#include "oci/spec.h"

namespace guise::engine {

struct CgroupDelegation {
  std::string base;                  // "/user.slice/.../app.slice": below the cgroup2 mount; "" when none
  std::vector<std::string> controllers;  // those enabled for base's children
  std::string missing;               // when none: what is missing
  std::string fix;                   // and how to get it
};

// Looks at /sys/fs/cgroup and /proc/self/cgroup as the calling user (the root of a
// rootless user namespace counts as the user it maps).
CgroupDelegation find_cgroup_delegation();

// Takes out of `r` the limits `d` cannot apply (all of them without a delegation; those
// whose controller it does not enable otherwise) and returns their kinds: the container
// runs without them, as podman's does, and the caller says so.
std::vector<std::string> drop_undelegated_limits(oci::Resources& r, const CgroupDelegation& d);

// The warning for what drop_undelegated_limits took: what is missing and how to get it.
std::string undelegated_limits_warning(const std::vector<std::string>& kinds, const CgroupDelegation& d);

}  // namespace guise::engine
