// The stats readers of both drivers over directories laid out as the kernel shows a
// cgroup's (tests/unit/fixtures/cgroups): throttling, memory.high events, pressure.
#include <gtest/gtest.h>

#include "cgroups/stats_parse.h"
#include "cgroups/v1.h"
#include "cgroups/v2.h"

namespace guise::cgroups {
namespace {

std::string fixture(const std::string& name) { return std::string(GUISE_UNIT_FIXTURES) + "/cgroups/" + name; }

TEST(CgroupsStatsRead, PressureFile) {
  auto p = parse_pressure("some avg10=1.50 avg60=0.20 avg300=0.05 total=123456\nfull avg10=0.50 avg60=0.10 avg300=0.01 total=7\n");
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->some.avg10, 1.5);
  EXPECT_DOUBLE_EQ(p->some.avg300, 0.05);
  EXPECT_EQ(p->some.total_us, 123456u);
  ASSERT_TRUE(p->full);
  EXPECT_DOUBLE_EQ(p->full->avg10, 0.5);
  // cpu.pressure before Linux 5.13: no "full" line.
  auto cpu = parse_pressure("some avg10=3.00 avg60=0.00 avg300=0.00 total=9\n");
  ASSERT_TRUE(cpu);
  EXPECT_FALSE(cpu->full);
  EXPECT_FALSE(parse_pressure(""));
  EXPECT_FALSE(parse_pressure("full avg10=1.00 avg60=0 avg300=0 total=1\n"));
}

TEST(CgroupsStatsRead, V2ThrottlingHighEventsPressure) {
  auto s = v2::read_stats(fixture("v2-throttled"));
  ASSERT_TRUE(s.ok()) << s.error().message();
  ASSERT_TRUE(s->cpu);
  EXPECT_EQ(s->cpu->periods, 40u);
  EXPECT_EQ(s->cpu->throttled_periods, 30u);
  EXPECT_EQ(s->cpu->throttled_time_ns, 1'500'000'000u);
  ASSERT_TRUE(s->memory);
  EXPECT_EQ(s->memory->high_events, 17u);
  EXPECT_EQ(s->memory->high_limit, 33554432u);
  EXPECT_EQ(s->memory->oom_kill, 1u);
  ASSERT_TRUE(s->pids);
  EXPECT_EQ(s->pids->limit, 64u);
  ASSERT_TRUE(s->pressure);
  ASSERT_TRUE(s->pressure->cpu);
  EXPECT_DOUBLE_EQ(s->pressure->cpu->some.avg10, 42.5);
  EXPECT_DOUBLE_EQ(s->pressure->cpu->full->avg10, 40.0);
  EXPECT_DOUBLE_EQ(s->pressure->memory->full->avg10, 0.75);
  ASSERT_TRUE(s->pressure->io);
}

TEST(CgroupsStatsRead, V2WithoutPsiHasNoPressure) {
  auto s = v2::read_stats(fixture("v2-nopsi"));
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_FALSE(s->pressure);
  EXPECT_FALSE(s->memory);
}

TEST(CgroupsStatsRead, V1ThrottlingAndHybridPressure) {
  std::string d = fixture("v1-throttled");
  v1::Dirs dirs({{"cpu", d + "/cpu"}, {"cpuacct", d + "/cpuacct"}, {"memory", d + "/memory"},
                 {"pids", d + "/pids"}, {"unified", d + "/unified"}});
  auto s = v1::read_stats(dirs);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->cpu->usage_total_ns, 3'000'000'000u);
  EXPECT_EQ(s->cpu->periods, 50u);
  EXPECT_EQ(s->cpu->throttled_periods, 20u);
  EXPECT_EQ(s->cpu->throttled_time_ns, 900'000'000u);
  EXPECT_FALSE(s->memory->high_events);  // v1 has no memory.high
  EXPECT_EQ(s->memory->oom_kill, 2u);
  EXPECT_EQ(s->pids->limit, 0u);
  // A hybrid host's cgroup2 directory has the container's own pressure.
  ASSERT_TRUE(s->pressure);
  EXPECT_DOUBLE_EQ(s->pressure->cpu->some.avg10, 12.0);
  EXPECT_FALSE(s->pressure->memory);
}

TEST(CgroupsStatsRead, V1OnlyHasNoPressure) {
  v1::Dirs dirs({{"cpu", fixture("v1-nounified") + "/cpu"}});
  auto s = v1::read_stats(dirs);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->cpu->throttled_periods, 20u);
  EXPECT_FALSE(s->pressure);  // never the host's /proc/pressure
}

}  // namespace
}  // namespace guise::cgroups
