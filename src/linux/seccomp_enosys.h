// runc's -ENOSYS rule (libcontainer/seccomp/patchbpf): a syscall newer than every
// one the profile names gets ENOSYS, not the default action. A profile written before
// clone3 existed would otherwise answer clone3 with EPERM, and libc, which falls back
// to clone only on ENOSYS, would fail. "Newer" is "a larger number", per
// architecture: a short BPF stub put in front of libseccomp's program.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "oci/spec.h"

namespace guise::linux {

// The largest syscall number the profile names on one kernel architecture
// (AUDIT_ARCH_*). x86_64 and x32 share AUDIT_ARCH_X86_64 and are told apart by the
// x32 bit in the number, so each has its own limit there; 0 means "none named".
struct EnosysLimit {
  uint32_t audit_arch = 0;
  uint32_t max = 0;      // this architecture's (x86_64's, on AUDIT_ARCH_X86_64)
  uint32_t x32_max = 0;  // x32's, with the x32 bit set, as libseccomp numbers it
};

// Pure: which limits the stub enforces. None when the default action lets calls
// through (allow, log, trace: a tracer handles new syscalls itself) or already is
// ENOSYS. `arches` are libseccomp tokens (SCMP_ARCH_*) of linux.seccomp.architectures,
// the only ones the filter admits; names libseccomp does not know are skipped, and
// an architecture on which no named syscall exists gets no limit, as in runc.
std::vector<EnosysLimit> plan_enosys(uint32_t default_action, const std::vector<uint32_t>& arches,
                                     const std::vector<oci::SeccompSyscall>& rules);

// The stub for those limits: numbers above a limit return ENOSYS, everything else
// (and every other architecture) falls through to what follows it. Empty for no limits.
std::vector<struct sock_filter> enosys_stub(const std::vector<EnosysLimit>& limits);

}  // namespace guise::linux
