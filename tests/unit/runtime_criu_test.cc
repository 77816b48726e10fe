// What criu is told (dump and restore command lines, planned from a config) and what
// is taken from what it says (its reason, from a log).
#include <gtest/gtest.h>

#include <algorithm>

#include "oci/parse.h"
#include "runtime/criu.h"
#include "runtime/criu_args.h"
#include "runtime/criu_restore.h"

namespace guise::runtime {
namespace {

// "--external", "mnt[/x]:/y" -> true when the two words are next to each other.
bool has_pair(const std::vector<std::string>& a, const std::string& flag, const std::string& value) {
  for (size_t i = 0; i + 1 < a.size(); ++i)
    if (a[i] == flag && a[i + 1] == value) return true;
  return false;
}
bool has(const std::vector<std::string>& a, const std::string& word) {
  return std::find(a.begin(), a.end(), word) != a.end();
}

TEST(RuntimeCriu, ReasonIsTheErrorLinesWithoutTimestamps) {
  const char* log =
      "(00.002477) Error (criu/util.c:642): exited, status=1\n"
      "(00.007845) Dirty tracking support is OFF\n"
      "(00.035862) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
      "(00.035864) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
      "(00.035865) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.\n"
      "(00.035899) files stat: fs/nr_open 1048576\n";
  EXPECT_EQ(criu_reason(log),
            "Error (criu/util.c:642): exited, status=1; "
            "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds; "
            "Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.");
}

TEST(RuntimeCriu, ReasonKeepsTheLastErrorsOnly) {
  std::string log;
  for (int i = 0; i < 10; ++i) log += "Error (x.c:" + std::to_string(i) + "): e" + std::to_string(i) + "\n";
  std::string r = criu_reason(log);
  EXPECT_EQ(r.find("e3"), std::string::npos);
  EXPECT_NE(r.find("e4"), std::string::npos);
  EXPECT_NE(r.find("e9"), std::string::npos);
}

TEST(RuntimeCriu, ReasonWithoutErrorLinesIsWhereCriuStopped) {
  EXPECT_EQ(criu_reason("(00.028358) Reading image tree\n(00.028433) No pstree.img image\n"
                        "(00.028488) pstree pid_max=0\n(00.028586) NS mask to use 0\n\n"),
            "No pstree.img image; pstree pid_max=0; NS mask to use 0");
  EXPECT_EQ(criu_reason(""), "");
}

oci::Spec spec_with(const std::string& mounts, const std::string& namespaces = "[]") {
  std::string text = R"({"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"},
    "mounts":)" + mounts + R"(,"linux":{"namespaces":)" + namespaces + "}}";
  auto spec = oci::parse_spec(text, "config.json");
  EXPECT_TRUE(spec.ok()) << spec.error().message();
  return std::move(spec).take();
}

TEST(RuntimeCriu, BindMountsAreExternalByMountpointOnDumpAndBySourceOnRestore) {
  oci::Spec spec = spec_with(R"([{"destination":"/proc","type":"proc","source":"proc"},
    {"destination":"/data","type":"bind","source":"/srv/data","options":["rbind"]},
    {"destination":"/etc/hosts","source":"hosts","options":["bind","ro"]}])");
  auto dump = external_mounts(spec, "/b", false);
  auto restore = external_mounts(spec, "/b", true);
  using P = std::pair<std::string, std::string>;
  EXPECT_TRUE(std::count(dump.begin(), dump.end(), P{"/data", "/data"}));
  EXPECT_TRUE(std::count(dump.begin(), dump.end(), P{"/etc/hosts", "/etc/hosts"}));
  EXPECT_TRUE(std::count(restore.begin(), restore.end(), P{"/data", "/srv/data"}));
  EXPECT_TRUE(std::count(restore.begin(), restore.end(), P{"/etc/hosts", "/b/hosts"}));
  EXPECT_TRUE(std::count(restore.begin(), restore.end(), P{"/dev/null", "/dev/null"}));  // a device node
  for (const auto& [key, value] : dump) EXPECT_NE(key, "/proc");
}

TEST(RuntimeCriu, DumpArgs) {
  CriuPlan p;
  p.flags.tcp_established = true;
  p.flags.file_locks = true;
  p.images = "/img";
  p.work = "/work";
  p.log_file = "dump.log";
  p.root = "/b/rootfs";
  p.pid = 42;
  p.freeze_cgroup = "/sys/fs/cgroup/x";
  p.external_mounts = {{"/data", "/data"}};
  p.externals = {"net[4026531992]:extRootNetNS"};
  auto a = dump_args(p);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a[0], "dump");
  EXPECT_TRUE(has_pair(a, "--tree", "42"));
  EXPECT_TRUE(has_pair(a, "--images-dir", "/img"));
  EXPECT_TRUE(has_pair(a, "--work-dir", "/work"));
  EXPECT_TRUE(has_pair(a, "--log-file", "dump.log"));
  EXPECT_TRUE(has_pair(a, "--root", "/b/rootfs"));
  EXPECT_TRUE(has_pair(a, "--empty-ns", "net"));
  EXPECT_TRUE(has_pair(a, "--freeze-cgroup", "/sys/fs/cgroup/x"));
  EXPECT_TRUE(has_pair(a, "--external", "mnt[/data]:/data"));
  EXPECT_TRUE(has_pair(a, "--external", "net[4026531992]:extRootNetNS"));
  EXPECT_TRUE(has(a, "--manage-cgroups"));
  EXPECT_TRUE(has(a, "--tcp-established"));
  EXPECT_TRUE(has(a, "--file-locks"));
  EXPECT_FALSE(has(a, "--leave-running"));
  EXPECT_FALSE(has(a, "--shell-job"));
  EXPECT_FALSE(has(a, "--ext-unix-sk"));
  p.leave_running = true;
  p.flags.manage_cgroups_mode = "full";
  a = dump_args(p);
  EXPECT_TRUE(has(a, "--leave-running"));
  EXPECT_TRUE(has(a, "--manage-cgroups=full"));
}

TEST(RuntimeCriu, RestoreArgs) {
  CriuPlan p;
  p.flags.shell_job = true;
  p.images = "/img";
  p.work = "/img";
  p.log_file = "restore.log";
  p.root = "/run/guise/c/criu-root";
  p.pid_file = "/run/guise/c/criu.pid";
  p.external_mounts = {{"/data", "/srv/data"}};
  p.inherit_fds = {{1, "pipe:[123]"}, {7, "extRootNetNS"}};
  p.join_ns = {{"ipc", "/proc/1/ns/ipc"}};
  p.cgroup_roots = {"/guise/c", "memory:/guise/c"};
  auto a = restore_args(p);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a[0], "restore");
  EXPECT_TRUE(has(a, "--restore-detached"));
  EXPECT_TRUE(has(a, "--restore-sibling"));
  EXPECT_TRUE(has_pair(a, "--pidfile", "/run/guise/c/criu.pid"));
  EXPECT_TRUE(has_pair(a, "--root", "/run/guise/c/criu-root"));
  EXPECT_TRUE(has_pair(a, "--external", "mnt[/data]:/srv/data"));
  EXPECT_TRUE(has_pair(a, "--inherit-fd", "fd[1]:pipe:[123]"));
  EXPECT_TRUE(has_pair(a, "--inherit-fd", "fd[7]:extRootNetNS"));
  EXPECT_TRUE(has_pair(a, "--join-ns", "ipc:/proc/1/ns/ipc"));
  EXPECT_TRUE(has_pair(a, "--cgroup-root", "/guise/c"));
  EXPECT_TRUE(has_pair(a, "--cgroup-root", "memory:/guise/c"));
  EXPECT_TRUE(has(a, "--shell-job"));
  EXPECT_FALSE(has(a, "--tree"));
}

TEST(RuntimeCriu, DescriptorsRoundTripAsRuncWritesThem) {
  std::string text = descriptors_json({"/dev/null", "pipe:[5]", "pipe:[6]"});
  EXPECT_EQ(text, R"(["/dev/null","pipe:[5]","pipe:[6]"])");
  auto back = parse_descriptors(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), (std::vector<std::string>{"/dev/null", "pipe:[5]", "pipe:[6]"}));
  EXPECT_FALSE(parse_descriptors("{}").ok());
  EXPECT_FALSE(parse_descriptors("[1]").ok());
}

TEST(RuntimeCriu, CgroupRootsAreTheNewCgroupBelowEachMount) {
  auto v2 = cgroups::parse_layout("35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n", "0::/init\n");
  ASSERT_TRUE(v2.ok()) << v2.error().message();
  EXPECT_EQ(criu_cgroup_roots(v2.value(), {{"unified", "/sys/fs/cgroup/guise/c1"}}),
            std::vector<std::string>{"/guise/c1"});
  // A cgroup2 mount showing a subtree: its root is part of the path criu is given.
  auto nested = cgroups::parse_layout("35 24 0:30 /pod /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/pod\n");
  ASSERT_TRUE(nested.ok()) << nested.error().message();
  EXPECT_EQ(criu_cgroup_roots(nested.value(), {{"unified", "/sys/fs/cgroup/guise/c1"}}),
            std::vector<std::string>{"/pod/guise/c1"});
  auto hybrid = cgroups::parse_layout(
      "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
      "4:memory:/\n2:cpu,cpuacct:/\n0::/\n");
  ASSERT_TRUE(hybrid.ok()) << hybrid.error().message();
  EXPECT_EQ(criu_cgroup_roots(hybrid.value(), {{"cpu", "/sys/fs/cgroup/cpu,cpuacct/g/c"},
                                               {"memory", "/sys/fs/cgroup/memory/g/c"},
                                               {"unified", "/sys/fs/cgroup/unified/g/c"},
                                               {"net_cls", "/sys/fs/cgroup/net_cls/g/c"}}),
            (std::vector<std::string>{"cpu:/g/c", "memory:/g/c", "/g/c"}));
}

}  // namespace
}  // namespace guise::runtime
