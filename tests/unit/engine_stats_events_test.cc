// `guise stats` rows and `guise events` lines: the arithmetic, docker's units and shapes,
// the event log's appends and rotation, filters, the throttle detector, and time flags.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli/guise/human.h"
#include "cli/guise/stats_format.h"
#include "engine/container_stats.h"
#include "engine/event_query.h"
#include "engine/events.h"
#include "sys/syscalls.h"

namespace guise {
namespace {

using engine::Event;

TEST(EngineStats, NetDevSkipsLoopback) {
  auto t = engine::parse_net_dev(
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
      "    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n"
      "  eth0:    2048      12    0    0    0     0          0         0      512       6    0    0    0     0       0          0\n"
      "  eth1:       2       1    0    0    0     0          0         0        3       1    0    0    0     0       0          0\n");
  EXPECT_EQ(t.rx_bytes, 2050u);
  EXPECT_EQ(t.tx_bytes, 515u);
}

engine::StatsSample sample(int64_t ms, uint64_t usage_ms, uint64_t periods, uint64_t throttled, uint64_t thr_ms) {
  engine::StatsSample s;
  s.mono_ns = ms * 1'000'000;
  cgroups::CpuStats cpu;
  cpu.usage_total_ns = usage_ms * 1'000'000;
  cpu.periods = periods;
  cpu.throttled_periods = throttled;
  cpu.throttled_time_ns = thr_ms * 1'000'000;
  s.cgroup.cpu = cpu;
  cgroups::MemoryStats m;
  m.usage = 10 << 20;
  m.limit = cgroups::kUnlimited;
  m.raw["inactive_file"] = 2 << 20;
  m.high_events = 4;
  s.cgroup.memory = m;
  return s;
}

TEST(EngineStats, RowOverTheInterval) {
  auto a = sample(0, 100, 10, 0, 0), b = sample(1000, 600, 20, 8, 400);
  auto r = engine::stats_row(&a, b, 64ull << 20);
  EXPECT_NEAR(r.cpu_percent, 50.0, 1e-9);
  EXPECT_EQ(r.periods, 10u);
  EXPECT_EQ(r.throttled_periods, 8u);
  EXPECT_EQ(r.throttled_ns, 400'000'000u);
  EXPECT_NEAR(r.throttled_percent(), 80.0, 1e-9);
  EXPECT_EQ(r.mem_usage, 8u << 20);          // less inactive page cache
  EXPECT_EQ(r.mem_limit, 64ull << 20);       // no limit: the host's memory
  EXPECT_NEAR(r.mem_percent, 12.5, 1e-9);
  EXPECT_EQ(r.mem_high_events, 4u);
  // One reading only: no rates.
  auto first = engine::stats_row(nullptr, b, 0);
  EXPECT_EQ(first.cpu_percent, 0);
  EXPECT_EQ(first.periods, 0u);
  EXPECT_EQ(first.throttled_periods_total, 8u);
}

TEST(EngineStats, DockerFieldsAndUnits) {
  engine::StatsRow r;
  r.cpu_percent = 49.876;
  r.mem_usage = 1572864;  // 1.5 MiB
  r.mem_limit = 268435456;
  r.mem_percent = 0.5859375;
  r.net_rx = 1234, r.net_tx = 0;
  r.block_read = 4096, r.block_write = 2500000;
  r.pids = 3, r.pids_limit = 0;
  r.periods = 10, r.throttled_periods = 5, r.throttled_ns = 412'000'000;
  auto j = cli::stats_row_json(r, {"web", "0123456789ab", "web"});
  EXPECT_EQ(j["CPUPerc"], "49.88%");
  EXPECT_EQ(j["MemUsage"], "1.5MiB / 256MiB");
  EXPECT_EQ(j["MemPerc"], "0.59%");
  EXPECT_EQ(j["NetIO"], "1.23kB / 0B");
  EXPECT_EQ(j["BlockIO"], "4.1kB / 2.5MB");
  EXPECT_EQ(j["PIDs"], "3");
  EXPECT_EQ(j["PIDsLimit"], "max");
  EXPECT_EQ(j["Container"], "web");
  EXPECT_EQ(j["ID"], "0123456789ab");
  EXPECT_EQ(j["CPUThrottled"], "50.00%");
  EXPECT_EQ(j["ThrottledTime"], "412ms");
  EXPECT_EQ(j["ThrottledPeriods"], 5);
  EXPECT_EQ(j["PSI"], "--");  // no pressure files: said, not the host's numbers
  EXPECT_TRUE(j["Pressure"].is_null());
  EXPECT_EQ(j["MemHighEvents"], "--");
  r.periods = 0;
  cgroups::PressureStats p;
  p.cpu = cgroups::Pressure{{12.345, 0, 0, 0}, cgroups::PressureLine{1.5, 0, 0, 0}};
  r.pressure = p;
  r.mem_high_events = 7;
  j = cli::stats_row_json(r, {"web", "0123456789ab", "web"});
  EXPECT_EQ(j["CPUThrottled"], "--");  // no quota, no periods
  EXPECT_EQ(j["CPUPressure"], "12.35% / 1.50%");
  EXPECT_EQ(j["MemPressure"], "--");
  EXPECT_EQ(j["PSI"], "12.3 / -- / --");
  EXPECT_DOUBLE_EQ(j["Pressure"]["cpu"]["some"].get<double>(), 12.345);
  EXPECT_EQ(j["MemHighEvents"], "7");
}

TEST(EngineStats, BinarySizes) {
  EXPECT_EQ(cli::binary_size(0), "0B");
  EXPECT_EQ(cli::binary_size(1023), "1023B");
  EXPECT_EQ(cli::binary_size(1536), "1.5KiB");
  EXPECT_EQ(cli::binary_size(8199520256ull), "7.636GiB");
  EXPECT_EQ(cli::short_duration(0), "0s");
  EXPECT_EQ(cli::short_duration(1'250'000'000), "1.25s");
}

Event sample_event() {
  Event e;
  e.action = "die";
  e.id = "abc123";
  e.time_ns = 1'764'921'600'000'000'007;  // 2025-12-05T08:00:00.000000007Z
  e.attributes = {{"name", "web"}, {"image", "bb"}, {"exitCode", "137"}};
  return e;
}

TEST(EngineEvents, DockerTextAndJson) {
  Event e = sample_event();
  EXPECT_EQ(engine::event_text(e), "2025-12-05T08:00:00.000000007Z container die abc123 (exitCode=137, image=bb, name=web)");
  auto j = nlohmann::json::parse(engine::event_json(e));
  EXPECT_EQ(j["status"], "die");
  EXPECT_EQ(j["id"], "abc123");
  EXPECT_EQ(j["from"], "bb");
  EXPECT_EQ(j["Type"], "container");
  EXPECT_EQ(j["Action"], "die");
  EXPECT_EQ(j["Actor"]["ID"], "abc123");
  EXPECT_EQ(j["Actor"]["Attributes"]["exitCode"], "137");
  EXPECT_EQ(j["scope"], "local");
  EXPECT_EQ(j["time"], 1764921600);
  EXPECT_EQ(j["timeNano"], 1764921600000000007);
  auto back = engine::parse_event(engine::event_json(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->attributes, e.attributes);
  EXPECT_EQ(back->time_ns, e.time_ns);
  EXPECT_FALSE(engine::parse_event("{\"Type\":\"container\"}").ok());
  EXPECT_FALSE(engine::parse_event("not json").ok());
}

TEST(EngineEvents, OneLineFitsOneAtomicWrite) {
  Event e = sample_event();
  e.attributes["image"] = std::string(10000, 'x');
  std::string line = engine::event_json(e);
  EXPECT_LT(line.size(), engine::kMaxEventLine);
  EXPECT_TRUE(engine::parse_event(line).ok());
}

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/guise-events-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

TEST(EngineEvents, ConcurrentAppendsNeverInterleave) {
  TempDir d;
  constexpr int kWriters = 4, kEach = 300;
  std::vector<pid_t> kids;
  for (int w = 0; w < kWriters; ++w) {
    pid_t p = ::fork();
    if (p == 0) {
      for (int i = 0; i < kEach; ++i) {
        Event e = sample_event();
        e.id = std::to_string(w) + "-" + std::to_string(i);
        e.attributes["pad"] = std::string(1500, char('a' + w));
        (void)engine::append_event(d.path, e);
      }
      ::_exit(0);
    }
    kids.push_back(p);
  }
  for (pid_t p : kids) ::waitpid(p, nullptr, 0);
  std::ifstream in(engine::event_log_path(d.path));
  std::set<std::string> ids;
  for (std::string line; std::getline(in, line);) {
    auto e = engine::parse_event(line);
    ASSERT_TRUE(e.ok()) << line.substr(0, 80);
    ids.insert(e->id);
  }
  EXPECT_EQ(ids.size(), size_t(kWriters * kEach));
}

TEST(EngineEvents, RotatesPastTheCap) {
  TempDir d;
  std::string path = engine::event_log_path(d.path);
  {
    std::ofstream big(path);
    big << std::string(engine::kEventLogMax, '\n');
  }
  ASSERT_TRUE(engine::append_event(d.path, sample_event()).ok());
  struct stat st {};
  ASSERT_EQ(::stat((path + ".1").c_str(), &st), 0);
  EXPECT_GT(uint64_t(st.st_size), engine::kEventLogMax);
  EXPECT_NE(::stat(path.c_str(), &st), 0);  // the next append starts it again
  ASSERT_TRUE(engine::append_event(d.path, sample_event()).ok());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_LT(uint64_t(st.st_size), engine::kMaxEventLine);
}

TEST(EngineEvents, Filters) {
  Event e = sample_event();
  auto f = [&](std::vector<std::string> args) {
    auto parsed = engine::parse_event_filters(args);
    EXPECT_TRUE(parsed.ok());
    return engine::event_matches(*parsed, e);
  };
  EXPECT_TRUE(f({}));
  EXPECT_TRUE(f({"type=container", "event=die"}));
  EXPECT_TRUE(f({"event=start", "event=die"}));  // one key: any value
  EXPECT_FALSE(f({"event=die", "container=other"}));  // keys: all
  EXPECT_TRUE(f({"container=web"}));
  EXPECT_TRUE(f({"container=abc"}));  // an id prefix
  EXPECT_TRUE(f({"image=bb"}));
  EXPECT_FALSE(f({"type=image"}));
  auto bad = engine::parse_event_filters({"colour=red"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("colour"), std::string::npos);
  EXPECT_FALSE(engine::parse_event_filters({"event"}).ok());
}

TEST(EngineEvents, ThrottleWatchIsEdgeTriggered) {
  engine::ThrottleWatch w(10);
  auto cpu = [](uint64_t periods, uint64_t throttled) {
    cgroups::CpuStats c;
    c.periods = periods, c.throttled_periods = throttled, c.throttled_time_ns = throttled * 50'000'000;
    return c;
  };
  EXPECT_FALSE(w.update("a", cpu(0, 0), 1));     // first look
  auto e = w.update("a", cpu(10, 5), 2);           // 50% throttled
  ASSERT_TRUE(e);
  EXPECT_EQ(e->action, "throttled");
  EXPECT_EQ(e->attributes["throttledPercent"], "50.0");
  EXPECT_EQ(e->attributes["periods"], "10");
  EXPECT_FALSE(w.update("a", cpu(20, 10), 3));   // still above: said already
  EXPECT_FALSE(w.update("a", cpu(30, 10), 4));   // below
  EXPECT_TRUE(w.update("a", cpu(40, 20), 5));    // above again
  EXPECT_FALSE(w.update("b", cpu(0, 0), 1));
  EXPECT_FALSE(w.update("b", cpu(0, 0), 2));     // no quota: no periods, never throttled
  EXPECT_FALSE(w.update("c", cpu(10, 0), 1));
  EXPECT_FALSE(w.update("c", cpu(20, 1), 2));    // 10%: not above 10
}

TEST(EngineEvents, TimeFlags) {
  int64_t now = 1'764'921'600'000'000'000;
  auto t = [&](const char* s) { return cli::parse_event_time(s, now, "--since"); };
  EXPECT_EQ(*t("1764921600"), now);
  EXPECT_EQ(*t("1764921600.5"), now + 500'000'000);
  EXPECT_EQ(*t("2025-12-05T08:00:00Z"), now);
  EXPECT_EQ(*t("2025-12-05T08:00:00.000000007Z"), now + 7);
  EXPECT_EQ(*t("2025-12-05T09:00:00+01:00"), now);
  EXPECT_EQ(*t("2025-12-05"), now - 8 * 3600 * 1'000'000'000ll);
  EXPECT_EQ(*t("10m"), now - 600 * 1'000'000'000ll);
  auto bad = t("yesterday");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("--since \"yesterday\""), std::string::npos);
  EXPECT_FALSE(t("2025-13-45").ok());
  EXPECT_FALSE(t("").ok());
}

}  // namespace
}  // namespace guise
