// Where a runtime without privilege keeps its state, and when it is without privilege.
#include <unistd.h>

#include <cstdlib>

#include "runtime/runtime.h"
#include "linux/userns.h"

namespace guise::runtime {

bool unprivileged() {
  // Root elsewhere than the initial user namespace is not the host's root.
  return ::geteuid() != 0 || linux::in_user_namespace();
}

std::string default_state_root() {
  if (::geteuid() == 0) return "/run/guise";
  const char* xdg = ::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) return std::string(xdg) + "/guise";
  return "/tmp/guise-" + std::to_string(::geteuid());
}

}  // namespace guise::runtime
