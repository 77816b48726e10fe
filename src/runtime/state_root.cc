// Where a runtime without privilege keeps its state, and when it is without privilege.
#include <unistd.h>

#include <cstdlib>

#include "runtime/runtime.h"
#include "sys/syscalls.h"

namespace guise::runtime {

bool unprivileged() {
  if (::geteuid() != 0) return true;
  auto map = sys::read_file("/proc/self/uid_map");
  // The initial user namespace maps all of 0..2^32-2 onto itself; root elsewhere is not root.
  return map.ok() && map.value().find("4294967295") == std::string::npos;
}

std::string default_state_root() {
  if (::geteuid() == 0) return "/run/guise";
  const char* xdg = ::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) return std::string(xdg) + "/guise";
  return "/tmp/guise-" + std::to_string(::geteuid());
}

}  // namespace guise::runtime
