// What `guise events` does with the log: docker's --filter over events, and the
// `throttled` events it makes itself. A throttled event needs no daemon: only a running
// `guise events` samples the containers' cpu.stat (about once a second), so sampling
// costs nothing while nobody watches, and each watcher tells its own reader.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/stats.h"
#include "engine/events.h"
#include "sys/result.h"

namespace guise::engine {

// docker's --filter KEY=VALUE: values of one key are alternatives, keys all apply.
// Keys: type, event (an action), container (a name, an id or an id prefix), image.
struct EventFilter {
  std::map<std::string, std::vector<std::string>> values;
};
Result<EventFilter> parse_event_filters(const std::vector<std::string>& args);
bool event_matches(const EventFilter& f, const Event& e);

// Edge-triggered: a container is reported when the share of its CFS periods that ran
// out of quota over the last interval goes above the threshold, and again only after it
// has dropped below. Containers without a quota have no periods and are never reported.
class ThrottleWatch {
 public:
  explicit ThrottleWatch(double threshold_percent) : threshold_(threshold_percent) {}
  // The container's counters now; an event (action "throttled") when it just crossed.
  std::optional<Event> update(const std::string& id, const cgroups::CpuStats& cpu, int64_t now_ns);
  void forget_others(const std::vector<std::string>& live_ids);

 private:
  struct Last {
    uint64_t periods = 0, throttled = 0, throttled_ns = 0;
    bool above = false;
  };
  double threshold_;
  std::map<std::string, Last> last_;
};

}  // namespace guise::engine
