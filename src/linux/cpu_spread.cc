#include "linux/cpu_spread.h"

namespace guise::linux {

CpuSpread CpuSpread::record() {
  CpuSpread s;
  s.valid_ = ::sched_getaffinity(0, sizeof s.cpus_, &s.cpus_) == 0 && CPU_COUNT(&s.cpus_) > 1;
  return s;
}

void CpuSpread::move_child(pid_t child) const {
  if (!valid_) return;
  int here = ::sched_getcpu();
  if (here < 0 || !CPU_ISSET(here, &cpus_)) return;
  cpu_set_t others = cpus_;
  CPU_CLR(here, &others);
  // Best effort: an init that stays here only starts later.
  (void)::sched_setaffinity(child, sizeof others, &others);
}

void CpuSpread::restore() const {
  if (valid_) (void)::sched_setaffinity(0, sizeof cpus_, &cpus_);
}

}  // namespace guise::linux
