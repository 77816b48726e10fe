#include "engine/monitor_restart.h"

namespace guise::engine {

bool RestartBackoff::should_restart(const RestartPolicy& p, int exit_code, bool stopped,
                                    std::chrono::nanoseconds ran) {
  if (ran >= kResetAfter) delay_ = std::chrono::milliseconds(0);
  if (delay_.count() == 0) delay_ = kFirst;
  else if (delay_ < kMax) delay_ *= 2;
  if (delay_ > kMax) delay_ = kMax;
  if (stopped) return false;  // docker: a container stopped by hand stays stopped, whatever the policy
  bool restart = false;
  if (p.name == "always" || p.name == "unless-stopped") restart = true;
  else if (p.name == "on-failure") restart = exit_code != 0 && (p.max_retries == 0 || restarts_ < p.max_retries);
  if (restart) ++restarts_;
  return restart;
}

}  // namespace guise::engine
