// linux.seccomp for one process (the init or an exec), in two halves: prepare()
// early, while the host is in view (the program compiled or read from the cache,
// the listener's socket connected); install() last, right before exec, so the
// runtime's own setup is never filtered.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "linux/seccomp_cache.h"
#include "linux/seccomp_filter.h"
#include "linux/seccomp_notify.h"
#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

class PreparedSeccomp {
 public:
  PreparedSeccomp() = default;
  static Result<PreparedSeccomp> prepare(const std::optional<oci::Seccomp>& config, const std::string& cache_dir);

  bool active() const { return !program_.bpf.empty(); }
  bool from_cache() const { return from_cache_; }

  // Loads the filter. Without no_new_privileges the caller still needs
  // CAP_SYS_ADMIN. With a listener: sends it the notify fd and `state_json`
  // wrapped as the runtime-spec's container process state for `pid`.
  Result<void> install(bool no_new_privileges, const std::string& state_json, pid_t pid);

 private:
  SeccompProgram program_;
  SeccompListener listener_;
  std::string metadata_;
  bool from_cache_ = false;
};

}  // namespace guise::linux
