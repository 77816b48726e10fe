// The parts build_spec puts together; internal to src/engine/spec_*.cc.
#pragma once

#include <string>
#include <vector>

#include "engine/spec_builder.h"

namespace guise::engine::spec_detail {

// docker's default mounts, then /etc/hosts, resolv.conf, hostname, volumes, binds and
// tmpfs sorted by depth, a user mount replacing a default one at the same place.
Result<std::vector<oci::Mount>> build_mounts(const RunRequest& r, const ContainerConfig& merged, const SpecContext& ctx,
                                             bool user_namespace);
// docker's tmpfs options: the defaults, then the user's, later ones winning (MergeTmpfsOptions).
Result<std::vector<std::string>> merge_tmpfs_options(const std::vector<std::string>& options,
                                                     const std::string& where);
// linux.resources and linux.devices from HostConfig.
Result<void> build_resources(const HostConfig& h, const SpecContext& ctx, oci::Linux& linux_);
// Adds to docker's default profile the syscalls moby allows for each capability granted.
void allow_syscalls_for_capabilities(oci::Seccomp& profile, const std::vector<std::string>& capabilities);

}  // namespace guise::engine::spec_detail
