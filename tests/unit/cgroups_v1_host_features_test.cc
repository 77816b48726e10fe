// The v1 writers on a host that lacks what a field needs, on an ordinary temporary
// directory standing in for the container's cgroup (no root needed): a weight without
// a BFQ or CFQ weight file, swap without swap accounting, burst, idle, realtime and huge
// page sizes the kernel does not have. Each is refused with the field and the reason,
// before anything is written; where the file is there the value lands in it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cgroups/v1.h"
#include "sys/log.h"

namespace guise::cgroups::v1 {
namespace {

class V1HostFeatures : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-v1-features-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    for (const char* c : {"blkio", "memory", "cpu", "hugetlb"}) ::mkdir((root_ + "/" + c).c_str(), 0755);
    dirs_ = Dirs({{"blkio", root_ + "/blkio"},
                  {"memory", root_ + "/memory"},
                  {"cpu", root_ + "/cpu"},
                  {"hugetlb", root_ + "/hugetlb"}});
  }
  void TearDown() override { (void)std::system(("rm -rf " + root_).c_str()); }

  void put(const std::string& rel, const std::string& text = "") { std::ofstream(root_ + "/" + rel) << text; }
  std::string get(const std::string& rel) {
    std::ifstream in(root_ + "/" + rel);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // The throttle files every blkio cgroup has, whatever the schedulers.
  void blkio_without_weights() {
    for (const char* f : {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                          "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"})
      put(std::string("blkio/") + f);
  }

  std::string root_;
  Dirs dirs_;
};

oci::Resources blkio(oci::BlockIoResources b) {
  oci::Resources r;
  r.block_io = std::move(b);
  return r;
}

TEST_F(V1HostFeatures, WeightWithoutAWeightFileIsRefusedWithTheReason) {
  blkio_without_weights();
  oci::BlockIoResources b;
  b.weight = 500;
  b.throttle_read_bps_device.push_back({8, 0, 1048576});
  auto r = apply_blkio(dirs_, blkio(b));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "linux.resources.blockIO.weight: this host has no blkio weight file (the BFQ I/O scheduler is not in use "
            "on any disk)");
  EXPECT_EQ(get("blkio/blkio.throttle.read_bps_device"), "");  // refused before anything was written
}

TEST_F(V1HostFeatures, WeightDeviceWithoutAWeightFileIsRefusedWithTheReason) {
  blkio_without_weights();
  oci::BlockIoResources b;
  b.weight_device.push_back({8, 0, 300, std::nullopt});
  auto r = apply_blkio(dirs_, blkio(b));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "linux.resources.blockIO.weightDevice: this host has no blkio weight file (the BFQ I/O scheduler is not "
            "in use on any disk)");
}

TEST_F(V1HostFeatures, LeafWeightsWithoutCfqAreRefusedWithTheReason) {
  blkio_without_weights();
  put("blkio/blkio.bfq.weight");
  put("blkio/blkio.bfq.weight_device");
  oci::BlockIoResources leaf;
  leaf.leaf_weight = 500;
  auto r = apply_blkio(dirs_, blkio(leaf));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "linux.resources.blockIO.leafWeight: this host has no blkio leaf weight file (leaf weights are CFQ's, and "
            "the CFQ I/O scheduler is not in use on any disk)");
  oci::BlockIoResources device_leaf;
  device_leaf.weight_device.push_back({8, 0, std::nullopt, 200});
  r = apply_blkio(dirs_, blkio(device_leaf));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("linux.resources.blockIO.weightDevice.leafWeight: this host has no blkio leaf"),
            std::string::npos)
      << r.error().message();
}

TEST_F(V1HostFeatures, WeightGoesToBfqWhereCfqIsGoneAndToCfqWhereItIsThere) {
  blkio_without_weights();
  put("blkio/blkio.bfq.weight");
  put("blkio/blkio.bfq.weight_device");
  oci::BlockIoResources b;
  b.weight = 500;
  b.weight_device.push_back({8, 0, 300, std::nullopt});
  ASSERT_TRUE(apply_blkio(dirs_, blkio(b)).ok());
  EXPECT_EQ(get("blkio/blkio.bfq.weight"), "500");
  EXPECT_EQ(get("blkio/blkio.bfq.weight_device"), "8:0 300");
  put("blkio/blkio.weight");
  put("blkio/blkio.weight_device");
  put("blkio/blkio.bfq.weight");
  ASSERT_TRUE(apply_blkio(dirs_, blkio(b)).ok());
  EXPECT_EQ(get("blkio/blkio.weight"), "500");
  EXPECT_EQ(get("blkio/blkio.weight_device"), "8:0 300");
  EXPECT_EQ(get("blkio/blkio.bfq.weight"), "");
}

TEST_F(V1HostFeatures, SwapWithoutSwapAccountingIsRefusedAndUnlimitedHolds) {
  put("memory/memory.limit_in_bytes");
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.memory->swap = 96 << 20;
  auto done = apply_memory(dirs_, r);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().message(),
            "linux.resources.memory.swap: this host has no memory.memsw.limit_in_bytes (swap accounting is off)");
  EXPECT_EQ(get("memory/memory.limit_in_bytes"), "");  // refused before anything was written
  // Unlimited swap holds without accounting: only the limit is written.
  r.memory->swap = -1;
  ASSERT_TRUE(apply_memory(dirs_, r).ok());
  EXPECT_EQ(get("memory/memory.limit_in_bytes"), std::to_string(64 << 20));
}

std::vector<std::string> g_warnings;
void keep_warning(sys::LogLevel level, std::string_view message) {
  if (level == sys::LogLevel::kWarning) g_warnings.emplace_back(message);
}

TEST_F(V1HostFeatures, KernelMemoryTheKernelLacksIsAWarningNotARefusal) {
  put("memory/memory.limit_in_bytes");
  put("memory/memory.kmem.tcp.limit_in_bytes");
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.memory->kernel = 32 << 20;      // no memory.kmem.limit_in_bytes here
  r.memory->kernel_tcp = 16 << 20;  // this one is there and holds what is written
  g_warnings.clear();
  sys::set_log_sink(keep_warning);
  auto done = apply_memory(dirs_, r);
  sys::set_log_sink(nullptr);
  ASSERT_TRUE(done.ok()) << done.error().message();
  EXPECT_EQ(g_warnings, std::vector<std::string>{"linux.resources.memory.kernel: kernel memory settings are ignored "
                                                 "(this kernel has no memory.kmem.limit_in_bytes)"});
  EXPECT_EQ(get("memory/memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(get("memory/memory.kmem.tcp.limit_in_bytes"), std::to_string(16 << 20));
}

TEST_F(V1HostFeatures, CpuFilesTheKernelLacksAreRefusedAndZeroHolds) {
  for (const char* f : {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"}) put(std::string("cpu/") + f);
  struct Case {
    const char* field;
    void (*set)(oci::CpuResources&, int64_t);
    const char* why;
  };
  const Case cases[] = {
      {"linux.resources.cpu.burst", [](oci::CpuResources& c, int64_t v) { c.burst = v; }, "CFS burst"},
      {"linux.resources.cpu.idle", [](oci::CpuResources& c, int64_t v) { c.idle = v; }, "idle cgroups"},
      {"linux.resources.cpu.realtimePeriod", [](oci::CpuResources& c, int64_t v) { c.realtime_period = v; },
       "CONFIG_RT_GROUP_SCHED"},
      {"linux.resources.cpu.realtimeRuntime", [](oci::CpuResources& c, int64_t v) { c.realtime_runtime = v; },
       "CONFIG_RT_GROUP_SCHED"},
  };
  for (const auto& k : cases) {
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->quota = 50000;
    k.set(*r.cpu, 1000);
    auto done = apply_cpu(dirs_, r);
    ASSERT_FALSE(done.ok()) << k.field;
    std::string msg = done.error().message();
    EXPECT_EQ(msg.rfind(std::string(k.field) + ": this kernel has no " + root_ + "/cpu/", 0), 0u) << msg;
    EXPECT_NE(msg.find(k.why), std::string::npos) << msg;
    EXPECT_EQ(get("cpu/cpu.cfs_quota_us"), "") << "written before the refusal: " << k.field;
    k.set(*r.cpu, 0);  // the default: nothing to refuse
    EXPECT_TRUE(apply_cpu(dirs_, r).ok()) << k.field;
    put("cpu/cpu.cfs_quota_us");
  }
}

TEST_F(V1HostFeatures, HugePageSizeTheHostLacksIsRefused) {
  put("hugetlb/hugetlb.2MB.limit_in_bytes");
  oci::Resources r;
  r.hugepage_limits.push_back({"1GB", 1ull << 30});
  auto done = apply_hugetlb(dirs_, r);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().message(), "linux.resources.hugepageLimits: this host has no 1GB huge pages (no " + root_ +
                                        "/hugetlb/hugetlb.1GB.limit_in_bytes)");
  r.hugepage_limits = {{"2MB", 4 << 20}};
  ASSERT_TRUE(apply_hugetlb(dirs_, r).ok());
  EXPECT_EQ(get("hugetlb/hugetlb.2MB.limit_in_bytes"), std::to_string(4 << 20));
}

}  // namespace
}  // namespace guise::cgroups::v1
