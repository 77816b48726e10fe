// OCI resource values translated into cgroup file contents.
#include <gtest/gtest.h>

#include "linux/devices.h"
#include "cgroups/values.h"

namespace guise::cgroups {
namespace {

TEST(CgroupsValues, SharesToWeightAsRunc) {
  EXPECT_EQ(shares_to_weight(0), 0u);
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(512), 20u);
  EXPECT_EQ(shares_to_weight(1024), 39u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
  EXPECT_EQ(shares_to_weight(1), 1u);  // below the kernel's minimum: no wrap-around
  for (uint64_t s = 2; s <= 262144; s += 997) EXPECT_EQ(shares_to_weight(s), 1 + ((s - 2) * 9999) / 262142) << s;
}

TEST(CgroupsValues, BlkioWeightToIoWeightAsRunc) {
  EXPECT_EQ(blkio_weight_to_io_weight(0), 0u);
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
}

TEST(CgroupsValues, PidsMax) {
  EXPECT_EQ(pids_max(32), "32");
  EXPECT_EQ(pids_max(-1), "max");
  EXPECT_EQ(pids_max(0), "max");
}

TEST(CgroupsValues, CpuMax) {
  EXPECT_EQ(cpu_max(50000, 100000, ""), "50000 100000");
  EXPECT_EQ(cpu_max(-1, 100000, ""), "max 100000");
  EXPECT_EQ(cpu_max(50000, std::nullopt, "max 100000\n"), "50000 100000");   // keeps the period
  EXPECT_EQ(cpu_max(std::nullopt, 20000, "50000 100000\n"), "50000 20000");  // keeps the quota
  EXPECT_EQ(cpu_max(0, 20000, "max 100000"), "max 20000");
  EXPECT_EQ(cpu_max(std::nullopt, std::nullopt, "max 100000"), "");
  EXPECT_EQ(cpu_max(0, 0, "max 100000"), "");
  EXPECT_EQ(cpu_max(25000, std::nullopt, ""), "25000");
}

TEST(CgroupsValues, MemoryValue) {
  EXPECT_EQ(v2_memory_value(-1), "max");
  EXPECT_EQ(v2_memory_value(0), "");
  EXPECT_EQ(v2_memory_value(67108864), "67108864");
}

std::string swap(std::optional<int64_t> s, std::optional<int64_t> l) {
  auto r = v2_swap_max(s, l);
  return r.ok() ? *r : "error: " + r.error().message();
}

TEST(CgroupsValues, SwapMaxAsRunc) {
  EXPECT_EQ(swap(std::nullopt, std::nullopt), "");
  EXPECT_EQ(swap(std::nullopt, 1000), "");
  EXPECT_EQ(swap(std::nullopt, -1), "max");  // unlimited memory lifts swap
  EXPECT_EQ(swap(-1, 1000), "max");
  EXPECT_EQ(swap(3000, 1000), "2000");
  EXPECT_EQ(swap(1000, 1000), "0");  // memory+swap == memory: no swap
  EXPECT_EQ(swap(500, 1000).rfind("error: memory+swap limit 500 is below", 0), 0u);
  EXPECT_EQ(swap(2000, std::nullopt).rfind("error: a swap limit needs a memory limit", 0), 0u);
  EXPECT_EQ(swap(2000, -1).rfind("error: a swap limit needs", 0), 0u);
}

TEST(CgroupsValues, IoMaxLines) {
  oci::BlockIoResources b;
  b.throttle_read_bps_device = {{8, 0, 1048576}};
  b.throttle_write_bps_device = {{8, 16, 2097152}};
  b.throttle_read_iops_device = {{8, 0, 100}};
  b.throttle_write_iops_device = {{253, 1, 0}};
  EXPECT_EQ(io_max_lines(b),
            (std::vector<std::string>{"8:0 rbps=1048576", "8:16 wbps=2097152", "8:0 riops=100", "253:1 wiops=max"}));
  EXPECT_TRUE(io_max_lines(oci::BlockIoResources{}).empty());
}

TEST(CgroupsValues, DeviceValue) { EXPECT_EQ(device_value(8, 0, 500), "8:0 500"); }

std::string rule(oci::DeviceRule r) {
  auto line = device_rule_line(r);
  return line.ok() ? *line : "error: " + line.error().message();
}

TEST(CgroupsValues, DeviceRuleLines) {
  EXPECT_EQ(rule({true, "c", 1, 3, "rwm"}), "c 1:3 rwm");
  EXPECT_EQ(rule({false, "", std::nullopt, std::nullopt, ""}), "a *:* rwm");
  EXPECT_EQ(rule({true, "c", 136, std::nullopt, "rw"}), "c 136:* rw");
  EXPECT_EQ(rule({true, "b", -1, -1, "m"}), "b *:* m");
  EXPECT_EQ(rule({true, "x", 1, 3, "r"}).rfind("error: device type", 0), 0u);
  EXPECT_EQ(rule({true, "c", 1, 3, "rx"}).rfind("error: device access", 0), 0u);
}

TEST(CgroupsValues, RdmaLine) {
  oci::RdmaLimit both{2, 2000}, handles{5, std::nullopt}, none{};
  EXPECT_EQ(rdma_line("mlx4_0", both), "mlx4_0 hca_handle=2 hca_object=2000");
  EXPECT_EQ(rdma_line("mlx4_0", handles), "mlx4_0 hca_handle=5");
  EXPECT_EQ(rdma_line("mlx4_0", none), "");
}

TEST(CgroupsValues, PageSize) {
  EXPECT_TRUE(check_page_size("2MB").ok());
  EXPECT_TRUE(check_page_size("1GB").ok());
  EXPECT_TRUE(check_page_size("64KB").ok());
  EXPECT_FALSE(check_page_size("2M").ok());
  EXPECT_FALSE(check_page_size("MB").ok());
  EXPECT_FALSE(check_page_size("2MB/../x").ok());
}

TEST(CgroupsValues, UnifiedKey) {
  EXPECT_TRUE(check_unified_key("memory.high").ok());
  EXPECT_TRUE(check_unified_key("io.latency").ok());
  EXPECT_FALSE(check_unified_key("").ok());
  EXPECT_FALSE(check_unified_key("../memory.max").ok());
  EXPECT_FALSE(check_unified_key("sub/memory.max").ok());
  EXPECT_FALSE(check_unified_key("..").ok());
  EXPECT_FALSE(check_unified_key("cgroup.procs").ok());
  EXPECT_FALSE(check_unified_key("cgroup.kill").ok());
}

// The rules a container gets besides its config's all become valid devices.allow lines.
TEST(CgroupsValues, ImplicitDeviceRulesAreValidAllows) {
  oci::DeviceRule deny_all;
  deny_all.access = "rwm";
  auto rules = linux::effective_device_rules({deny_all}, {});
  ASSERT_EQ(rules.size(), 11u);
  EXPECT_FALSE(rules[0].allow);
  EXPECT_EQ(*device_rule_line(rules[0]), "a *:* rwm");
  for (size_t i = 1; i < rules.size(); ++i) {
    EXPECT_TRUE(rules[i].allow);
    EXPECT_TRUE(device_rule_line(rules[i]).ok());
  }
  EXPECT_EQ(*device_rule_line(rules[1]), "c *:* m");
  EXPECT_EQ(*device_rule_line(rules[3]), "c 1:3 rwm");
  EXPECT_EQ(*device_rule_line(rules[10]), "c 5:2 rwm");
  EXPECT_EQ(*device_rule_line(rules[9]), "c 136:* rwm");
}

}  // namespace
}  // namespace guise::cgroups
