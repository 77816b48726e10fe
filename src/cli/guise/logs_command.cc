// logs: the monitor's log file read back, as docker prints it (json-file or k8s-file).
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <thread>

#include "cli/common/duration.h"
#include "cli/guise/container_common.h"
#include "cli/guise/human.h"

namespace guise::cli {

namespace {

struct LogsFlags {
  std::string name, tail = "all", since, until;
  bool follow = false, timestamps = false, details = false;
};

struct LogLine {
  std::string time, stream, text;  // text with its newline when the line had one
};

// One line of the file in either format; nullopt for what is not a log line.
std::optional<LogLine> parse_line(const std::string& raw) {
  if (raw.empty()) return std::nullopt;
  if (raw[0] == '{') {
    auto j = nlohmann::json::parse(raw, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return LogLine{j.value("time", ""), j.value("stream", "stdout"), j.value("log", "")};
  }
  // k8s-file: TIME STREAM F|P TEXT
  auto a = raw.find(' ');
  auto b = a == std::string::npos ? a : raw.find(' ', a + 1);
  auto c = b == std::string::npos ? b : raw.find(' ', b + 1);
  if (c == std::string::npos) return std::nullopt;
  std::string tag = raw.substr(b + 1, c - b - 1);
  return LogLine{raw.substr(0, a), raw.substr(a + 1, b - a - 1), raw.substr(c + 1) + (tag == "P" ? "" : "\n")};
}

// --since/--until: RFC 3339, a Unix time, or a duration before now ("10m").
Result<std::optional<int64_t>> parse_time_flag(const std::string& text, const char* flag) {
  if (text.empty()) return std::optional<int64_t>();
  if (auto t = parse_rfc3339(text)) return std::optional<int64_t>(*t * 1'000'000'000);
  if (text.find_first_not_of("0123456789.") == std::string::npos)
    return std::optional<int64_t>(static_cast<int64_t>(std::stod(text) * 1e9));
  auto d = parse_duration(text);
  if (!d) return sys::user_error(std::string("invalid value for \"") + flag + "\": " + text);
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::optional<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() - d->count());
}

int64_t nanos_of(const std::string& rfc3339) {
  auto s = parse_rfc3339(rfc3339);
  if (!s) return 0;
  int64_t ns = *s * 1'000'000'000;
  auto dot = rfc3339.find('.');
  if (dot != std::string::npos) {
    std::string frac;
    for (size_t i = dot + 1; i < rfc3339.size() && std::isdigit(static_cast<unsigned char>(rfc3339[i])); ++i) frac += rfc3339[i];
    frac.resize(9, '0');
    ns += std::stoll(frac);
  }
  return ns;
}

struct Printer {
  const LogsFlags& f;
  std::optional<int64_t> since, until;
  bool print(const LogLine& l) {
    int64_t t = nanos_of(l.time);
    if (since && t < *since) return true;
    if (until && t > *until) return false;
    FILE* out = l.stream == "stderr" ? stderr : stdout;
    if (f.timestamps) std::fprintf(out, "%s ", l.time.c_str());
    std::fwrite(l.text.data(), 1, l.text.size(), out);
    std::fflush(out);
    return true;
  }
};

void logs(Context& ctx, const LogsFlags& f) {
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  auto id = cs->resolve(f.name);
  if (!id) return ctx.fail(id.error());
  auto rec = cs->read_record(*id);
  if (!rec) return ctx.fail(rec.error());
  std::string driver = "json-file";
  if (rec->host_config.contains("LogConfig") && rec->host_config["LogConfig"].contains("Type"))
    driver = rec->host_config["LogConfig"]["Type"].get<std::string>();
  if (driver == "none")
    return ctx.fail("configured logging driver does not support reading");
  auto since = parse_time_flag(f.since, "--since");
  auto until = parse_time_flag(f.until, "--until");
  if (!since) return ctx.fail(since.error());
  if (!until) return ctx.fail(until.error());
  long tail = -1;
  if (f.tail != "all") {
    try {
      tail = std::stol(f.tail);
    } catch (...) {
      return ctx.fail("invalid value for \"--tail\": " + f.tail);
    }
  }
  Printer p{f, *since, *until};
  std::string path = cs->paths(*id).log();
  // Rotated files first (oldest is the highest number), then the live one.
  std::vector<std::string> files;
  for (int i = 20; i >= 1; --i)
    if (::access((path + "." + std::to_string(i)).c_str(), F_OK) == 0) files.push_back(path + "." + std::to_string(i));
  files.push_back(path);
  std::deque<LogLine> tail_lines;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string raw;
    while (std::getline(in, raw)) {
      auto l = parse_line(raw);
      if (!l) continue;
      if (tail >= 0) {
        tail_lines.push_back(*l);
        if (static_cast<long>(tail_lines.size()) > tail) tail_lines.pop_front();
      } else if (!p.print(*l)) {
        return;
      }
    }
  }
  for (const auto& l : tail_lines)
    if (!p.print(l)) return;
  if (!f.follow) return;
  // Follow the live file: new lines as they come, a rotation (new inode) read from its start,
  // until the container is no longer running and nothing more arrives.
  std::ifstream in(path);
  in.seekg(0, std::ios::end);
  struct stat st {};
  ::stat(path.c_str(), &st);
  ino_t inode = st.st_ino;
  std::string partial;
  for (;;) {
    std::string raw;
    bool got = false;
    while (std::getline(in, raw)) {
      if (in.eof()) {  // no newline yet: the writer is mid-line
        partial += raw;
        break;
      }
      got = true;
      auto l = parse_line(partial + raw);
      partial.clear();
      if (l && !p.print(*l)) return;
    }
    in.clear();
    struct stat now {};
    if (::stat(path.c_str(), &now) == 0 && now.st_ino != inode) {
      inode = now.st_ino;
      in.close();
      in.open(path);
      continue;
    }
    if (!got) {
      auto v = engine::view_container(*cs, *id);
      if (!v || (!v->running() && v->status() != "paused")) {
        // One last read: what the monitor flushed at exit.
        while (std::getline(in, raw))
          if (auto l = parse_line(raw)) p.print(*l);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace

void register_logs_command(CLI::App& app, Context& ctx) {
  static LogsFlags f;
  CLI::App* container = app.get_subcommand("container");
  for (auto* c : {app.add_subcommand("logs", "Fetch a container's logs"), container->add_subcommand("logs", "Fetch a container's logs")}) {
    c->add_option("CONTAINER", f.name)->required();
    c->add_flag("-f,--follow", f.follow, "follow log output");
    c->add_option("-n,--tail", f.tail, "number of lines from the end (default all)");
    c->add_option("--since", f.since, "since a timestamp (2013-01-02T13:23:37Z) or a relative time (42m)");
    c->add_option("--until", f.until, "until a timestamp or a relative time");
    c->add_flag("-t,--timestamps", f.timestamps, "show timestamps");
    c->add_flag("--details", f.details, "accepted for docker's sake");
    c->callback([&ctx] { logs(ctx, f); });
  }
}

}  // namespace guise::cli
