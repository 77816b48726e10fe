// What rootless guise needs of the host, checked one by one for the calling user, each
// with the command that fixes it when missing: `guise doctor` prints them, `guise info`
// too when not root.
#pragma once

#include <string>
#include <vector>

namespace guise::engine {

struct RootlessCheck {
  std::string name;    // "subordinate uids", "/dev/net/tun", ...
  bool ok = false;
  bool required = true;  // false: rootless works without it, with less (no limits, no network)
  std::string detail;  // what was found
  std::string fix;     // the command that fixes it; "" when ok
};

std::vector<RootlessCheck> rootless_checks();

// The checks as `guise doctor` prints them: one line each, its fix below when missing.
std::string format_rootless_checks(const std::vector<RootlessCheck>& checks);

}  // namespace guise::engine
