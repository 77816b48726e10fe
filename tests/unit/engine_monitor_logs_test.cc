// The monitor's pure parts: docker's json-file and CRI's k8s-file lines, cutting long
// lines, partial lines at exit, rotation, the restart backoff, health rules, and the
// JSON files the CLI and the monitor share.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/container.h"
#include "engine/monitor_health.h"
#include "engine/monitor_logs.h"
#include "engine/monitor_restart.h"

namespace fs = std::filesystem;
using namespace guise::engine;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

struct timespec at(time_t sec, long nsec) { return {sec, nsec}; }

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/guise-monitor-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST(MonitorLogs, TimeIsGoRfc3339Nano) {
  EXPECT_EQ(log_time(at(1704067200, 123456789)), "2024-01-01T00:00:00.123456789Z");
  EXPECT_EQ(log_time(at(1704067200, 100000000)), "2024-01-01T00:00:00.1Z");
  EXPECT_EQ(log_time(at(1704067200, 0)), "2024-01-01T00:00:00Z");
}

TEST(MonitorLogs, JsonFileLineAsDockerWritesIt) {
  EXPECT_EQ(json_file_line(LogStream::kStdout, "hello\n", "2024-01-01T00:00:00.123456789Z"),
            "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-01T00:00:00.123456789Z\"}\n");
  // Go's encoder: HTML characters and controls escaped, bad UTF-8 replaced.
  EXPECT_EQ(json_file_line(LogStream::kStderr, "<a&b>\t\"\\\x01\xff", "T"),
            "{\"log\":\"\\u003ca\\u0026b\\u003e\\t\\\"\\\\\\u0001\\ufffd\",\"stream\":\"stderr\",\"time\":\"T\"}\n");
  EXPECT_EQ(json_file_line(LogStream::kStdout, "h\xc3\xa9", "T"),
            "{\"log\":\"h\xc3\xa9\",\"stream\":\"stdout\",\"time\":\"T\"}\n");
}

TEST(MonitorLogs, K8sFileLineAsCriWritesIt) {
  EXPECT_EQ(k8s_file_line(LogStream::kStdout, "hello\n", false, "T"), "T stdout F hello\n");
  EXPECT_EQ(k8s_file_line(LogStream::kStderr, "par", true, "T"), "T stderr P par\n");
}

TEST(MonitorLogs, WriterCutsLinesAndKeepsStreamsApart) {
  TempDir d;
  auto w = LogWriter::open({"json-file", d.path() + "/ctr.log", 0, 1});
  ASSERT_TRUE(w.ok());
  auto now = at(1704067200, 5);
  ASSERT_TRUE((*w)->write(LogStream::kStdout, "one\ntw", now).ok());
  ASSERT_TRUE((*w)->write(LogStream::kStderr, "err\n", now).ok());
  ASSERT_TRUE((*w)->write(LogStream::kStdout, "o\nthr", now).ok());
  ASSERT_TRUE((*w)->flush(now).ok());
  auto lines = lines_of(slurp(d.path() + "/ctr.log"));
  ASSERT_EQ(lines.size(), 4u);
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["log"], "one\n");
  EXPECT_EQ(j["stream"], "stdout");
  EXPECT_EQ(j["time"], "2024-01-01T00:00:00.000000005Z");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["log"], "err\n");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["log"], "two\n");
  // The last line had no newline: flushed at exit as it was.
  EXPECT_EQ(nlohmann::json::parse(lines[3])["log"], "thr");
}

TEST(MonitorLogs, LongLineIsSplitAt16KiB) {
  TempDir d;
  auto w = LogWriter::open({"k8s-file", d.path() + "/ctr.log", 0, 1});
  ASSERT_TRUE(w.ok());
  std::string big(kMaxLogLine * 2 + 10, 'x');
  ASSERT_TRUE((*w)->write(LogStream::kStdout, big + "\n", at(0, 0)).ok());
  auto lines = lines_of(slurp(d.path() + "/ctr.log"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "1970-01-01T00:00:00Z stdout P " + std::string(kMaxLogLine, 'x'));
  EXPECT_EQ(lines[1], "1970-01-01T00:00:00Z stdout P " + std::string(kMaxLogLine, 'x'));
  EXPECT_EQ(lines[2], "1970-01-01T00:00:00Z stdout F xxxxxxxxxx");

  TempDir d2;
  auto jw = LogWriter::open({"json-file", d2.path() + "/ctr.log", 0, 1});
  ASSERT_TRUE(jw.ok());
  ASSERT_TRUE((*jw)->write(LogStream::kStdout, big + "\n", at(0, 0)).ok());
  auto jl = lines_of(slurp(d2.path() + "/ctr.log"));
  ASSERT_EQ(jl.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(jl[0])["log"], std::string(kMaxLogLine, 'x'));  // no "\n": a piece
  EXPECT_EQ(nlohmann::json::parse(jl[2])["log"], "xxxxxxxxxx\n");
}

TEST(MonitorLogs, RotatesKeepingMaxFiles) {
  TempDir d;
  std::string log = d.path() + "/ctr.log";
  auto w = LogWriter::open({"k8s-file", log, 100, 3});
  ASSERT_TRUE(w.ok());
  // Each record: "1970-01-01T00:00:00Z stdout F " (30) + 39 + "\n" = 70 bytes: one a file.
  for (char c : std::string("abcde"))
    ASSERT_TRUE((*w)->write(LogStream::kStdout, std::string(39, c) + "\n", at(0, 0)).ok());
  EXPECT_EQ(slurp(log), "1970-01-01T00:00:00Z stdout F " + std::string(39, 'e') + "\n");
  EXPECT_EQ(slurp(log + ".1"), "1970-01-01T00:00:00Z stdout F " + std::string(39, 'd') + "\n");
  EXPECT_EQ(slurp(log + ".2"), "1970-01-01T00:00:00Z stdout F " + std::string(39, 'c') + "\n");
  EXPECT_FALSE(fs::exists(log + ".3"));
}

TEST(MonitorLogs, OneFileIsTruncatedWhenFull) {
  TempDir d;
  std::string log = d.path() + "/ctr.log";
  auto w = LogWriter::open({"k8s-file", log, 100, 1});
  ASSERT_TRUE(w.ok());
  for (char c : std::string("abc"))
    ASSERT_TRUE((*w)->write(LogStream::kStdout, std::string(39, c) + "\n", at(0, 0)).ok());
  EXPECT_EQ(slurp(log), "1970-01-01T00:00:00Z stdout F " + std::string(39, 'c') + "\n");
  EXPECT_FALSE(fs::exists(log + ".1"));
}

TEST(MonitorLogs, NoneWritesNothing) {
  TempDir d;
  auto w = LogWriter::open({"none", d.path() + "/ctr.log", 0, 1});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write(LogStream::kStdout, "x\n", at(0, 0)).ok());
  ASSERT_TRUE((*w)->flush(at(0, 0)).ok());
  EXPECT_FALSE(fs::exists(d.path() + "/ctr.log"));
  EXPECT_FALSE(LogWriter::open({"syslog", d.path() + "/ctr.log", 0, 1}).ok());
}

TEST(MonitorRestart, BackoffDoublesFrom100msAndResetsAfter10s) {
  RestartBackoff b;
  RestartPolicy always{"always", 0};
  ASSERT_TRUE(b.should_restart(always, 0, false, milliseconds(5)));
  EXPECT_EQ(b.delay(), milliseconds(100));
  ASSERT_TRUE(b.should_restart(always, 0, false, milliseconds(5)));
  EXPECT_EQ(b.delay(), milliseconds(200));
  ASSERT_TRUE(b.should_restart(always, 0, false, milliseconds(5)));
  EXPECT_EQ(b.delay(), milliseconds(400));
  ASSERT_TRUE(b.should_restart(always, 1, false, seconds(10)));
  EXPECT_EQ(b.delay(), milliseconds(100));
  EXPECT_EQ(b.restarts(), 4);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.should_restart(always, 0, false, milliseconds(1)));
  EXPECT_EQ(b.delay(), milliseconds(60'000));
}

TEST(MonitorRestart, Policies) {
  RestartBackoff b;
  EXPECT_FALSE(b.should_restart({"no", 0}, 1, false, seconds(1)));
  EXPECT_FALSE(b.should_restart({"always", 0}, 0, true, seconds(1)));        // stopped by hand
  EXPECT_FALSE(b.should_restart({"unless-stopped", 0}, 0, true, seconds(1)));
  EXPECT_TRUE(b.should_restart({"unless-stopped", 0}, 0, false, seconds(1)));
  RestartBackoff f;
  RestartPolicy on2{"on-failure", 2};
  EXPECT_FALSE(f.should_restart(on2, 0, false, seconds(1)));  // success: not a failure
  EXPECT_TRUE(f.should_restart(on2, 3, false, seconds(1)));
  EXPECT_TRUE(f.should_restart(on2, 3, false, seconds(1)));
  EXPECT_FALSE(f.should_restart(on2, 3, false, seconds(1)));  // N restarts, then no more
  EXPECT_EQ(f.restarts(), 2);
  RestartBackoff unlimited;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(unlimited.should_restart({"on-failure", 0}, 1, false, seconds(1)));
}

TEST(MonitorHealth, DockerStatusRules) {
  ContainerStateFile s;
  s.health_status = "starting";
  auto result = [](int code) { return HealthLogEntry{"a", "b", code, "out"}; };
  const int64_t period = 10'000'000'000;
  record_health(s, result(1), 1'000'000'000, period, 2);  // in the start period: not counted
  EXPECT_EQ(s.health_status, "starting");
  EXPECT_EQ(s.health_failing_streak, 0);
  record_health(s, result(0), 2'000'000'000, period, 2);
  EXPECT_EQ(s.health_status, "healthy");
  record_health(s, result(1), 3'000'000'000, period, 2);  // healthy once: counted even in the period
  EXPECT_EQ(s.health_status, "healthy");
  EXPECT_EQ(s.health_failing_streak, 1);
  record_health(s, result(1), 4'000'000'000, period, 2);
  EXPECT_EQ(s.health_status, "unhealthy");
  for (int i = 0; i < 5; ++i) record_health(s, result(i), 20'000'000'000, period, 2);
  ASSERT_EQ(s.health_log.size(), 5u);
  EXPECT_EQ(s.health_log.front().exit_code, 0);
  EXPECT_EQ(s.health_log.back().exit_code, 4);

  ASSERT_TRUE(health_argv({"CMD-SHELL", "true"}).ok());
  EXPECT_EQ(*health_argv({"CMD-SHELL", "exit 1"}), (std::vector<std::string>{"/bin/sh", "-c", "exit 1"}));
  EXPECT_EQ(*health_argv({"CMD", "/bin/true", "x"}), (std::vector<std::string>{"/bin/true", "x"}));
  EXPECT_FALSE(health_argv({"SHELL"}).ok());
}

TEST(MonitorFiles, MonitorConfigRoundTrip) {
  MonitorConfig c;
  c.id = "abc";
  c.store_root = "/var/lib/guise";
  c.runtime_root = "/run/guise";
  c.tty = true;
  c.open_stdin = true;
  c.stdin_once = true;
  c.log_driver = "k8s-file";
  c.log_max_size = 1 << 20;
  c.log_max_file = 3;
  c.restart_policy = "on-failure";
  c.restart_max_retries = 2;
  c.auto_remove = true;
  c.health_cmd = {"CMD-SHELL", "true"};
  c.health_interval_ns = 1;
  c.health_timeout_ns = 2;
  c.health_start_period_ns = 3;
  c.health_retries = 4;
  c.init = true;
  c.joined = {{1234, 5678}};
  auto text = monitor_config_json(c);
  ASSERT_TRUE(text.ok());
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["restart_max_retries"], 2);
  EXPECT_EQ(j["health_cmd"][1], "true");
  auto back = parse_monitor_config(*text);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*monitor_config_json(*back), *text);

  EXPECT_FALSE(parse_monitor_config("{}").ok());                                 // no id
  EXPECT_FALSE(parse_monitor_config("[1]").ok());
  EXPECT_FALSE(parse_monitor_config(R"({"id":"a","tty":"yes"})").ok());         // wrong type
  EXPECT_FALSE(parse_monitor_config(R"({"id":"a","log_driver":"syslog"})").ok());
  EXPECT_FALSE(parse_monitor_config(R"({"id":"a","joined":[{"pid":1}]})").ok());  // no start_time
  auto minimal = parse_monitor_config(R"({"id":"a"})");
  ASSERT_TRUE(minimal.ok());
  EXPECT_EQ(minimal->log_driver, "json-file");
  EXPECT_EQ(minimal->restart_policy, "no");
}

TEST(MonitorFiles, StateRoundTrip) {
  ContainerStateFile s;
  s.status = "exited";
  s.pid = 0;
  s.monitor_pid = 42;
  s.exit_code = 137;
  s.exit_signal = 9;
  s.oom_killed = true;
  s.oom_kills = 2;
  s.error = "boom";
  s.started_at = "2024-01-01T00:00:00.1Z";
  s.finished_at = "2024-01-01T00:00:01.1Z";
  s.restart_count = 3;
  s.health_status = "unhealthy";
  s.health_failing_streak = 3;
  s.health_log = {{"s", "e", 1, "out"}};
  s.init_deaths = {{7, 9}};
  std::string text = state_json(s);
  auto back = parse_state(text);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(state_json(*back), text);
  EXPECT_EQ(back->init_deaths[0].signal, 9);
  EXPECT_EQ(back->health_log[0].output, "out");
  EXPECT_FALSE(parse_state("{\"pid\":\"x\"}").ok());
}

TEST(MonitorFiles, WriteFileAtomicAndMissingState) {
  TempDir d;
  std::string p = d.path() + "/state.json";
  ASSERT_TRUE(write_file_atomic(p, "one").ok());
  ASSERT_TRUE(write_file_atomic(p, "two").ok());
  EXPECT_EQ(slurp(p), "two");
  EXPECT_EQ(std::distance(fs::directory_iterator(d.path()), fs::directory_iterator()), 1);  // no temp left
  EXPECT_FALSE(write_file_atomic(d.path() + "/no/such/dir/x", "x").ok());
  ContainerPaths paths(d.path(), "none");
  auto st = read_state(paths);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, "created");
}
