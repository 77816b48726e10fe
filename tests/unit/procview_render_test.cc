// The /proc view's renderings and the runtime's seccomp routing for it: pure code.
#include <gtest/gtest.h>

#include "procview/render.h"
#include "runtime/proc_view.h"

namespace guise::procview {
namespace {

constexpr const char* kMeminfo =
    "MemTotal:       24683784 kB\nMemFree:        15530712 kB\nMemAvailable:   20919652 kB\n"
    "Buffers:           12345 kB\nCached:          5000000 kB\nSReclaimable:     456240 kB\n"
    "SwapTotal:       1048576 kB\nSwapFree:        1048576 kB\nHugePages_Total:       0\n";

View limited() {
  View v;
  v.mem_limited = true;
  v.mem_total = 256ull << 20;
  v.mem_used = 64ull << 20;
  v.cache = 16ull << 20;
  v.inactive_file = 16ull << 20;
  v.cpus = {0};
  return v;
}

TEST(ProcviewRender, MeminfoShowsTheLimitAndUsage) {
  std::string out = render_meminfo(kMeminfo, limited());
  EXPECT_NE(out.find("MemTotal:         262144 kB\n"), std::string::npos) << out;
  EXPECT_NE(out.find("MemFree:          196608 kB\n"), std::string::npos) << out;
  EXPECT_NE(out.find("MemAvailable:     212992 kB\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Buffers:               0 kB\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Cached:            16384 kB\n"), std::string::npos) << out;
  EXPECT_NE(out.find("SReclaimable:          0 kB\n"), std::string::npos) << out;
  EXPECT_NE(out.find("SwapTotal:             0 kB\n"), std::string::npos) << out;
  EXPECT_NE(out.find("HugePages_Total:       0\n"), std::string::npos) << out;  // kept as the host has it
}

TEST(ProcviewRender, UnlimitedMemoryKeepsTheHostsFile) {
  View v = limited();
  v.mem_limited = false;
  EXPECT_EQ(render_meminfo(kMeminfo, v), kMeminfo);
}

TEST(ProcviewRender, UsageAboveTheLimitShowsNothingFree) {
  View v = limited();
  v.mem_used = v.mem_total + 4096;
  std::string out = render_meminfo(kMeminfo, v);
  EXPECT_NE(out.find("MemFree:               0 kB\n"), std::string::npos) << out;
}

TEST(ProcviewRender, CpuListsAndTheCpusShown) {
  EXPECT_EQ(parse_cpu_list("0-3,6,8-9\n"), (std::vector<int>{0, 1, 2, 3, 6, 8, 9}));
  EXPECT_EQ(parse_cpu_list("x,2"), (std::vector<int>{2}));
  EXPECT_EQ(shown_cpus({2, 3, 5}, 1), (std::vector<int>{2}));
  EXPECT_EQ(shown_cpus({2, 3, 5}, 0), (std::vector<int>{2, 3, 5}));  // no quota
  EXPECT_EQ(shown_cpus({2, 3}, 8), (std::vector<int>{2, 3}));        // quota above the cpuset
  View v;
  v.cpus = {4};
  EXPECT_EQ(render_cpu_online(v), "0\n");
  v.cpus = {1, 4, 6};
  EXPECT_EQ(render_cpu_online(v), "0-2\n");
}

TEST(ProcviewRender, CpuinfoKeepsTheShownCpusRenumbered) {
  std::string host = "processor\t: 0\nmodel name\t: A\n\nprocessor\t: 1\nmodel name\t: B\n\n";
  View v;
  v.cpus = {1};
  EXPECT_EQ(render_cpuinfo(host, v), "processor\t: 0\nmodel name\t: B\n\n");
}

TEST(ProcviewRender, StatHasOneLinePerCpuAndTheCgroupsTime) {
  std::string host = "cpu  10 0 20 300 0 0 0 0 0 0\ncpu0 5 0 10 150 0 0 0 0 0 0\ncpu1 5 0 10 150 0 0 0 0 0 0\n"
                     "intr 1 2\nbtime 100\n";
  View v;
  v.cpus = {0};
  v.uptime = 10;
  v.user_ticks = 300;
  v.system_ticks = 100;
  EXPECT_EQ(render_stat(host, v, 100),
            "cpu  300 0 100 600 0 0 0 0 0 0\ncpu0 300 0 100 600 0 0 0 0 0 0\nintr 1 2\nbtime 100\n");
  EXPECT_EQ(render_uptime(v, 100), "10.00 6.00\n");
}

TEST(ProcviewRender, LoadavgAndSwaps) {
  View v = limited();
  v.load[0] = 0.5;
  v.running = 1;
  v.tasks = 3;
  EXPECT_EQ(render_loadavg("1.00 2.00 3.00 4/500 4242\n", v), "0.50 0.00 0.00 1/3 4242\n");
  EXPECT_EQ(render_swaps("Filename\tType\n/dev/sda2\tpartition\n", v),
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
  v.swap_total = 64ull << 20;
  v.swap_used = 1ull << 20;
  EXPECT_NE(render_swaps("", v).find("65536\t\t1024\t\t-1\n"), std::string::npos);
}

}  // namespace
}  // namespace guise::procview

namespace guise::runtime {
namespace {

oci::Spec spec_with(std::optional<oci::Seccomp> sc) {
  oci::Spec s;
  s.linux.emplace();
  s.linux->seccomp = std::move(sc);
  return s;
}

TEST(ProcViewRouting, AnnotationValues) {
  oci::Spec s;
  EXPECT_FALSE(wants_proc_view(s).value());
  s.annotations[kProcViewAnnotation] = "cgroup";
  EXPECT_TRUE(wants_proc_view(s).value());
  s.annotations[kProcViewAnnotation] = "host";
  EXPECT_FALSE(wants_proc_view(s).value());
  s.annotations[kProcViewAnnotation] = "lxcfs";
  auto r = wants_proc_view(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("org.guise.proc-view"), std::string::npos);
}

TEST(ProcViewRouting, NoFilterGetsOneThatAllowsAllButNotifiesSysinfo) {
  oci::Spec s = spec_with(std::nullopt);
  std::string why;
  ASSERT_TRUE(sysinfo_routable(s, &why));
  route_sysinfo(s, "/run/x.sock");
  ASSERT_TRUE(s.linux->seccomp);
  EXPECT_EQ(s.linux->seccomp->default_action, "SCMP_ACT_ALLOW");
  ASSERT_EQ(s.linux->seccomp->syscalls.size(), 1u);
  EXPECT_EQ(s.linux->seccomp->syscalls[0].action, "SCMP_ACT_NOTIFY");
  EXPECT_EQ(s.linux->seccomp->listener_path, "/run/x.sock");
}

TEST(ProcViewRouting, AnAllowListLosesSysinfoToTheNotifyRule) {
  oci::Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.syscalls.push_back({{"read", "sysinfo", "write"}, "SCMP_ACT_ALLOW", std::nullopt, {}});
  sc.syscalls.push_back({{"sysinfo"}, "SCMP_ACT_ALLOW", std::nullopt, {}});
  oci::Spec s = spec_with(sc);
  std::string why;
  ASSERT_TRUE(sysinfo_routable(s, &why));
  route_sysinfo(s, "/run/x.sock");
  const auto& rules = s.linux->seccomp->syscalls;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(rules[1].names, (std::vector<std::string>{"sysinfo"}));
  EXPECT_EQ(rules[1].action, "SCMP_ACT_NOTIFY");
}

TEST(ProcViewRouting, TheConfigsOwnDecisionsStand) {
  std::string why;
  oci::Seccomp denied;
  denied.default_action = "SCMP_ACT_ALLOW";
  denied.syscalls.push_back({{"sysinfo"}, "SCMP_ACT_ERRNO", std::nullopt, {}});
  EXPECT_FALSE(sysinfo_routable(spec_with(denied), &why));
  EXPECT_NE(why.find("SCMP_ACT_ERRNO"), std::string::npos);
  oci::Seccomp agent;
  agent.default_action = "SCMP_ACT_ALLOW";
  agent.listener_path = "/run/agent.sock";
  EXPECT_FALSE(sysinfo_routable(spec_with(agent), &why));
  oci::Spec plain = spec_with(std::nullopt);
  plain.annotations[kProcViewSysinfoAnnotation] = "host";
  EXPECT_FALSE(sysinfo_routable(plain, &why));
  oci::Seccomp unlisted;
  unlisted.default_action = "SCMP_ACT_ERRNO";
  EXPECT_FALSE(sysinfo_routable(spec_with(unlisted), &why));
}

TEST(ProcViewRouting, BindsOnlyWhereTheConfigMountsProcAndSys) {
  procview::Launched view;
  for (int i = 0; i < 7; ++i) view.trees.emplace_back(100 + i);
  oci::Spec s;
  s.mounts.push_back({"/proc", "proc", "proc", {}, {}, {}});
  auto steps = view_mounts(s, view);
  EXPECT_EQ(steps.size(), 6u);
  s.mounts.push_back({"/sys/", "sysfs", "sysfs", {}, {}, {}});
  steps = view_mounts(s, view);
  ASSERT_EQ(steps.size(), 7u);
  EXPECT_EQ(steps.back().destination, "/sys/devices/system/cpu/online");
  EXPECT_EQ(steps.back().premade_tree, 106);
  for (auto& t : view.trees) (void)t.release();  // not real fds
}

}  // namespace
}  // namespace guise::runtime
