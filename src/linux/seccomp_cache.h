// Compiled seccomp programs cached by content: the same profile (docker's default,
// say, on every container of a host) is compiled by libseccomp once, then read back.
// An entry is named by the SHA-256 of everything that shapes the program (the
// profile, libseccomp's version and API level, the architecture), lives in a
// directory only its owner may write, and is checked before it is used; anything
// doubtful is compiled afresh.
#pragma once

#include <string>

#include "linux/seccomp_filter.h"
#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

inline constexpr const char* kSeccompCacheDir = "/run/guise/seccomp-cache";

// The text the cache key hashes: every field that changes the compiled program.
std::string seccomp_fingerprint(const oci::Seccomp& config);

struct CachedProgram {
  SeccompProgram program;
  bool from_cache = false;
};

// From `cache_dir` when there, else compiled and stored there (best effort: an
// unusable cache directory only costs the compile). An empty dir disables the cache.
Result<CachedProgram> load_or_compile_seccomp(const oci::Seccomp& config, const std::string& cache_dir);

}  // namespace guise::linux
