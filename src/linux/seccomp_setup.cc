#include "linux/seccomp_setup.h"

namespace guise::linux {

Result<PreparedSeccomp> PreparedSeccomp::prepare(const std::optional<oci::Seccomp>& config,
                                                 const std::string& cache_dir) {
  PreparedSeccomp s;
  if (!config) return s;
  CachedProgram cached = GUISE_TRY(load_or_compile_seccomp(*config, cache_dir), "linux.seccomp");
  s.program_ = std::move(cached.program);
  s.from_cache_ = cached.from_cache;
  if (s.program_.notify) {
    if (config->listener_path.empty())
      return sys::user_error("linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
    s.listener_ = GUISE_TRY(SeccompListener::connect(config->listener_path),
                            "linux.seccomp: failed to connect with seccomp agent specified in the seccomp profile");
    s.metadata_ = config->listener_metadata;
  }
  return s;
}

Result<void> PreparedSeccomp::install(bool no_new_privileges, const std::string& state_json, pid_t pid) {
  if (!active()) return Ok();
  // The message is built first: after the filter, only the send remains.
  std::string message;
  if (program_.notify) message = GUISE_TRY(listener_message(state_json, pid, metadata_), "linux.seccomp");
  int fd = GUISE_TRY(install_seccomp(program_, no_new_privileges), "linux.seccomp");
  if (fd < 0) return Ok();
  GUISE_TRY(listener_.send(sys::Fd(fd), message), "linux.seccomp.listenerPath");
  return Ok();
}

}  // namespace guise::linux
