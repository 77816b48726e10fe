// Capability names <-> numbers, and setting the five sets exactly as configured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

// "CAP_SYS_ADMIN" -> 21; nullopt for a name this build does not know.
std::optional<int> capability_number(const std::string& name);
std::string capability_name(int cap);
const std::vector<std::string>& all_capability_names();  // in number order
int last_capability();  // /proc/sys/kernel/cap_last_cap, read once

struct CapSets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};

// Names -> bit sets; an unknown name is an error naming the set and the name
// (process.capabilities.bounding: unknown capability "CAP_BOGUS"). Capabilities
// this kernel does not have are dropped from the sets, as runc does.
Result<CapSets> plan_capabilities(const oci::Capabilities& caps, const std::string& where);

// The sets to hold from the user switch to exec when a seccomp filter is loaded
// without no_new_privileges: the configured ones plus CAP_SYS_ADMIN in effective
// and permitted, which loading needs. No capset follows the filter (the profile may
// deny it): the exec drops CAP_SYS_ADMIN itself, since it recomputes permitted
// from inheritable, bounding and ambient, which are already the configured ones.
CapSets holding_for_seccomp(const CapSets& final_sets);

// Drops from the bounding set; call while still privileged, before changing user.
Result<void> apply_bounding(const CapSets& sets);
// Sets effective/permitted/inheritable, then raises ambient; call after changing user.
Result<void> apply_capabilities(const CapSets& sets);

}  // namespace guise::linux
