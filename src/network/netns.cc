#include "network/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "linux/userns.h"
#include "sys/syscalls.h"

namespace guise::network {

namespace {

// Whether `dir` is a mount point of this mount namespace (its own line in mountinfo).
bool is_mount_point(const std::string& dir) {
  auto text = sys::read_file("/proc/self/mountinfo");
  if (!text) return false;
  std::string needle = " " + dir + " ";
  size_t at = 0;
  while ((at = text->find(needle, at)) != std::string::npos) {
    // The fifth field is the mount point: after "ID PARENT MAJ:MIN ROOT"; `at` is the
    // space before it, with three spaces before that.
    size_t line = text->rfind('\n', at);
    line = line == std::string::npos ? 0 : line + 1;
    int spaces = 0;
    for (size_t i = line; i < at; ++i) spaces += (*text)[i] == ' ';
    if (spaces == 3) return true;
    at += 1;  // the mount point's own " DIR " may begin with this match's last space
  }
  return false;
}

Result<void> make_shared_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error("mkdir", dir);
  if (is_mount_point(dir)) return Ok();
  if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) < 0) return sys::sys_error("bind mount", dir);
  // Private first: out of the peer group of the mount it was bound from (a shared / would
  // otherwise propagate every pin back into itself), then shared as a group of its own.
  if (::mount("", dir.c_str(), nullptr, MS_PRIVATE, nullptr) < 0) return sys::sys_error("make private", dir);
  if (::mount("", dir.c_str(), nullptr, MS_SHARED, nullptr) < 0) return sys::sys_error("make shared", dir);
  return Ok();
}

}  // namespace

Result<void> create_pinned_netns(const std::string& path) {
  GUISE_TRY(make_shared_dir(path.substr(0, path.rfind('/'))));
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0600);
  if (fd < 0) return sys::sys_error("creating", path);
  ::close(fd);
  if (linux::in_user_namespace()) {
    // Root of a user namespace (a rootless engine) may leave the host's network namespace
    // but not come back to it: a child process makes the namespace and pins it instead.
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::unshare(CLONE_NEWNET) < 0) ::_exit(1);
      ::_exit(::mount("/proc/self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0 ? 2 : 0);
    }
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
    ::unlink(path.c_str());
    if (pid < 0) return sys::sys_error("fork");
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return sys::user_error(code == 1   ? "unshare(CLONE_NEWNET) failed in a child process"
                           : code == 2 ? "bind mount of a new network namespace on " + path + " failed in a child process"
                                       : "the child process making a network namespace for " + path + " was killed");
  }
  sys::Fd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home.valid()) {
    ::unlink(path.c_str());
    return sys::sys_error("open", "/proc/thread-self/ns/net");
  }
  Result<void> made = Ok();
  if (::unshare(CLONE_NEWNET) < 0) {
    made = sys::sys_error("unshare(CLONE_NEWNET)");
  } else {
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0)
      made = sys::sys_error("bind mount the network namespace on", path);
    // Back home, whatever happened: the rest of this process works in the host's namespace.
    if (::setns(home.get(), CLONE_NEWNET) < 0) return sys::sys_error("setns back to the host's network namespace");
  }
  if (!made) ::unlink(path.c_str());
  return made;
}

Result<void> remove_pinned_netns(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return sys::sys_error("unmount", path);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys::sys_error("unlink", path);
  // The last pin gone, the directory's own mount goes too: nothing of guise stays mounted
  // while no container has a namespace (the caller holds the lock every pin is made under).
  std::string dir = path.substr(0, path.rfind('/'));
  bool empty = true;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') empty = false;
    ::closedir(d);
  }
  if (empty && is_mount_point(dir) && ::umount2(dir.c_str(), MNT_DETACH) < 0) return sys::sys_error("unmount", dir);
  return Ok();
}

Result<sys::Fd> open_netns(const std::string& path) {
  sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys::sys_error("open network namespace", path);
  return fd;
}

}  // namespace guise::network
