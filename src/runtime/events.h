// `events`: a running container's cgroup usage and OOM kills as runc 1.1 prints them,
// one JSON object a line: {"type":"stats","id":ID,"data":{...}} every interval (or once
// with --stats) and {"type":"oom","id":ID} when the kernel's OOM killer acts in the
// container's cgroup. The stream ends when the container's init exits.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "cgroups/stats.h"
#include "runtime/container.h"
#include "sys/result.h"

namespace guise::runtime {

struct EventsOptions {
  std::string id;
  bool stats_once = false;                            // --stats
  std::chrono::nanoseconds interval = std::chrono::seconds(5);  // --interval
};

// Go's time.ParseDuration, as runc takes --interval: "5s", "100ms", "1m30s", "1.5h", "250us".
Result<std::chrono::nanoseconds> parse_duration(const std::string& text);

// The "data" of a stats event: runc's types.Stats, field for field (cpu, cpuset, memory,
// pids, blkio, hugetlb, intel_rdt, network_interfaces), omitting what Go omits.
nlohmann::ordered_json stats_data(const cgroups::Stats& s);
std::string stats_event(const std::string& id, const cgroups::Stats& s);  // one line, no newline
std::string oom_event(const std::string& id);

// Calls `emit` with each event line until the container stops (or once, with --stats).
Result<void> container_events(const Globals& g, const EventsOptions& o, const std::function<void(const std::string&)>& emit);

}  // namespace guise::runtime
