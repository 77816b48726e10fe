#include "sys/fault.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace guise::sys {

namespace {

// Fixed-size records: after an O_APPEND write the file offset says how many records,
// this one included, the file holds, whichever process wrote the others.
constexpr size_t kRecord = 128;

}  // namespace

std::optional<Error> fault_point(const char* name) {
  const char* log = std::getenv("GUISE_FAULT_LOG");
  if (!log || !*log) return std::nullopt;
  int fd = ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return std::nullopt;
  char rec[kRecord];
  std::memset(rec, ' ', sizeof rec);
  int n = std::snprintf(rec, sizeof rec, "%d %s", static_cast<int>(::getpid()), name);
  if (n > 0 && static_cast<size_t>(n) < sizeof rec) rec[n] = ' ';
  rec[kRecord - 1] = '\n';
  long step = 0;
  if (::write(fd, rec, sizeof rec) == static_cast<ssize_t>(sizeof rec))
    step = static_cast<long>(::lseek(fd, 0, SEEK_CUR) / static_cast<off_t>(kRecord));
  ::close(fd);
  const char* want = std::getenv("GUISE_FAULT");
  if (!want || step <= 0) return std::nullopt;
  char* end = nullptr;
  long n_want = std::strtol(want, &end, 10);
  if (n_want != step) return std::nullopt;
  if (end && std::strcmp(end, ":kill") == 0) {
    ::kill(::getpid(), SIGKILL);
    ::pause();
  }
  return user_error("injected fault at step " + std::to_string(step) + " (" + name + ")");
}

}  // namespace guise::sys
