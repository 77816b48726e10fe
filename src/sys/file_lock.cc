#include "sys/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

namespace guise::sys {

namespace {

Result<FileLock> lock(const std::string& path, int how, FileLock (*make)(Fd)) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return sys_error("open lock file", path);
  while (::flock(fd.get(), how) < 0) {
    if (errno == EWOULDBLOCK) return FileLock();
    if (errno != EINTR) return sys_error("lock", path);
  }
  return make(std::move(fd));
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path) {
  return lock(path, LOCK_EX, [](Fd fd) { return FileLock(std::move(fd)); });
}

Result<FileLock> FileLock::try_acquire(const std::string& path) {
  return lock(path, LOCK_EX | LOCK_NB, [](Fd fd) { return FileLock(std::move(fd)); });
}

}  // namespace guise::sys
