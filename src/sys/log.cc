#include "sys/log.h"

#include <unistd.h>

#include <string>

namespace guise::sys {

namespace {

// Used until a face installs its own: a library user that installs nothing still
// sees warnings, and only them.
void stderr_sink(LogLevel level, std::string_view message) {
  std::string line = std::string("guise: ") + level_name(level) + ": ";
  line += message;
  line += '\n';
  (void)!::write(2, line.data(), line.size());
}

LogSink g_sink = stderr_sink;
LogLevel g_least = LogLevel::kInfo;

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

void set_log_sink(LogSink sink, LogLevel least) {
  g_sink = sink ? sink : stderr_sink;
  g_least = least;
}
LogSink log_sink() { return g_sink; }
bool log_enabled(LogLevel level) { return level >= g_least; }
void log(LogLevel level, std::string_view message) {
  if (level >= g_least) g_sink(level, message);
}

}  // namespace guise::sys
