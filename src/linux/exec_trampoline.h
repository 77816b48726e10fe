// CVE-2019-5736. The container's init and an exec'd process are clones of
// guise-oci: until they exec, /proc/self/exe is the host's runtime binary. Were the
// user's program exec'd directly, a hostile image could make that exec reach the
// binary ("#!/proc/self/exe" as its interpreter, or /proc/self/exe as the program),
// leave a process of its own running it, and then open it for writing through
// /proc/PID/exe once the runtime exits.
//
// So the program is exec'd by a trampoline: a 63-byte static ELF, written into a
// sealed memfd, exec'd first (from here /proc/self/exe is the memfd, which no one
// can write), which then execs the program. Run as [kMarker, path, argv...]; run any
// other way (as the interpreter of a "#!/proc/self/exe" script) it exits 127 at once.
// Creds, no_new_privs, the seccomp filter and the capability sets carry over both
// execs unchanged (each exec recomputes the sets the same way, and the memfd has no
// file capabilities and no setuid bit).
#pragma once

#include <string>
#include <vector>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

class ExecTrampoline {
 public:
  static constexpr const char* kMarker = "guise-trampoline";  // its first 8 bytes are checked

  ExecTrampoline() = default;
  // Made before the seccomp filter (it needs memfd_create, write and fcntl); empty
  // when the kernel refuses to exec memfds (vm.memfd_noexec=2): the exec then goes
  // direct, as it would without it.
  static ExecTrampoline make();
  bool valid() const { return memfd_.valid(); }
  int fd() const { return memfd_.get(); }

  // The bytes of the ELF (for tests and inspection).
  static std::vector<unsigned char> image();

 private:
  sys::Fd memfd_;
};

}  // namespace guise::linux
