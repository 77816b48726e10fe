// The pure parts of rootless: /etc/subuid's ranges, the map asked of newuidmap, the
// limits a spec asks for, and pasta's command line for published ports.
#include <gtest/gtest.h>

#include "engine/rootless_cgroup.h"
#include "engine/subid.h"
#include "engine/user_mode_network.h"

namespace guise::engine {
namespace {

TEST(RootlessSubIds, RangesOfTheUserByNameOrNumberInFileOrder) {
  std::string file =
      "# comment\n"
      "alice:100000:65536\n"
      "bob:165536:65536\n"
      "1001:300000:1000\n"
      "alice:bad:10\n"
      "alice:400000:0\n"
      "\n"
      "alice:500000:10";  // no trailing newline
  auto r = parse_subids(file, "alice", 1001);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].start, 100000u);
  EXPECT_EQ(r[0].count, 65536u);
  EXPECT_EQ(r[1].start, 300000u);
  EXPECT_EQ(r[2].start, 500000u);
  EXPECT_EQ(subid_total(r), 65536u + 1000u + 10u);
  EXPECT_TRUE(parse_subids(file, "carol", 1002).empty());
}

TEST(RootlessSubIds, RangesPastTheLastIdAreSkipped) {
  EXPECT_TRUE(parse_subids("u:4294967000:1000\n", "u", 7).empty());
}

TEST(RootlessSubIds, MapPutsTheUserAtZeroAndTheRangesAfterIt) {
  auto m = rootless_id_map(1000, {{100000, 65536}, {300000, 10}});
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].container_id, 0u);
  EXPECT_EQ(m[0].host_id, 1000u);
  EXPECT_EQ(m[0].size, 1u);
  EXPECT_EQ(m[1].container_id, 1u);
  EXPECT_EQ(m[1].host_id, 100000u);
  EXPECT_EQ(m[2].container_id, 65537u);
  EXPECT_EQ(m[2].host_id, 300000u);
  EXPECT_EQ(m[2].size, 10u);
}

TEST(RootlessLimits, WithoutDelegationEveryLimitIsDroppedAndNamed) {
  oci::Resources r;
  CgroupDelegation none;
  EXPECT_TRUE(drop_undelegated_limits(r, none).empty());
  r.devices.push_back({});  // the device list is not a limit a rootless user would miss
  EXPECT_TRUE(drop_undelegated_limits(r, none).empty());
  r.memory = oci::MemoryResources{};
  r.pids_limit = 10;
  EXPECT_EQ(drop_undelegated_limits(r, none), (std::vector<std::string>{"memory", "pids"}));
  EXPECT_FALSE(r.memory || r.pids_limit);
}

TEST(RootlessLimits, WithDelegationOnlyLimitsOfMissingControllersGo) {
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.cpu = oci::CpuResources{};
  r.pids_limit = 10;
  r.block_io = oci::BlockIoResources{};
  CgroupDelegation d{"/user/u", {"memory", "pids"}, "", ""};
  EXPECT_EQ(drop_undelegated_limits(r, d), (std::vector<std::string>{"cpu", "blkio"}));
  EXPECT_TRUE(r.memory && r.pids_limit);
  EXPECT_FALSE(r.cpu || r.block_io);
  std::string w = undelegated_limits_warning({"cpu", "blkio"}, d);
  EXPECT_NE(w.find("cpu, blkio"), std::string::npos) << w;
  EXPECT_NE(w.find("/sys/fs/cgroup/user/u/cgroup.subtree_control"), std::string::npos) << w;
}

TEST(UserModeNetwork, PastaForwardsOnlyWhatIsPublished) {
  auto none = pasta_command("/ns", {});
  std::vector<std::string> tail(none.begin() + 1, none.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"--config-net", "--quiet", "--netns", "/ns", "-t", "none", "-u", "none",
                                            "-T", "none", "-U", "none", "--dns-forward", "169.254.1.1"}));
  network::PortRequest web{"tcp", "", 8080, 8080, 80};
  network::PortRequest local{"tcp", "127.0.0.1", 9000, 9002, 90};
  network::PortRequest dns{"udp", "", 5353, 0, 53};
  auto c = pasta_command("/ns", {web, local, dns});
  EXPECT_EQ(c[6], "8080:80,127.0.0.1/9000-9002:90-92");
  EXPECT_EQ(c[8], "5353:53");
}

TEST(UserModeNetwork, LoopbackResolversBecomeTheHelpersDnsAddress) {
  std::string resolved = "# systemd-resolved\nnameserver 127.0.0.53\noptions edns0\nsearch lan\n";
  EXPECT_EQ(user_mode_resolv_conf("pasta", resolved),
            "nameserver 169.254.1.1\n# systemd-resolved\noptions edns0\nsearch lan\n");
  EXPECT_EQ(user_mode_resolv_conf("slirp4netns", "nameserver ::1\n"), "nameserver 10.0.2.3\n");
  // One the container can reach through the helper: kept as it is, loopback ones too.
  std::string mixed = "nameserver 127.0.0.1\nnameserver 10.0.0.2\n";
  EXPECT_EQ(user_mode_resolv_conf("pasta", mixed), mixed);
  EXPECT_EQ(user_mode_resolv_conf("pasta", ""), "");
}

TEST(UserModeNetwork, OnlyPastaAndSlirp4netnsAreUserMode) {
  EXPECT_TRUE(is_user_mode_network("pasta"));
  EXPECT_TRUE(is_user_mode_network("slirp4netns"));
  EXPECT_FALSE(is_user_mode_network("bridge"));
  EXPECT_FALSE(is_user_mode_network("none"));
}

}  // namespace
}  // namespace guise::engine
