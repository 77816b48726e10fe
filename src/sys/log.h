// The library's one way to say something that is not an error: warnings and debug
// lines go to a sink that each face installs (guise-oci: stderr and --log in runc's
// text or JSON; the container's init: a kLog frame to the runtime). Library code
// never writes to stdout or stderr itself.
#pragma once

#include <string_view>

namespace guise::sys {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
const char* level_name(LogLevel l);  // "debug", "info", "warning", "error" (logrus's names)

using LogSink = void (*)(LogLevel, std::string_view message);

// Installs the sink for this process; nullptr restores the default (stderr). Lines below
// `least` are dropped before they are built or sent (a container's init inherits this,
// so it sends no debug lines nobody asked for).
void set_log_sink(LogSink sink, LogLevel least = LogLevel::kInfo);
LogSink log_sink();
bool log_enabled(LogLevel level);

void log(LogLevel level, std::string_view message);
inline void warn(std::string_view message) { log(LogLevel::kWarning, message); }
inline void debug(std::string_view message) { log(LogLevel::kDebug, message); }

}  // namespace guise::sys
