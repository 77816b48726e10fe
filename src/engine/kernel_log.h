// What the kernel logged about a container's processes, read best-effort from /dev/kmsg:
// whom the OOM killer chose ("oom-kill:...,task_memcg=/PATH,task=NAME,pid=N") and which
// syscall a seccomp filter killed for ("audit: type=1326 ... pid=N ... sig=31 ...
// syscall=N"). Unreadable (no privilege, a kernel without it): nothing, never an error.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"

namespace guise::engine {

struct OomKillRecord {
  pid_t pid = 0;
  std::string task;
  std::string task_memcg;  // the cgroup path of the victim, from the hierarchy's root
};
std::optional<OomKillRecord> parse_oom_kill(std::string_view message);

struct SeccompRecord {
  pid_t pid = 0;
  int signal = 0;
  int syscall = -1;
};
std::optional<SeccompRecord> parse_seccomp_audit(std::string_view message);

// Whether the cgroup path `memcg` (as the kernel prints it) is `dir` (a directory of the
// hierarchy's mount) or below it.
bool memcg_within(const std::string& dir, const std::string& memcg);

// The log from the moment of open() on: records written before are skipped.
class KernelLog {
 public:
  static KernelLog open();
  bool valid() const { return fd_.valid(); }
  // The messages logged since open() (or the last read), at most `max` of them.
  std::vector<std::string> read_new(size_t max = 20000);

 private:
  sys::Fd fd_;
};

}  // namespace guise::engine
