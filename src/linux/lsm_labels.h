// Linux security modules: process.apparmorProfile, process.selinuxLabel and
// linux.mountLabel. Each is applied through the kernel's attr interface when its
// LSM is enabled; asking for one whose LSM is not enabled is an error, never a
// silent skip (a container that was meant to be confined must not run unconfined).
#pragma once

#include <string>

#include "linux/procfs.h"
#include "oci/spec.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

bool apparmor_enabled();
bool selinux_enabled();

// Every label the process and the spec ask for has its LSM enabled, or an error
// that names the field and the LSM.
Result<void> check_lsm(const oci::Process& process, const std::string& mount_label);

// The label the next execve takes, opened early (from a trusted procfs, before the
// container's filesystem is entered) and written right before exec.
class ExecLabel {
 public:
  ExecLabel() = default;
  // Opens the attr file of the calling thread in `proc` when a label is to be
  // written (after check_lsm).
  static Result<ExecLabel> prepare(const oci::Process& process, const ProcFs& proc);
  static bool wanted(const oci::Process& p) { return !p.apparmor_profile.empty() || !p.selinux_label.empty(); }
  // Writes the label: it applies from the next execve of this thread.
  Result<void> apply() const;

 private:
  sys::Fd attr_;
  std::string value_;
  std::string what_;
};

}  // namespace guise::linux
