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

void write_log(const char* level, const std::string& message) {
  if (g_path.empty()) return;
  std::string line;
  std::string time = sys::now_rfc3339();
  if (g_format == "json") {
    nlohmann::ordered_json j;
    j["level"] = level;
    j["msg"] = message;
    j["time"] = time;
    line = j.dump() + "\n";
  } else {
    line = "time=\"" + time + "\" level=" + level + " msg=" + nlohmann::json(message).dump() + "\n";
  }
  int fd = ::open(g_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

void sink(sys::LogLevel level, std::string_view message) {
  std::string text(message);
  switch (level) {
    case sys::LogLevel::kDebug: log_debug(text); break;
    case sys::LogLevel::kInfo:
      if (g_debug) write_log("info", text);
      break;
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

void log_debug(const std::string& message) {
  if (!g_debug) return;
  std::fprintf(stderr, "%s: debug: %s\n", g_program.c_str(), message.c_str());
  write_log("debug", message);
}

}  // namespace guise::cli
