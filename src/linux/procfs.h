// The runtime's own procfs: every write the init makes to /proc (sysctls, LSM
// labels, oom_score_adj) goes through this handle, never through the container's
// /proc, which a hostile image or a racing container could have turned into a
// symlink, a fake filesystem or a mount over the wrong procfs file
// (CVE-2019-16884, CVE-2023-28642, CVE-2025-52881).
#pragma once

#include <string>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

class ProcFs {
 public:
  ProcFs() = default;

  // A private procfs instance (fsopen + fsmount) attached nowhere: no path in any
  // mount namespace leads to it, so nothing can be mounted over or inside it. Made
  // for the caller's pid namespace; in a user namespace it must be made while a
  // fully visible /proc is still mounted (before maskedPaths).
  static Result<ProcFs> open_private();
  // The procfs mounted at `path`, checked to be procfs and the root of its mount.
  static Result<ProcFs> open_mounted(const std::string& path = "/proc");
  // open_private(), or the verified mount when a private instance is refused.
  static Result<ProcFs> open_best();

  bool valid() const { return root_.valid(); }

  // Opens `rel` below the procfs root following no symlink and crossing no mount,
  // and checks that what was opened is on procfs.
  Result<sys::Fd> open(const std::string& rel, int flags) const;
  Result<void> write(const std::string& rel, const std::string& value) const;

  // "PID" and "PID/task/TID" of the calling thread as this instance numbers them
  // ("self" and "thread-self" are symlinks, which open() does not follow).
  std::string self() const;
  std::string thread_self() const;

 private:
  explicit ProcFs(sys::Fd root) : root_(std::move(root)) {}
  sys::Fd root_;
};

// fstatfs says procfs, or an error naming `what`.
Result<void> check_on_procfs(int fd, const std::string& what);

}  // namespace guise::linux
