// CVE-2019-5736. The container's init and an exec'd process are clones of
// guise-oci: until they exec, /proc/self/exe is the host's runtime binary. Were the
// user's program exec'd directly, a hostile image could make that exec reach the
// binary ("#!/proc/self/exe" as its interpreter, or /proc/self/exe as the program),
// leave a process of its own running it, and then open it for writing through
// /proc/PID/exe once the runtime exits.
//
// So the program is exec'd by a trampoline: a 256-byte static ELF, written into a
// sealed memfd, exec'd first (from here /proc/self/exe is the memfd, which no one
// can write), which then execs the program. Run as [marker, path, argv...]; run any
// other way (as the interpreter of a "#!/proc/self/exe" script) it exits 127 at once.
// The marker may name an fd the trampoline writes the errno of a failed exec to (as
// one byte): how the runtime says why a program would not run (exec format error, a
// missing ELF interpreter) instead of a bare exit status 127.
// Creds, no_new_privs, the seccomp filter and the capability sets carry over both
// execs unchanged (each exec recomputes the sets the same way, and the memfd has no
// file capabilities and no setuid bit).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "linux/channel.h"
#include "oci/spec.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

class ExecTrampoline {
 public:
  static constexpr const char* kMarker = "guise-tr";  // argv[0]: these 8 bytes, then the report fd

  // argv[0] for the trampoline: the marker, then `report_fd` as one byte (none: -1, or
  // an fd above 255, which it cannot carry).
  static std::string argv0(int report_fd);

  ExecTrampoline() = default;
  // Made before the seccomp filter (it needs memfd_create, write and fcntl); empty
  // when the kernel refuses to exec memfds (vm.memfd_noexec=2): the exec then goes
  // direct, as it would without it.
  static ExecTrampoline make();
  bool valid() const { return memfd_.valid(); }
  int fd() const { return memfd_.get(); }

  // The report over a Channel (`run`, `exec`): the child sends the read end of a pipe
  // (Msg::kExecReport) and returns the write end, not close-on-exec, at the lowest fd
  // >= `lowest` (-1 where that would not fit in a byte: no report then).
  static Result<int> send_report_pipe(Channel& parent, int lowest);
  // A copy of `fd` for the report: not close-on-exec, the lowest fd >= `lowest`; -1
  // (and no copy) where that would not fit in a byte.
  static Result<int> report_fd(int fd, int lowest);
  // Whether the trampoline may report under the container's seccomp filter: it runs
  // fcntl (and close, write) once the filter is in, so a profile must let them through
  // whatever their arguments, by a rule or by an allowing default. A profile that does
  // not (or names them conditionally) gets no report, and no fd it could leak.
  static bool can_report(const std::optional<oci::Seccomp>& seccomp);
  // Either end: after the trampoline has gone (the channel's end of stream, exec.done's
  // hangup), the exec's errno, or 0 when the program was exec'd.
  static int read_report(int fd);

  // The bytes of the ELF (for tests and inspection).
  static std::vector<unsigned char> image();

 private:
  sys::Fd memfd_;
};

}  // namespace guise::linux
