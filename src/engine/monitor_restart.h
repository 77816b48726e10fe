// --restart, decided as docker's restart manager decides (moby restartmanager): the
// policy says whether, the backoff says when. The delay starts at 100 ms and doubles
// on each restart, up to a minute; a run that lasted 10 s or more starts it over.
#pragma once

#include <chrono>
#include <string>

namespace guise::engine {

struct RestartPolicy {
  std::string name = "no";  // no, always, unless-stopped, on-failure
  int max_retries = 0;      // on-failure:N; 0 = no limit
};

class RestartBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{100};
  static constexpr std::chrono::milliseconds kMax{60'000};
  static constexpr std::chrono::seconds kResetAfter{10};

  // Whether to start the container again after a run that ended with exit_code after
  // `ran`; `stopped`: a user stopped it (containers/ID/stopping). When it says yes,
  // restarts() counts one more and delay() is the wait before it.
  bool should_restart(const RestartPolicy& p, int exit_code, bool stopped, std::chrono::nanoseconds ran);
  std::chrono::milliseconds delay() const { return delay_; }
  int restarts() const { return restarts_; }
  void set_restarts(int n) { restarts_ = n; }

 private:
  std::chrono::milliseconds delay_{0};
  int restarts_ = 0;
};

}  // namespace guise::engine
