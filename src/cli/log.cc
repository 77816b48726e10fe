#include "cli/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "runtime/state.h"

namespace guise::cli {

namespace {
std::string g_path, g_format = "text";
bool g_debug = false;

void write_log(const char* level, const std::string& message) {
  if (g_path.empty()) return;
  std::string line;
  std::string time = runtime::now_rfc3339();
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
}  // namespace

void configure_log(const std::string& path, const std::string& format, bool debug) {
  g_path = path;
  g_format = format;
  g_debug = debug;
}

void log_error(const std::string& message) {
  std::fprintf(stderr, "guise-oci: %s\n", message.c_str());
  write_log("error", message);
}

void log_warning(const std::string& message) {
  std::fprintf(stderr, "guise-oci: warning: %s\n", message.c_str());
  write_log("warning", message);
}

void log_debug(const std::string& message) {
  if (!g_debug) return;
  std::fprintf(stderr, "guise-oci: debug: %s\n", message.c_str());
  write_log("debug", message);
}

}  // namespace guise::cli
