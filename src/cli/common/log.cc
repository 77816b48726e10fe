#include "cli/common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "sys/clock.h"
#include "sys/log.h"

namespace guise::cli {

namespace {
std::string g_program = "guise", g_path, g_format = "text";
bool g_debug = false;

std::string format_line(const char* level, const std::string& message) {
  std::string time = sys::now_rfc3339();
  if (g_format == "json") {
    nlohmann::ordered_json j;
    j["level"] = level;
    j["msg"] = message;
    j["time"] = time;
    return j.dump() + "\n";
  }
  return "time=\"" + time + "\" level=" + level + " msg=" + nlohmann::json(message).dump() + "\n";
}

void append_to_log(const std::string& line) {
  int fd = ::open(g_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

void write_log(const char* level, const std::string& message) {
  if (!g_path.empty()) append_to_log(format_line(level, message));
}

// What only --debug shows goes where runc's logger writes: the --log file, else stderr,
// in the log format either way.
void write_debug(const char* level, const std::string& message) {
  if (!g_debug) return;
  std::string line = format_line(level, message);
  if (g_path.empty())
    (void)!::write(2, line.data(), line.size());
  else
    append_to_log(line);
}

void sink(sys::LogLevel level, std::string_view message) {
  std::string text(message);
  switch (level) {
    case sys::LogLevel::kDebug: log_debug(text); break;
    case sys::LogLevel::kInfo: write_debug("info", text); break;
    case sys::LogLevel::kWarning: log_warning(text); break;
    case sys::LogLevel::kError: log_error(text); break;
  }
}
}  // namespace

void configure_log(const std::string& program, const std::string& path, const std::string& format, bool debug) {
  g_program = program;
  g_path = path;
  g_format = format;
  g_debug = debug;
  sys::set_log_sink(sink, debug ? sys::LogLevel::kDebug : sys::LogLevel::kInfo);
  if (!path.empty()) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) ::close(fd);
  }
}

void log_error(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", g_program.c_str(), message.c_str());
  write_log("error", message);
}

void log_warning(const std::string& message) {
  std::fprintf(stderr, "%s: warning: %s\n", g_program.c_str(), message.c_str());
  write_log("warning", message);
}

void log_debug(const std::string& message) { write_debug("debug", message); }

}  // namespace guise::cli
