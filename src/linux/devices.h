// /dev inside the container: the default device nodes, linux.devices, the
// standard symlinks. In a user namespace nodes cannot be made, so host nodes are
// bind-mounted instead (as runc does).
#pragma once

#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

// The devices every container gets unless the config lists its own at that path.
std::vector<oci::Device> default_devices();

// linux.devices plus the defaults not overridden; with `dev_is_bind` (a bind-mounted
// host /dev) the defaults are already there and are not made.
std::vector<oci::Device> plan_devices(const std::vector<oci::Device>& configured, bool dev_is_bind);

// The device cgroup rules a container really gets: the config's rules, then runc's
// implicit ones (cgroups::default_device_rules: mknod of any node, the default
// devices, ptmx and the pty peers).
// A node listed in linux.devices is made but needs its own allow rule, as in runc.
std::vector<oci::DeviceRule> effective_device_rules(const std::vector<oci::DeviceRule>& configured,
                                                    const std::vector<oci::Device>& devices);

Result<void> create_devices(int root, const std::vector<oci::Device>& devices, bool bind_from_host);
Result<void> create_dev_symlinks(int root, bool has_devpts);

}  // namespace guise::linux
