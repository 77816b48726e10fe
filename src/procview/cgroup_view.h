// The container's limits and usage, read from its cgroup directories and their
// ancestors' (v1: memory, cpu, cpuacct, cpuset; v2: the one unified directory).
#pragma once

#include <sys/types.h>

#include <string>

#include "procview/render.h"

namespace guise::procview {

struct Source {
  bool v2 = false;
  std::string memory, cpu, cpuacct, cpuset;  // v1 directories ("" when the hierarchy is absent)
  std::string unified;                       // v2 directory
  pid_t init = 0;                            // the container's init, for its start time
};

// What a file needs read: memory for meminfo and swaps, the CPUs shown for cpuinfo
// and cpu/online, CPU time and uptime for stat and uptime.
enum Need : unsigned { kMemory = 1, kCpus = 2, kCpuTime = 4, kAll = 7 };

// Everything asked for but the load average (the Sampler's), fresh from the files.
View read_view(const Source& src, unsigned need);

// The kernel's load average, kept for the container's own tasks: a sample of its
// runnable and uninterruptible threads every 5 s, decayed over 1, 5 and 15 minutes.
class Sampler {
 public:
  static constexpr int kIntervalSeconds = 5;
  void sample(const Source& src);
  void fill(View& v) const;

 private:
  double load_[3] = {0, 0, 0};
  unsigned running_ = 0, tasks_ = 0;
};

}  // namespace guise::procview
