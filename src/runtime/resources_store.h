// The container's linux.resources as last applied, kept beside state.json so that
// `update` builds on what the cgroup holds: resources.json, written by each update;
// before the first one, the resources of the config.json copy.
#pragma once

#include <string>
#include <string_view>

#include "oci/spec.h"
#include "runtime/state.h"
#include "sys/result.h"

namespace guise::runtime {

Result<oci::Resources> load_resources(const StateDir& dir);
Result<void> save_resources(const StateDir& dir, const oci::Resources& r);  // atomically, by rename

}  // namespace guise::runtime
