// linux.seccomp -> a BPF program (libseccomp), installed as the last step before exec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

struct SeccompProgram {
  std::vector<uint8_t> bpf;  // struct sock_filter[]; empty: no filter
  unsigned flags = 0;        // SECCOMP_FILTER_FLAG_*
  bool notify = false;       // has SCMP_ACT_NOTIFY rules: install returns a listener fd
};

// Syscall names libseccomp does not know are skipped, as runc does; an unknown
// action, operator, architecture or flag is an error naming the field. The program
// starts with runc's -ENOSYS stub (seccomp_enosys.h).
Result<SeccompProgram> compile_seccomp(const oci::Seccomp& config);

// Installs the program; returns the notify listener fd (or -1).
Result<int> install_seccomp(const SeccompProgram& program, bool no_new_privileges);

}  // namespace guise::linux
