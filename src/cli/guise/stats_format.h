// What `guise stats` and `guise events` print, as pure functions over the engine's
// numbers: docker's fields and units, and the time forms docker's --since/--until take.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/container_stats.h"
#include "sys/result.h"

namespace guise::cli {

struct StatsNames {
  std::string container;  // as the user named it (docker's Container), else the short id
  std::string id;         // already shortened unless --no-trunc
  std::string name;
};

// docker's stats object (BlockIO, CPUPerc, Container, ID, MemPerc, MemUsage, Name, NetIO,
// PIDs: strings in docker's units) and what docker hides:
//   CPUThrottled     "37.50%" of CFS periods throttled over the interval, "--" without a quota
//   ThrottledTime    time spent throttled over the interval ("412ms")
//   Periods, ThrottledPeriods (numbers, over the interval), ThrottledPeriodsTotal (since start)
//   CPUPressure, MemPressure, IOPressure  PSI avg10 "some / full" ("3.20% / 0.00%"), "--" without PSI
//   PSI              the three `some` avg10 values, "cpu / mem / io" ("3.2 / 0.0 / 0.0"), "--" without
//   Pressure         the same as numbers (object), null without
//   MemHighEvents    memory.high breaches ("12"), "--" on cgroup v1
//   OOMKills         OOM kills in the container's cgroup ("0")
//   PIDsLimit        the pids limit, "max" without one
nlohmann::json stats_row_json(const engine::StatsRow& r, const StatsNames& names);

// The table `guise stats` prints without --format, and its column titles.
extern const char* const kStatsTable;
const std::vector<std::pair<std::string, std::string>>& stats_headers();

// Go's duration text for an interval's throttled time: "0s", "412ms", "1.2s".
std::string short_duration(uint64_t ns);

// docker's --since/--until: RFC 3339 ("2026-12-05", "2026-12-05T08:00:00",
// "2026-12-05T08:00:00.5Z", "+01:00" zones), Unix seconds with optional fraction
// ("1764921600.25"), or a Go duration back from now ("10m", "1h30m"). Nanoseconds since
// the epoch; an error names `flag`.
Result<int64_t> parse_event_time(std::string_view text, int64_t now_ns, std::string_view flag);

}  // namespace guise::cli
