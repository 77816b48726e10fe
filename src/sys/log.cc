#include "sys/log.h"

#include <unistd.h>

#include <string>

namespace guise::sys {

namespace {

// Used until a face installs its own: a library user that installs nothing still
// sees warnings, and only them.
void stderr_sink(LogLevel level, std::string_view message) {
  if (level == LogLevel::kDebug) return;
  std::string line = std::string("guise: ") + level_name(level) + ": ";
  line += message;
  line += '\n';
  (void)!::write(2, line.data(), line.size());
}

LogSink g_sink = stderr_sink;

}  // namespace

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void set_log_sink(LogSink sink) { g_sink = sink ? sink : stderr_sink; }
LogSink log_sink() { return g_sink; }
void log(LogLevel level, std::string_view message) { g_sink(level, message); }

}  // namespace guise::sys
