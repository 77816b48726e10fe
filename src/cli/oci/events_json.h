// runc 1.1's `events` JSON: {"type":"stats","id":ID,"data":{...}} and
// {"type":"oom","id":ID}, one object a line.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cgroups/stats.h"

namespace guise::cli {

// The "data" of a stats event: runc's types.Stats, field for field (cpu, cpuset, memory,
// pids, blkio, hugetlb, intel_rdt, network_interfaces), omitting what Go omits.
nlohmann::ordered_json stats_data(const cgroups::Stats& s);
std::string stats_event(const std::string& id, const cgroups::Stats& s);  // one line, no newline
std::string oom_event(const std::string& id);

}  // namespace guise::cli
