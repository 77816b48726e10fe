// FileLock: an flock(LOCK_EX) held on a file for the life of the object. The file is
// made if missing and never removed (removing a lock file races with a waiter that
// has it open), so lock files are small and stay.
#pragma once

#include <string>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::sys {

class FileLock {
 public:
  FileLock() = default;
  FileLock(FileLock&&) = default;
  FileLock& operator=(FileLock&&) = default;

  // Blocks until held. EINTR is retried.
  static Result<FileLock> acquire(const std::string& path);
  // nullopt-like: an invalid lock when another holder has it.
  static Result<FileLock> try_acquire(const std::string& path);

  bool held() const { return fd_.valid(); }
  void release() { fd_.reset(); }

 private:
  explicit FileLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace guise::sys
