#include "sys/syscalls.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace guise::sys {

namespace {
// The kernel's struct clone_args, version 2 (with cgroup); defined here rather than
// from <linux/sched.h>, whose CLONE_* macros collide with glibc's <sched.h>.
struct KernelCloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};
}  // namespace

Result<pid_t> clone3(const CloneArgs& a) {
  KernelCloneArgs k{};
  k.flags = a.flags;
  k.pidfd = reinterpret_cast<uint64_t>(a.pidfd);
  k.exit_signal = static_cast<uint64_t>(a.exit_signal);
  k.cgroup = a.cgroup_fd >= 0 ? static_cast<uint64_t>(a.cgroup_fd) : 0;
  long pid = ::syscall(SYS_clone3, &k, sizeof k);
  if (pid < 0) return sys_error("clone3");
  return static_cast<pid_t>(pid);
}

Result<Fd> openat2(int dirfd, const std::string& path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  long fd;
  do fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);  // RESOLVE_IN_ROOT retries on a concurrent rename
  if (fd < 0) return sys_error("open", path);
  return Fd(static_cast<int>(fd));
}

Result<Fd> pidfd_open(pid_t pid) {
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return sys_error("pidfd_open", "pid " + std::to_string(pid));
  return Fd(static_cast<int>(fd));
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

static Result<std::string> read_all(int fd, const std::string& path) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> read_file(const std::string& path) { return read_file_at(AT_FDCWD, path); }

Result<std::string> read_file_at(int dirfd, const std::string& path) {
  Fd fd(::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open", path);
  return read_all(fd.get(), path);
}

Result<void> write_all(int fd, std::string_view data, const char* what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write", what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Result<void> write_file(const std::string& path, std::string_view data, int flags, mode_t mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | flags, mode));
  if (!fd.valid()) return sys_error("open", path);
  return write_all(fd.get(), data, path.c_str());
}

Result<void> write_file_at(int dirfd, const std::string& path, std::string_view data) {
  Fd fd(::openat(dirfd, path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open", path);
  return write_all(fd.get(), data, path.c_str());
}

Result<uint64_t> process_start_time(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  auto text = GUISE_TRY(read_file(path));
  // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos) return user_error("malformed " + path);
  const char* p = text.c_str() + close + 2;  // at field 3
  for (int field = 3; field < 22 && *p; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return user_error("malformed " + path);
    ++p;
  }
  return std::strtoull(p, nullptr, 10);
}

}  // namespace guise::sys
