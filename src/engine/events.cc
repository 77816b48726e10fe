#include "engine/events.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/container.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace guise::engine {

using nlohmann::json;

std::string event_log_path(const std::string& store_root) { return store_root + "/events.log"; }

int64_t wall_now_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string format_event_time(int64_t ns) {
  time_t secs = time_t(ns / 1'000'000'000);
  struct tm tm {};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)(ns % 1'000'000'000));
  return buf;
}

namespace {

json to_json(const Event& e) {
  json attrs = json::object();
  for (const auto& [k, v] : e.attributes) attrs[k] = v;
  json j = {{"status", e.action},
            {"id", e.id},
            {"from", e.attributes.count("image") ? e.attributes.at("image") : ""},
            {"Type", e.type},
            {"Action", e.action},
            {"Actor", {{"ID", e.id}, {"Attributes", attrs}}},
            {"scope", "local"},
            {"time", e.time_ns / 1'000'000'000},
            {"timeNano", e.time_ns}};
  if (e.type != "container") j.erase("status"), j.erase("id"), j.erase("from");  // docker's legacy fields
  return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string event_json(const Event& e) {
  std::string line = dump(to_json(e));
  if (line.size() < kMaxEventLine) return line;
  // Too long for one atomic append: shorten the longest values until it fits.
  Event cut = e;
  for (size_t cap = 1024; line.size() >= kMaxEventLine && cap >= 16; cap /= 2) {
    for (auto& [k, v] : cut.attributes)
      if (v.size() > cap) v = v.substr(0, cap) + "...";
    line = dump(to_json(cut));
  }
  if (line.size() >= kMaxEventLine) {
    cut.attributes.clear();
    line = dump(to_json(cut));
  }
  return line;
}

Result<Event> parse_event(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return sys::user_error("events.log: a line that is not JSON");
  Event e;
  try {
    e.type = j.value("Type", "container");
    e.action = j.value("Action", "");
    e.time_ns = j.value("timeNano", int64_t(0));
    if (j.contains("Actor") && j["Actor"].is_object()) {
      e.id = j["Actor"].value("ID", "");
      if (j["Actor"].contains("Attributes") && j["Actor"]["Attributes"].is_object())
        for (const auto& [k, v] : j["Actor"]["Attributes"].items())
          if (v.is_string()) e.attributes[k] = v.get<std::string>();
    }
  } catch (const json::exception&) {
    return sys::user_error("events.log: a line not in docker's event shape");
  }
  if (e.action.empty()) return sys::user_error("events.log: an event without an Action");
  return e;
}

std::string event_text(const Event& e) {
  std::string out = format_event_time(e.time_ns) + " " + e.type + " " + e.action + " " + e.id;
  if (!e.attributes.empty()) {
    out += " (";
    bool first = true;
    for (const auto& [k, v] : e.attributes) {  // std::map: sorted by key, as docker prints them
      out += (first ? "" : ", ") + k + "=" + v;
      first = false;
    }
    out += ")";
  }
  return out;
}

Result<void> append_event(const std::string& store_root, Event e) {
  if (e.time_ns == 0) e.time_ns = wall_now_ns();
  std::string line = event_json(e) + "\n";
  std::string path = event_log_path(store_root);
  sys::Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return sys::sys_error("open", path);
  ssize_t n = ::write(fd.get(), line.data(), line.size());
  if (n < 0) return sys::sys_error("write", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && uint64_t(st.st_size) > kEventLogMax &&
      ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
    // Only the writer holding the lock rotates, and only the file it wrote to: another
    // may have rotated it since (then the path names a new, small file).
    struct stat now {};
    if (::stat(path.c_str(), &now) == 0 && now.st_ino == st.st_ino && now.st_dev == st.st_dev)
      ::rename(path.c_str(), (path + ".1").c_str());
  }
  return Ok();
}

void record_container_event(const std::string& store_root, const std::string& id, const std::string& action,
                            std::map<std::string, std::string> extra) {
  Event e;
  e.action = action;
  e.id = id;
  auto text = sys::read_file(ContainerPaths(store_root, id).record());
  if (text.ok()) {
    json r = json::parse(*text, nullptr, false);
    if (r.is_object()) {
      if (r.contains("name") && r["name"].is_string()) e.attributes["name"] = r["name"].get<std::string>();
      if (r.contains("image") && r["image"].is_string()) e.attributes["image"] = r["image"].get<std::string>();
    }
  }
  for (auto& [k, v] : extra) e.attributes[k] = std::move(v);
  (void)append_event(store_root, std::move(e));
}

}  // namespace guise::engine
