// Thin wrappers over syscalls glibc 2.36 does not wrap, and small file helpers.
// No policy here: each returns Result with the op and path named.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sys/fd.h"
#include "sys/result.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace guise::sys {

// clone3(2) with the fields guise uses; returns 0 in the child, the pid in the parent.
struct CloneArgs {
  uint64_t flags = 0;         // CLONE_NEW*, CLONE_INTO_CGROUP, CLONE_PIDFD
  int* pidfd = nullptr;       // receives a pidfd when CLONE_PIDFD is set
  int exit_signal = SIGCHLD_VALUE;
  int cgroup_fd = -1;         // with CLONE_INTO_CGROUP
  static constexpr int SIGCHLD_VALUE = 17;
};
Result<pid_t> clone3(const CloneArgs& args);

// openat2(2) with RESOLVE_* flags: the way every path inside a rootfs is opened.
Result<Fd> openat2(int dirfd, const std::string& path, uint64_t flags, uint64_t mode, uint64_t resolve);

Result<Fd> pidfd_open(pid_t pid);

// "/proc/self/fd/N": names an fd for the old mount API and for reopening.
std::string fd_path(int fd);

Result<std::string> read_file(const std::string& path);
Result<std::string> read_file_at(int dirfd, const std::string& path);
Result<void> write_file(const std::string& path, std::string_view data, int flags = 0, mode_t mode = 0644);
Result<void> write_file_at(int dirfd, const std::string& path, std::string_view data);

// Field 22 of /proc/PID/stat: tells a live container init from a reused pid.
Result<uint64_t> process_start_time(pid_t pid);

// Write all of data, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::string_view data, const char* what);

}  // namespace guise::sys
