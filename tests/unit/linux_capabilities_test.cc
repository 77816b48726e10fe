// process.capabilities names -> the bit sets the container's init gets.
#include <gtest/gtest.h>
#include <linux/capability.h>

#include "linux/capabilities.h"

namespace guise::linux {
namespace {

TEST(LinuxCapabilities, AllNamesInKernelOrder) {
  const auto& names = all_capability_names();
  ASSERT_EQ(names.size(), 41u);
  EXPECT_EQ(names.front(), "CAP_CHOWN");
  EXPECT_EQ(names.back(), "CAP_CHECKPOINT_RESTORE");
  // Spot checks against the kernel's own numbering.
  EXPECT_EQ(names[CAP_DAC_OVERRIDE], "CAP_DAC_OVERRIDE");
  EXPECT_EQ(names[CAP_KILL], "CAP_KILL");
  EXPECT_EQ(names[CAP_NET_BIND_SERVICE], "CAP_NET_BIND_SERVICE");
  EXPECT_EQ(names[CAP_NET_RAW], "CAP_NET_RAW");
  EXPECT_EQ(names[CAP_SYS_CHROOT], "CAP_SYS_CHROOT");
  EXPECT_EQ(names[CAP_SYS_ADMIN], "CAP_SYS_ADMIN");
  EXPECT_EQ(names[CAP_MKNOD], "CAP_MKNOD");
  EXPECT_EQ(names[CAP_AUDIT_WRITE], "CAP_AUDIT_WRITE");
  EXPECT_EQ(names[CAP_SETFCAP], "CAP_SETFCAP");
  EXPECT_EQ(names[CAP_AUDIT_READ], "CAP_AUDIT_READ");
#ifdef CAP_CHECKPOINT_RESTORE
  EXPECT_EQ(names[CAP_PERFMON], "CAP_PERFMON");
  EXPECT_EQ(names[CAP_BPF], "CAP_BPF");
  EXPECT_EQ(names[CAP_CHECKPOINT_RESTORE], "CAP_CHECKPOINT_RESTORE");
#endif
}

TEST(LinuxCapabilities, NumberAndNameRoundTripForEveryName) {
  const auto& names = all_capability_names();
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    auto n = capability_number(names[i]);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, static_cast<int>(i));
    EXPECT_EQ(capability_name(*n), names[i]);
  }
  EXPECT_EQ(capability_number("CAP_CHOWN"), 0);
  EXPECT_EQ(capability_number("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(capability_number("CAP_CHECKPOINT_RESTORE"), 40);
}

TEST(LinuxCapabilities, UnknownNamesAndNumbers) {
  EXPECT_FALSE(capability_number("CAP_BOGUS").has_value());
  EXPECT_FALSE(capability_number("cap_chown").has_value());
  EXPECT_FALSE(capability_number("CHOWN").has_value());
  EXPECT_FALSE(capability_number("").has_value());
  EXPECT_EQ(capability_name(41), "CAP_41");
  EXPECT_EQ(capability_name(-1), "CAP_-1");
}

TEST(LinuxCapabilities, LastCapabilityIsSane) {
  int last = last_capability();
  EXPECT_GE(last, CAP_AUDIT_READ);  // every kernel guise runs on has at least 37
  EXPECT_LT(last, 64);
}

TEST(LinuxCapabilities, PlanSetsTheNamedBitsInEachSet) {
  oci::Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"};
  caps.effective = {"CAP_KILL"};
  caps.permitted = {"CAP_KILL", "CAP_CHOWN"};
  caps.inheritable = {"CAP_NET_BIND_SERVICE"};
  caps.ambient = {"CAP_SYS_ADMIN"};
  auto r = plan_capabilities(caps, "process.capabilities");
  ASSERT_TRUE(r.ok()) << r.error().message();
  const CapSets& s = r.value();
  auto bit = [](int cap) { return uint64_t{1} << cap; };
  EXPECT_EQ(s.bounding, bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE) | bit(CAP_AUDIT_WRITE));
  EXPECT_EQ(s.effective, bit(CAP_KILL));
  EXPECT_EQ(s.permitted, bit(CAP_KILL) | bit(CAP_CHOWN));
  EXPECT_EQ(s.inheritable, bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(s.ambient, bit(CAP_SYS_ADMIN));
}

TEST(LinuxCapabilities, AbsentSetsAreEmpty) {
  auto r = plan_capabilities(oci::Capabilities{}, "process.capabilities");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().bounding, 0u);
  EXPECT_EQ(r.value().effective, 0u);
  EXPECT_EQ(r.value().permitted, 0u);
  EXPECT_EQ(r.value().inheritable, 0u);
  EXPECT_EQ(r.value().ambient, 0u);
}

TEST(LinuxCapabilities, DuplicateNamesAreHarmless) {
  oci::Capabilities caps;
  caps.bounding = {"CAP_KILL", "CAP_KILL"};
  auto r = plan_capabilities(caps, "process.capabilities");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().bounding, uint64_t{1} << CAP_KILL);
}

TEST(LinuxCapabilities, EveryKnownCapabilityThisKernelHasIsPlanned) {
  oci::Capabilities caps;
  caps.bounding = all_capability_names();
  auto r = plan_capabilities(caps, "process.capabilities");
  ASSERT_TRUE(r.ok()) << r.error().message();
  int last = std::min(last_capability(), static_cast<int>(all_capability_names().size()) - 1);
  uint64_t want = last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1;
  EXPECT_EQ(r.value().bounding, want);
}

TEST(LinuxCapabilities, UnknownNameIsAnErrorNamingSetAndIndex) {
  oci::Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_BOGUS"};
  auto r = plan_capabilities(caps, "process.capabilities");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, 0);
  EXPECT_EQ(r.error().message(), "process.capabilities.bounding[1]: unknown capability \"CAP_BOGUS\"");
}

TEST(LinuxCapabilities, UnknownNameInEachSetIsNamed) {
  struct Case {
    std::vector<std::string> oci::Capabilities::*set;
    const char* name;
  } cases[] = {{&oci::Capabilities::bounding, "bounding"},
               {&oci::Capabilities::effective, "effective"},
               {&oci::Capabilities::permitted, "permitted"},
               {&oci::Capabilities::inheritable, "inheritable"},
               {&oci::Capabilities::ambient, "ambient"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    oci::Capabilities caps;
    caps.*c.set = {"chown"};
    auto r = plan_capabilities(caps, "process.capabilities");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(),
              std::string("process.capabilities.") + c.name + "[0]: unknown capability \"chown\"");
  }
}

}  // namespace
}  // namespace guise::linux
