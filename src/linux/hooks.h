// OCI hooks: each runs with the container's state JSON on stdin, its timeout honoured.
#pragma once

#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

// Runs the hooks of one kind in order; the first failure stops the rest and is
// returned as "<kind> hook[i] <path>: exit status 2" (or "killed after timeout 3s").
Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const char* kind, const std::string& state_json);

}  // namespace guise::linux
