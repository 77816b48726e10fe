#include "linux/userns.h"

#include <cstdlib>
#include <string>

#include "sys/syscalls.h"

namespace guise::linux {

bool in_user_namespace() {
  auto map = sys::read_file("/proc/self/uid_map");
  // The initial namespace maps all of 0..2^32-2 onto itself.
  return map.ok() && map.value().find("4294967295") == std::string::npos;
}

bool in_rootless_session() {
  const char* v = std::getenv("GUISE_ROOTLESS");
  return v && v[0] == '1' && v[1] == 0;
}

void mark_rootless_session() { ::setenv("GUISE_ROOTLESS", "1", 1); }

}  // namespace guise::linux
