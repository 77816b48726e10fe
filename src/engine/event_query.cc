#include "engine/event_query.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace guise::engine {

Result<EventFilter> parse_event_filters(const std::vector<std::string>& args) {
  EventFilter f;
  for (const auto& a : args) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return sys::user_error("--filter \"" + a + "\": bad format of filter (expected name=value)");
    std::string key = a.substr(0, eq), value = a.substr(eq + 1);
    if (key != "type" && key != "event" && key != "container" && key != "image")
      return sys::user_error("--filter \"" + a + "\": invalid filter '" + key +
                             "' (guise events knows type, event, container, image)");
    f.values[key].push_back(value);
  }
  return f;
}

namespace {

bool any_of(const std::vector<std::string>& wanted, const std::function<bool(const std::string&)>& ok) {
  return std::any_of(wanted.begin(), wanted.end(), ok);
}

std::string attr(const Event& e, const char* key) {
  auto it = e.attributes.find(key);
  return it == e.attributes.end() ? std::string() : it->second;
}

}  // namespace

bool event_matches(const EventFilter& f, const Event& e) {
  for (const auto& [key, wanted] : f.values) {
    bool ok = false;
    if (key == "type") ok = any_of(wanted, [&](const std::string& w) { return w == e.type; });
    else if (key == "event") ok = any_of(wanted, [&](const std::string& w) { return w == e.action; });
    else if (key == "image") ok = any_of(wanted, [&](const std::string& w) { return w == attr(e, "image"); });
    else if (key == "container")
      ok = any_of(wanted, [&](const std::string& w) {
        return !w.empty() && (w == attr(e, "name") || e.id.rfind(w, 0) == 0);
      });
    if (!ok) return false;
  }
  return true;
}

std::optional<Event> ThrottleWatch::update(const std::string& id, const cgroups::CpuStats& cpu, int64_t now_ns) {
  auto it = last_.find(id);
  Last now{cpu.periods, cpu.throttled_periods, cpu.throttled_time_ns, false};
  if (it == last_.end()) {  // the first look gives nothing to compare with
    last_[id] = now;
    return std::nullopt;
  }
  Last& before = it->second;
  uint64_t periods = now.periods > before.periods ? now.periods - before.periods : 0;
  uint64_t throttled = now.throttled > before.throttled ? now.throttled - before.throttled : 0;
  uint64_t throttled_ns = now.throttled_ns > before.throttled_ns ? now.throttled_ns - before.throttled_ns : 0;
  double share = periods ? 100.0 * double(throttled) / double(periods) : 0;
  now.above = periods > 0 && share > threshold_;
  bool crossed = now.above && !before.above;
  before = now;
  if (!crossed) return std::nullopt;
  Event e;
  e.action = "throttled";
  e.id = id;
  e.time_ns = now_ns;
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f", share);
  e.attributes = {{"throttledPercent", pct},
                  {"throttledPeriods", std::to_string(throttled)},
                  {"periods", std::to_string(periods)},
                  {"throttledTimeMs", std::to_string(throttled_ns / 1'000'000)}};
  return e;
}

void ThrottleWatch::forget_others(const std::vector<std::string>& live_ids) {
  for (auto it = last_.begin(); it != last_.end();)
    it = std::find(live_ids.begin(), live_ids.end(), it->first) == live_ids.end() ? last_.erase(it) : std::next(it);
}

}  // namespace guise::engine
