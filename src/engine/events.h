// The engine's event log: docker's `events` without a daemon. Whoever acts on a
// container appends what happened to STORE/events.log: the CLI (create, kill, stop,
// pause, unpause, rename, restart, destroy) and the container's monitor (start, die, oom,
// restart by policy, destroy with --rm). One JSON line per event in docker's shape, each
// appended by one write(2) of at most PIPE_BUF bytes on an O_APPEND descriptor, so
// concurrent writers never interleave and a reader never sees half a line. Past
// kEventLogMax bytes the file is renamed to events.log.1 (the one before is dropped), so
// the log stays bounded with no process to tend it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sys/result.h"

namespace guise::engine {

inline constexpr size_t kMaxEventLine = 4096;               // PIPE_BUF: one atomic append
inline constexpr uint64_t kEventLogMax = 4 * 1024 * 1024;   // then events.log -> events.log.1

struct Event {
  std::string type = "container";
  std::string action;  // create, start, die, oom, restart, stop, kill, destroy, pause, unpause, rename, throttled
  std::string id;
  std::map<std::string, std::string> attributes;  // image, name, exitCode, signal, oldName, ...
  int64_t time_ns = 0;                            // wall clock, nanoseconds since the epoch
};

std::string event_log_path(const std::string& store_root);
int64_t wall_now_ns();

// docker's JSON: {"status","id","from","Type","Action","Actor":{"ID","Attributes"},"scope","time","timeNano"},
// one line, kept under kMaxEventLine by shortening attribute values.
std::string event_json(const Event& e);
Result<Event> parse_event(std::string_view line);
// docker's text line: "2026-12-05T08:00:00.000000000Z container die ID (exitCode=137, image=bb, name=x)".
std::string event_text(const Event& e);
// "2026-12-05T08:00:00.000000000Z" (UTC, nanoseconds always nine digits).
std::string format_event_time(int64_t ns);

// Appends `e` (its time set now when 0); rotates the file when it grew past kEventLogMax.
Result<void> append_event(const std::string& store_root, Event e);

// The usual container event: name and image from the container's record when it can be
// read (it may already be gone), `extra` attributes beside them. Failures are not the
// caller's business: a command does not fail because its event could not be logged.
void record_container_event(const std::string& store_root, const std::string& id, const std::string& action,
                            std::map<std::string, std::string> extra = {});

}  // namespace guise::engine
