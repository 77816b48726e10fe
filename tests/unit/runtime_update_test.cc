// `update`'s reading of flags and JSON, the record it keeps, and `events`' JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/common/duration.h"
#include "cli/common/size.h"
#include "cli/oci/events_json.h"
#include "cli/oci/update_flags.h"
#include "oci/parse.h"
#include "oci/write.h"
#include "runtime/resources_store.h"
#include "runtime/runtime.h"

namespace guise::runtime {
namespace {

// The request's reading is guise-oci's (runc's flags and -r JSON); merging and storing
// are the runtime's.
using cli::drop_unset;
using cli::oom_event;
using cli::parse_duration;
using cli::parse_ram_bytes;
using cli::stats_event;
using cli::update_from_flags;
using oci::parse_resources;
using oci::resources_json;
using UpdateOptions = cli::UpdateFlags;

int64_t ram(const std::string& s) {
  auto r = parse_ram_bytes(s, "memory");
  return r.ok() ? *r : -2;
}

TEST(RuntimeUpdate, RamSizesAsDocker) {
  EXPECT_EQ(ram("1024"), 1024);
  EXPECT_EQ(ram("64m"), 64 << 20);
  EXPECT_EQ(ram("64M"), 64 << 20);
  EXPECT_EQ(ram("64MB"), 64 << 20);
  EXPECT_EQ(ram("64MiB"), 64 << 20);
  EXPECT_EQ(ram("1g"), int64_t{1} << 30);
  EXPECT_EQ(ram("1.5k"), 1536);
  EXPECT_EQ(ram("2 kb"), 2048);
  EXPECT_EQ(ram("-1"), -1);
  EXPECT_EQ(ram("m"), -2);
  EXPECT_EQ(ram("12x"), -2);
  EXPECT_EQ(ram("-5"), -2);
}

TEST(RuntimeUpdate, FlagsZeroMeansUnset) {
  UpdateOptions o;
  o.memory = "64m";
  o.memory_swap = "128m";
  o.cpu_quota = "50000";
  o.cpu_period = "0";
  o.pids_limit = 0;
  auto r = update_from_flags(o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->memory);
  EXPECT_EQ(r->memory->limit, 64 << 20);
  EXPECT_EQ(r->memory->swap, 128 << 20);
  EXPECT_FALSE(r->memory->reservation);
  ASSERT_TRUE(r->cpu);
  EXPECT_EQ(r->cpu->quota, 50000);
  EXPECT_FALSE(r->cpu->period);
  EXPECT_FALSE(r->cpu->shares);
  EXPECT_FALSE(r->pids_limit);
  EXPECT_FALSE(r->block_io);

  UpdateOptions none;
  auto empty = update_from_flags(none);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->memory || empty->cpu || empty->pids_limit || empty->block_io);

  UpdateOptions bad;
  bad.cpu_share = "-3";
  EXPECT_FALSE(update_from_flags(bad).ok());
  bad = {};
  bad.blkio_weight = 5;
  EXPECT_FALSE(update_from_flags(bad).ok());
  bad = {};
  bad.l3_cache_schema = "L3:0=ff";
  EXPECT_FALSE(update_from_flags(bad).ok());
}

TEST(RuntimeUpdate, DockerJsonZerosLeaveLimitsAlone) {
  auto parsed = parse_resources(
      R"({"memory":{"limit":0,"reservation":0,"swap":0,"kernel":0,"kernelTCP":0,"swappiness":null},
          "cpu":{"shares":0,"quota":25000,"period":0,"realtimeRuntime":0,"realtimePeriod":0,"cpus":"","mems":""},
          "pids":{"limit":0},"blockIO":{"weight":0},"unified":{"memory.high":"100M"}})",
      "test");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  auto r = drop_unset(*parsed);
  EXPECT_FALSE(r.memory);
  ASSERT_TRUE(r.cpu);
  EXPECT_EQ(r.cpu->quota, 25000);
  EXPECT_FALSE(r.cpu->period);
  EXPECT_FALSE(r.pids_limit);
  EXPECT_FALSE(r.block_io);
  EXPECT_EQ(r.unified.at("memory.high"), "100M");
  auto bad = parse_resources(R"({"memory":{"limit":"lots"}})", "--resources x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("memory.limit"), std::string::npos) << bad.error().message();
}

TEST(RuntimeUpdate, MergeKeepsWhatTheChangeLeavesOut) {
  oci::Resources stored;
  stored.memory.emplace().limit = 32 << 20;
  stored.memory->swap = 32 << 20;
  stored.cpu.emplace().shares = 512;
  stored.pids_limit = 10;
  stored.unified["memory.high"] = "max";
  oci::Resources change;
  change.memory.emplace().limit = 64 << 20;
  change.cpu.emplace().quota = 50000;
  change.unified["pids.max"] = "5";
  auto m = merge_resources(stored, change);
  EXPECT_EQ(m.memory->limit, 64 << 20);
  EXPECT_EQ(m.memory->swap, 32 << 20);
  EXPECT_EQ(m.cpu->shares, 512u);
  EXPECT_EQ(m.cpu->quota, 50000);
  EXPECT_EQ(m.pids_limit, 10);
  EXPECT_EQ(m.unified.size(), 2u);
}

// Every linux.resources field, with a value that differs from its default. Written
// out by hand so that a field dropped by both the writer and the parser is missed
// here, where comparing the writer's output with itself after a parse would not see it.
constexpr const char* kAllResources = R"json({
  "devices": [
    {"allow": false, "access": "rwm"},
    {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}
  ],
  "memory": {"limit": 1048576, "reservation": 524288, "swap": 2097152, "kernel": -1, "kernelTCP": 65536,
             "swappiness": 60, "disableOOMKiller": false, "useHierarchy": true, "checkBeforeUpdate": true},
  "cpu": {"shares": 512, "quota": -1, "burst": 1000, "period": 100000, "realtimeRuntime": 950000,
          "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0", "idle": 1},
  "pids": {"limit": -1},
  "blockIO": {
    "weight": 300,
    "leafWeight": 200,
    "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 100}],
    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
    "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2097152}],
    "throttleReadIOPSDevice": [{"major": 8, "minor": 32, "rate": 100}],
    "throttleWriteIOPSDevice": [{"major": 8, "minor": 48, "rate": 200}]
  },
  "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
  "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]},
  "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
  "unified": {"io.weight": "50"}
})json";

TEST(RuntimeUpdate, ResourcesJsonRoundTrips) {
  auto expect_all = [](const std::string& written) {
    auto got = nlohmann::json::parse(written);
    auto want = nlohmann::json::parse(kAllResources);
    EXPECT_EQ(got, want) << "patch from written to expected: " << nlohmann::json::diff(got, want).dump();
  };
  // Set field by field, so that the writer is checked without the parser's help.
  oci::Resources r;
  r.devices.push_back({false, "", std::nullopt, std::nullopt, "rwm"});
  r.devices.push_back({true, "c", 10, 229, "rw"});
  auto& m = r.memory.emplace();
  m.limit = 1 << 20;
  m.reservation = 512 << 10;
  m.swap = 2 << 20;
  m.kernel = -1;
  m.kernel_tcp = 64 << 10;
  m.swappiness = 60;
  m.disable_oom_killer = false;
  m.use_hierarchy = true;
  m.check_before_update = true;
  auto& c = r.cpu.emplace();
  c.shares = 512;
  c.quota = -1;
  c.burst = 1000;
  c.period = 100000;
  c.realtime_runtime = 950000;
  c.realtime_period = 1000000;
  c.cpus = "0-1";
  c.mems = "0";
  c.idle = 1;
  r.pids_limit = -1;
  auto& b = r.block_io.emplace();
  b.weight = 300;
  b.leaf_weight = 200;
  b.weight_device.push_back({8, 0, 600, 100});
  b.throttle_read_bps_device.push_back({8, 0, 1048576});
  b.throttle_write_bps_device.push_back({8, 16, 2097152});
  b.throttle_read_iops_device.push_back({8, 32, 100});
  b.throttle_write_iops_device.push_back({8, 48, 200});
  r.hugepage_limits.push_back({"2MB", 4 << 20});
  auto& n = r.network.emplace();
  n.class_id = 0x100001;
  n.priorities.push_back({"eth0", 5});
  r.rdma["mlx5_1"] = {3, 10000};
  r.unified["io.weight"] = "50";
  expect_all(resources_json(r));

  auto back = parse_resources(kAllResources, "round trip");
  ASSERT_TRUE(back.ok()) << back.error().message();
  expect_all(resources_json(*back));
}

TEST(RuntimeEvents, Durations) {
  EXPECT_EQ(parse_duration("5s")->count(), 5'000'000'000);
  EXPECT_EQ(parse_duration("100ms")->count(), 100'000'000);
  EXPECT_EQ(parse_duration("1m30s")->count(), 90'000'000'000);
  EXPECT_EQ(parse_duration("1.5h")->count(), 5'400'000'000'000);
  EXPECT_EQ(parse_duration("250us")->count(), 250'000);
  EXPECT_FALSE(parse_duration("5").ok());
  EXPECT_FALSE(parse_duration("5x").ok());
  EXPECT_FALSE(parse_duration("").ok());
  EXPECT_FALSE(parse_duration("-1s").ok());
}

TEST(RuntimeEvents, StatsShapeIsRuncs) {
  cgroups::Stats s;
  s.cpu.emplace().usage_total_ns = 1000;
  s.cpu->usage_per_cpu_ns = {600, 400};
  s.cpu->throttled_periods = 3;
  s.memory.emplace().usage = 4096;
  s.memory->limit = 1 << 20;
  s.memory->raw["cache"] = 0;
  s.pids.emplace().current = 2;
  s.hugetlb["2MB"] = {};
  auto j = nlohmann::json::parse(stats_event("abc", s));
  EXPECT_EQ(j["type"], "stats");
  EXPECT_EQ(j["id"], "abc");
  const auto& d = j["data"];
  EXPECT_EQ(d["cpu"]["usage"]["total"], 1000);
  EXPECT_EQ(d["cpu"]["usage"]["percpu"], nlohmann::json::array({600, 400}));
  EXPECT_EQ(d["cpu"]["usage"]["kernel"], 0);  // never omitted
  EXPECT_FALSE(d["cpu"]["throttling"].contains("periods"));
  EXPECT_EQ(d["cpu"]["throttling"]["throttledPeriods"], 3);
  EXPECT_EQ(d["memory"]["usage"]["limit"], 1 << 20);
  EXPECT_EQ(d["memory"]["usage"]["usage"], 4096);
  EXPECT_EQ(d["memory"]["usage"]["failcnt"], 0);
  EXPECT_EQ(d["memory"]["swap"]["limit"], 0);
  EXPECT_EQ(d["pids"]["current"], 2);
  EXPECT_FALSE(d["pids"].contains("limit"));
  EXPECT_TRUE(d["blkio"].is_object());
  EXPECT_EQ(d["hugetlb"]["2MB"]["failcnt"], 0);
  EXPECT_TRUE(d["intel_rdt"].is_object());
  EXPECT_TRUE(d["network_interfaces"].is_null());
  EXPECT_EQ(oom_event("abc"), R"({"type":"oom","id":"abc"})");
}

}  // namespace
}  // namespace guise::runtime
