#include "linux/keyring.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace guise::linux {

namespace {
constexpr long kKeyctlJoinSessionKeyring = 1, kKeyctlSetperm = 5, kKeyctlDescribe = 6;
constexpr unsigned kKeyUsrSearch = 0x00080000;
}  // namespace

Result<void> join_container_keyring(const std::string& container_id) {
  std::string name = "_ses." + container_id;
  long serial = ::syscall(SYS_keyctl, kKeyctlJoinSessionKeyring, name.c_str());
  if (serial < 0 && errno == ENOSYS) return Ok();
  if (serial < 0) return sys::sys_error("join a new session keyring", name);
  // Permissions are "possessor: all; user: view, read, write, search, link,
  // setattr" by default; runc adds user search so a uid switch keeps it usable.
  char desc[256];
  long n = ::syscall(SYS_keyctl, kKeyctlDescribe, serial, desc, sizeof desc - 1);
  if (n <= 0) return Ok();
  desc[n < static_cast<long>(sizeof desc) ? n : sizeof desc - 1] = 0;
  // "type;uid;gid;perm;description": perm is the fourth field, in hex.
  const char* p = desc;
  for (int field = 0; field < 3 && p; ++field) {
    p = std::strchr(p, ';');
    if (p) ++p;
  }
  if (!p) return Ok();
  unsigned perm = static_cast<unsigned>(std::strtoul(p, nullptr, 16));
  if (::syscall(SYS_keyctl, kKeyctlSetperm, serial, perm | kKeyUsrSearch) < 0)
    return sys::sys_error("set the session keyring's permissions", name);
  return Ok();
}

}  // namespace guise::linux
