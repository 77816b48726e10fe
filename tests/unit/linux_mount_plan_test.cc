// config.json mounts -> the steps the child applies with the new mount API.
// What a user sees: the flags on the mount inside the container (findmnt), the
// filesystem options the kernel gets, and the error for a mount that cannot work.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <tuple>

#include "linux/mount_plan.h"

namespace guise::linux {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

oci::Mount mnt(std::string dest, std::string type, std::string source, std::vector<std::string> options) {
  oci::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

// A filesystem whose "ro" the plan keeps as it is (a tmpfs's waits: readonly_later).
MountStep plan(std::vector<std::string> options, std::string type = "ext4") {
  auto r = plan_mount(mnt("/x", type, "src", std::move(options)), 0);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? r.value() : MountStep{};
}

std::string plan_error(const oci::Mount& m, size_t index = 0) {
  auto r = plan_mount(m, index);
  return r.ok() ? "(no error)" : r.error().message();
}

TEST(LinuxMountPlan, NoOptionsIsAPlainFilesystemMount) {
  auto s = plan({}, "proc");
  EXPECT_EQ(s.destination, "/x");
  EXPECT_EQ(s.source, "src");
  EXPECT_EQ(s.fstype, "proc");
  EXPECT_FALSE(s.bind);
  EXPECT_FALSE(s.recursive);
  EXPECT_EQ(s.attr_set, 0u);
  EXPECT_EQ(s.attr_clr, 0u);
  EXPECT_EQ(s.rattr_set, 0u);
  EXPECT_EQ(s.rattr_clr, 0u);
  EXPECT_EQ(s.propagation, 0u);
  EXPECT_TRUE(s.fs_params.empty());
}

TEST(LinuxMountPlan, EachFlagSetsItsAttribute) {
  struct Case {
    const char* option;
    uint64_t attr;
  } cases[] = {{"ro", MOUNT_ATTR_RDONLY},          {"nosuid", MOUNT_ATTR_NOSUID},
               {"nodev", MOUNT_ATTR_NODEV},        {"noexec", MOUNT_ATTR_NOEXEC},
               {"nodiratime", MOUNT_ATTR_NODIRATIME}, {"nosymfollow", MOUNT_ATTR_NOSYMFOLLOW}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.option);
    auto s = plan({c.option});
    EXPECT_EQ(s.attr_set, c.attr);
    EXPECT_EQ(s.attr_clr, 0u);
    EXPECT_EQ(s.rattr_set, 0u);
    EXPECT_EQ(s.rattr_clr, 0u);
    EXPECT_TRUE(s.fs_params.empty());
  }
}

TEST(LinuxMountPlan, EachNegativeFlagClearsItsAttribute) {
  struct Case {
    const char* option;
    uint64_t attr;
  } cases[] = {{"rw", MOUNT_ATTR_RDONLY},        {"suid", MOUNT_ATTR_NOSUID},
               {"dev", MOUNT_ATTR_NODEV},        {"exec", MOUNT_ATTR_NOEXEC},
               {"diratime", MOUNT_ATTR_NODIRATIME}, {"symfollow", MOUNT_ATTR_NOSYMFOLLOW}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.option);
    auto s = plan({c.option});
    EXPECT_EQ(s.attr_set, 0u);
    EXPECT_EQ(s.attr_clr, c.attr);
    EXPECT_TRUE(s.fs_params.empty());
  }
}

TEST(LinuxMountPlan, AccessTimeModesClearTheWholeAtimeField) {
  // The kernel keeps relatime/noatime/strictatime in one field: choosing one must
  // clear MOUNT_ATTR__ATIME and set only the chosen mode.
  auto rel = plan({"relatime"});
  EXPECT_EQ(rel.attr_set & MOUNT_ATTR__ATIME, uint64_t{MOUNT_ATTR_RELATIME});
  EXPECT_EQ(rel.attr_clr, uint64_t{MOUNT_ATTR__ATIME});

  auto no = plan({"noatime"});
  EXPECT_EQ(no.attr_set, uint64_t{MOUNT_ATTR_NOATIME});
  EXPECT_EQ(no.attr_clr, uint64_t{MOUNT_ATTR__ATIME});

  auto strict = plan({"strictatime"});
  EXPECT_EQ(strict.attr_set, uint64_t{MOUNT_ATTR_STRICTATIME});
  EXPECT_EQ(strict.attr_clr, uint64_t{MOUNT_ATTR__ATIME});
}

TEST(LinuxMountPlan, LastAccessTimeModeWins) {
  auto s = plan({"noatime", "strictatime"});
  EXPECT_EQ(s.attr_set, uint64_t{MOUNT_ATTR_STRICTATIME});
  EXPECT_EQ(s.attr_clr, uint64_t{MOUNT_ATTR__ATIME});

  s = plan({"strictatime", "relatime"});
  EXPECT_EQ(s.attr_set & MOUNT_ATTR__ATIME, uint64_t{MOUNT_ATTR_RELATIME});
  EXPECT_EQ(s.attr_clr, uint64_t{MOUNT_ATTR__ATIME});

  s = plan({"noatime", "atime"});  // back to the kernel's default
  EXPECT_EQ(s.attr_set & MOUNT_ATTR__ATIME, 0u);
  EXPECT_EQ(s.attr_clr, uint64_t{MOUNT_ATTR__ATIME});
}

TEST(LinuxMountPlan, AccessTimeDoesNotDisturbOtherFlags) {
  auto s = plan({"ro", "nosuid", "noatime", "nodiratime"});
  EXPECT_EQ(s.attr_set, uint64_t{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME});
  EXPECT_EQ(s.attr_clr, uint64_t{MOUNT_ATTR__ATIME});
}

TEST(LinuxMountPlan, LaterOptionOverridesEarlier) {
  auto s = plan({"ro", "rw"});
  EXPECT_EQ(s.attr_set, 0u);
  EXPECT_EQ(s.attr_clr, uint64_t{MOUNT_ATTR_RDONLY});
  s = plan({"rw", "ro"});
  EXPECT_EQ(s.attr_set, uint64_t{MOUNT_ATTR_RDONLY});
  EXPECT_EQ(s.attr_clr, 0u);
  s = plan({"exec", "noexec", "nosuid", "suid"});
  EXPECT_EQ(s.attr_set, uint64_t{MOUNT_ATTR_NOEXEC});
  EXPECT_EQ(s.attr_clr, uint64_t{MOUNT_ATTR_NOSUID});
}

TEST(LinuxMountPlan, RecursiveFormsGoToRecursiveAttributes) {
  struct Case {
    const char* option;
    uint64_t set, clr;
  } cases[] = {
      {"rro", MOUNT_ATTR_RDONLY, 0},
      {"rrw", 0, MOUNT_ATTR_RDONLY},
      {"rnosuid", MOUNT_ATTR_NOSUID, 0},
      {"rsuid", 0, MOUNT_ATTR_NOSUID},
      {"rnodev", MOUNT_ATTR_NODEV, 0},
      {"rdev", 0, MOUNT_ATTR_NODEV},
      {"rnoexec", MOUNT_ATTR_NOEXEC, 0},
      {"rexec", 0, MOUNT_ATTR_NOEXEC},
      {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0},
      {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
      {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
      {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
      {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
      {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
      {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.option);
    auto s = plan({"rbind", c.option}, "bind");
    EXPECT_EQ(s.rattr_set, c.set);
    EXPECT_EQ(s.rattr_clr, c.clr);
    EXPECT_EQ(s.attr_set, 0u);
    EXPECT_EQ(s.attr_clr, 0u);
  }
}

TEST(LinuxMountPlan, RecursiveAndPlainFlagsAreKeptApart) {
  auto s = plan({"rbind", "ro", "rnosuid"}, "bind");
  EXPECT_EQ(s.attr_set, uint64_t{MOUNT_ATTR_RDONLY});
  EXPECT_EQ(s.rattr_set, uint64_t{MOUNT_ATTR_NOSUID});
}

TEST(LinuxMountPlan, BindAndRbind) {
  auto b = plan({"bind"}, "");
  EXPECT_TRUE(b.bind);
  EXPECT_FALSE(b.recursive);
  EXPECT_EQ(b.fstype, "");

  auto rb = plan({"rbind"}, "");
  EXPECT_TRUE(rb.bind);
  EXPECT_TRUE(rb.recursive);

  auto both = plan({"bind", "rbind"}, "");  // rbind wins whatever the order
  EXPECT_TRUE(both.recursive);
  both = plan({"rbind", "bind"}, "");
  EXPECT_TRUE(both.recursive);
}

TEST(LinuxMountPlan, TypeBindOrNoneIsABindMount) {
  for (const char* type : {"bind", "none"}) {
    SCOPED_TRACE(type);
    auto s = plan({}, type);
    EXPECT_TRUE(s.bind);
    EXPECT_FALSE(s.recursive);
    EXPECT_EQ(s.fstype, "");
  }
  auto s = plan({"rbind", "ro"}, "bind");
  EXPECT_TRUE(s.bind);
  EXPECT_TRUE(s.recursive);
  EXPECT_EQ(s.attr_set, uint64_t{MOUNT_ATTR_RDONLY});
}

TEST(LinuxMountPlan, PropagationOptions) {
  struct Case {
    const char* option;
    uint64_t flags;
    bool recursive;
  } cases[] = {{"private", MS_PRIVATE, false},       {"rprivate", MS_PRIVATE, true},
               {"shared", MS_SHARED, false},         {"rshared", MS_SHARED, true},
               {"slave", MS_SLAVE, false},           {"rslave", MS_SLAVE, true},
               {"unbindable", MS_UNBINDABLE, false}, {"runbindable", MS_UNBINDABLE, true}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.option);
    auto s = plan({"rbind", c.option}, "bind");
    EXPECT_EQ(s.propagation, c.flags);
    EXPECT_EQ(s.propagation_recursive, c.recursive);
    EXPECT_TRUE(s.fs_params.empty());  // not mistaken for a filesystem option on a bind mount
    EXPECT_EQ(s.attr_set | s.attr_clr | s.rattr_set | s.rattr_clr, 0u);
  }
}

TEST(LinuxMountPlan, LastPropagationWins) {
  auto s = plan({"bind", "rshared", "private"}, "bind");
  EXPECT_EQ(s.propagation, uint64_t{MS_PRIVATE});
  EXPECT_FALSE(s.propagation_recursive);
}

TEST(LinuxMountPlan, PropagationFlagsByName) {
  bool rec = true;
  auto p = propagation_flags("", &rec);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value(), 0u);

  rec = false;
  p = propagation_flags("rslave", &rec);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value(), uint64_t{MS_SLAVE});
  EXPECT_TRUE(rec);

  p = propagation_flags("shared", &rec);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value(), uint64_t{MS_SHARED});
  EXPECT_FALSE(rec);

  p = propagation_flags("private", nullptr);  // the recursive flag is optional
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value(), uint64_t{MS_PRIVATE});
}

TEST(LinuxMountPlan, PropagationFlagsRejectsUnknownName) {
  bool rec = false;
  auto p = propagation_flags("rsharedd", &rec);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().errnum, 0);
  EXPECT_EQ(p.error().message(), "unknown propagation \"rsharedd\"");
  EXPECT_FALSE(propagation_flags("Private", &rec).ok());
}

TEST(LinuxMountPlan, FilesystemOptionsBecomeParamsInOrder) {
  auto s = plan({"size=64m", "nosuid", "mode=755", "newinstance", "ptmxmode=0666"});
  EXPECT_EQ(s.fs_params, (Params{{"size", "64m"}, {"mode", "755"}, {"newinstance", ""}, {"ptmxmode", "0666"}}));
  EXPECT_EQ(s.attr_set, uint64_t{MOUNT_ATTR_NOSUID});
}

TEST(LinuxMountPlan, ParamValueKeepsEverythingAfterTheFirstEquals) {
  auto s = plan({"context=system_u:object_r:x=y", "uid="}, "tmpfs");
  EXPECT_EQ(s.fs_params, (Params{{"context", "system_u:object_r:x=y"}, {"uid", ""}}));
}

TEST(LinuxMountPlan, IgnoredOptionsLeaveNoTrace) {
  auto s = plan({"defaults", "async", "nomand", "loud", "remount", "tmpcopyup", "norbind"});
  EXPECT_TRUE(s.fs_params.empty());
  EXPECT_EQ(s.attr_set | s.attr_clr | s.rattr_set | s.rattr_clr, 0u);
  EXPECT_FALSE(s.bind);
  // So a bind mount may carry them too.
  auto b = plan({"rbind", "defaults", "tmpcopyup"}, "bind");
  EXPECT_TRUE(b.fs_params.empty());
}

TEST(LinuxMountPlan, SuperblockFlagsArePassedAsParams) {
  auto s = plan({"sync", "dirsync", "lazytime"});
  EXPECT_EQ(s.fs_params, (Params{{"sync", ""}, {"dirsync", ""}, {"lazytime", ""}}));
}

TEST(LinuxMountPlan, BindMountIgnoresFilesystemOptionsAndNamesThem) {
  // As some generators write them: the kernel ignores data on a bind, and so does runc.
  auto s = plan({"nosuid", "strictatime", "mode=755", "size=65536k", "bind"}, "bind");
  EXPECT_TRUE(s.bind);
  EXPECT_TRUE(s.fs_params.empty());
  EXPECT_EQ(s.ignored_options, (std::vector<std::string>{"mode=755", "size=65536k"}));
  EXPECT_EQ(s.attr_set, uint64_t{MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME});
  auto bogus = plan({"rbind", "bogus", "sync"}, "none");
  EXPECT_TRUE(bogus.fs_params.empty());
  EXPECT_EQ(bogus.ignored_options, (std::vector<std::string>{"bogus", "sync"}));
  EXPECT_TRUE(plan({"rbind", "ro"}, "bind").ignored_options.empty());
}

TEST(LinuxMountPlan, ReadOnlyTmpfsAndDevWaitUntilTheirContentIsMade) {
  // A read-only /dev still gets /dev/pts and the device nodes made in it: "ro" is applied last.
  for (const auto& [dest, type, opts] :
       std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>{
           {"/dev", "tmpfs", {"nosuid", "ro", "mode=755"}},
           {"/run", "tmpfs", {"ro"}},
           {"//dev/", "bind", {"rbind", "ro"}}}) {
    SCOPED_TRACE(dest + " " + type);
    auto r = plan_mount(mnt(dest, type, "src", opts), 0);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(r.value().readonly_later);
    EXPECT_EQ(r.value().attr_set & MOUNT_ATTR_RDONLY, 0u);
  }
  auto other = plan_mount(mnt("/data", "bind", "/host", {"rbind", "ro"}), 0);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other.value().readonly_later);
  EXPECT_EQ(other.value().attr_set, uint64_t{MOUNT_ATTR_RDONLY});
  EXPECT_FALSE(plan({"rw"}, "tmpfs").readonly_later);
}

TEST(LinuxMountPlan, NonBindMountWithoutTypeIsAnError) {
  auto r = plan_mount(mnt("/data", "", "/host", {"ro"}), 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, 0);
  EXPECT_EQ(r.error().message(),
            "mounts[2].type: required for a mount that is not a bind mount (destination /data)");
}

TEST(LinuxMountPlan, IdmappedMountMustBeABind) {
  oci::Mount m = mnt("/data", "tmpfs", "tmpfs", {});
  m.uid_mappings = {{0, 100000, 65536}};
  EXPECT_EQ(plan_error(m, 4), "mounts[4].uidMappings: idmapped mounts must be bind mounts");

  oci::Mount b = mnt("/data", "bind", "/host", {"rbind", "idmap"});
  b.uid_mappings = {{0, 100000, 65536}};
  b.gid_mappings = {{0, 200000, 65536}};
  auto r = plan_mount(b, 0);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r.value().uid_mappings.size(), 1u);
  EXPECT_EQ(r.value().uid_mappings[0].host_id, 100000u);
  ASSERT_EQ(r.value().gid_mappings.size(), 1u);
  EXPECT_EQ(r.value().gid_mappings[0].host_id, 200000u);
  EXPECT_TRUE(r.value().fs_params.empty());  // "idmap" is not a filesystem option
}

TEST(LinuxMountPlan, PlanMountsNamesTheFailingIndex) {
  std::vector<oci::Mount> mounts = {mnt("/proc", "proc", "proc", {}), mnt("/a", "tmpfs", "tmpfs", {}),
                                    mnt("/b", "", "/host", {"size=1m"})};
  auto r = plan_mounts(mounts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().rfind("mounts[2].type: ", 0), 0u) << r.error().message();
}

TEST(LinuxMountPlan, PlanMountsKeepsConfigOrder) {
  std::vector<oci::Mount> mounts = {mnt("/z", "tmpfs", "tmpfs", {}), mnt("/a", "proc", "proc", {}),
                                    mnt("/m", "bind", "/h", {"rbind"})};
  auto r = plan_mounts(mounts);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r.value().size(), 3u);
  EXPECT_EQ(r.value()[0].destination, "/z");
  EXPECT_EQ(r.value()[1].destination, "/a");
  EXPECT_EQ(r.value()[2].destination, "/m");
  EXPECT_TRUE(plan_mounts({}).ok());
}

// The mounts of `runc spec`: every one must plan, each to the flags and filesystem
// options runc gives it.
TEST(LinuxMountPlan, RuncDefaultConfigMounts) {
  std::vector<oci::Mount> mounts = {
      mnt("/proc", "proc", "proc", {}),
      mnt("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mnt("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mnt("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mnt("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mnt("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mnt("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  };
  auto r = plan_mounts(mounts);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const auto& s = r.value();
  ASSERT_EQ(s.size(), 7u);
  for (const auto& step : s) {
    SCOPED_TRACE(step.destination);
    EXPECT_FALSE(step.bind);
    EXPECT_EQ(step.rattr_set | step.rattr_clr, 0u);
    EXPECT_EQ(step.propagation, 0u);
  }
  const uint64_t nsx = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
  const uint64_t nsxd = nsx | MOUNT_ATTR_NODEV;

  EXPECT_EQ(s[0].fstype, "proc");
  EXPECT_EQ(s[0].attr_set | s[0].attr_clr, 0u);
  EXPECT_TRUE(s[0].fs_params.empty());

  EXPECT_EQ(s[1].fstype, "tmpfs");
  EXPECT_EQ(s[1].attr_set, uint64_t{MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME});
  EXPECT_EQ(s[1].attr_clr, uint64_t{MOUNT_ATTR__ATIME});
  EXPECT_EQ(s[1].fs_params, (Params{{"mode", "755"}, {"size", "65536k"}}));

  EXPECT_EQ(s[2].fstype, "devpts");
  EXPECT_EQ(s[2].attr_set, nsx);
  EXPECT_EQ(s[2].attr_clr, 0u);
  EXPECT_EQ(s[2].fs_params,
            (Params{{"newinstance", ""}, {"ptmxmode", "0666"}, {"mode", "0620"}, {"gid", "5"}}));

  EXPECT_EQ(s[3].fstype, "tmpfs");
  EXPECT_EQ(s[3].source, "shm");
  EXPECT_EQ(s[3].attr_set, nsxd);
  EXPECT_EQ(s[3].fs_params, (Params{{"mode", "1777"}, {"size", "65536k"}}));

  EXPECT_EQ(s[4].fstype, "mqueue");
  EXPECT_EQ(s[4].attr_set, nsxd);
  EXPECT_TRUE(s[4].fs_params.empty());

  EXPECT_EQ(s[5].fstype, "sysfs");
  EXPECT_EQ(s[5].attr_set, nsxd | MOUNT_ATTR_RDONLY);
  EXPECT_EQ(s[5].attr_clr, 0u);
  EXPECT_TRUE(s[5].fs_params.empty());

  EXPECT_EQ(s[6].fstype, "cgroup");
  EXPECT_EQ(s[6].attr_set, nsxd | MOUNT_ATTR_RDONLY | MOUNT_ATTR_RELATIME);
  EXPECT_EQ(s[6].attr_clr, uint64_t{MOUNT_ATTR__ATIME});
  EXPECT_TRUE(s[6].fs_params.empty());
}

}  // namespace
}  // namespace guise::linux
