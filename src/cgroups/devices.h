// The device rules every container gets besides its own, as runc adds them: mknod of
// anything, the standard character devices, and ptys. The runtime appends these (and
// an allow rule per linux.devices entry) to linux.resources.devices before apply(),
// since the spec's usual "deny all" would otherwise shut out /dev/null.
#pragma once

#include <vector>

#include "oci/spec.h"

namespace guise::cgroups {

std::vector<oci::DeviceRule> default_device_rules();

}  // namespace guise::cgroups
