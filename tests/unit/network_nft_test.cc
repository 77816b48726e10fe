// network.nft -> the table inet guise: its text as `nft list` prints it, and, as root in a
// throwaway network namespace, what the kernel holds after apply_ruleset and remove_ruleset.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include "sys/fd.h"

#include "network/nft.h"

namespace guise::network {
namespace {

IpAddress ip(const std::string& s) { return parse_ip(s, "test").value(); }
Prefix prefix(const std::string& s) { return parse_prefix(s, "test").value(); }

Ruleset sample() {
  Ruleset r;
  r.networks.push_back({"guise0", prefix("10.88.0.0/16"), prefix("fd00:88::/64"), false});
  r.networks.push_back({"guise1", prefix("10.89.0.0/24"), std::nullopt, true});
  r.ports.push_back({"tcp", std::nullopt, 8080, ip("10.88.0.5"), 80, "0123456789abcdef0123"});
  r.ports.push_back({"udp", std::nullopt, 5353, ip("10.88.0.5"), 53, "0123456789abcdef0123"});
  r.ports.push_back({"tcp", ip("127.0.0.1"), 9000, ip("10.89.0.2"), 9001, "fedcba9876543210"});
  return r;
}

const char* kSampleText =
    "table inet guise {\n"
    "\tchain prerouting {\n"
    "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
    "\t\tfib daddr type local jump published\n"
    "\t}\n"
    "\n"
    "\tchain output {\n"
    "\t\ttype nat hook output priority -100; policy accept;\n"
    "\t\tfib daddr type local jump published\n"
    "\t}\n"
    "\n"
    "\tchain published {\n"
    "\t\tmeta nfproto ipv4 tcp dport 8080 dnat ip to 10.88.0.5:80 comment \"0123456789ab\"\n"
    "\t\tmeta nfproto ipv4 udp dport 5353 dnat ip to 10.88.0.5:53 comment \"0123456789ab\"\n"
    "\t\tip daddr 127.0.0.1 tcp dport 9000 dnat ip to 10.89.0.2:9001 comment \"fedcba987654\"\n"
    "\t}\n"
    "\n"
    "\tchain postrouting {\n"
    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
    "\t\tip saddr 10.88.0.0/16 oifname != \"guise0\" masquerade\n"
    "\t\tip6 saddr fd00:88::/64 oifname != \"guise0\" masquerade\n"
    "\t\toifname \"guise0\" ip saddr 127.0.0.0/8 masquerade\n"
    "\t\toifname \"guise0\" ct status dnat ip saddr 10.88.0.0/16 masquerade\n"
    "\t\toifname \"guise0\" ct status dnat ip6 saddr fd00:88::/64 masquerade\n"
    "\t\toifname \"guise1\" ip saddr 127.0.0.0/8 masquerade\n"
    "\t\toifname \"guise1\" ct status dnat ip saddr 10.89.0.0/24 masquerade\n"
    "\t}\n"
    "\n"
    "\tchain forward {\n"
    "\t\ttype filter hook forward priority filter; policy accept;\n"
    "\t\tiifname \"guise0\" oifname \"guise1\" drop\n"
    "\t\tiifname \"guise1\" oifname \"guise0\" drop\n"
    "\t\tiifname \"guise1\" oifname != \"guise1\" drop\n"
    "\t\toifname \"guise1\" iifname != \"guise1\" drop\n"
    "\t}\n"
    "}\n";

TEST(NetworkNft, TextOfASampleRuleset) { EXPECT_EQ(ruleset_text(sample()), kSampleText); }

TEST(NetworkNft, TextOfPortsOfEachFamily) {
  Ruleset r;
  r.ports.push_back({"tcp", ip("::1"), 8443, ip("fd00:88::5"), 443, "abc"});
  r.ports.push_back({"tcp", std::nullopt, 8444, ip("fd00:88::5"), 443, ""});
  r.ports.push_back({"sctp", ip("0.0.0.0"), 7000, ip("10.88.0.5"), 7000, ""});
  r.ports.push_back({"tcp", ip("::1"), 8080, ip("10.88.0.5"), 80, ""});  // other family: no rule
  r.ports.push_back({"udp", ip("10.0.0.1"), 8080, ip("fd00::1"), 80, ""});  // likewise
  std::string text = ruleset_text(r);
  EXPECT_NE(text.find("\tchain published {\n"
                      "\t\tip6 daddr ::1 tcp dport 8443 dnat ip6 to [fd00:88::5]:443 comment \"abc\"\n"
                      "\t\tmeta nfproto ipv6 tcp dport 8444 dnat ip6 to [fd00:88::5]:443\n"
                      "\t\tmeta nfproto ipv4 sctp dport 7000 dnat ip to 10.88.0.5:7000\n"
                      "\t}\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n"),
            std::string::npos)
      << text;
}

TEST(NetworkNft, NothingToWriteIsNoTable) { EXPECT_EQ(ruleset_text(Ruleset{}), ""); }

TEST(NetworkNft, RejectsWhatCannotBeWritten) {
  Ruleset r;
  r.ports.push_back({"icmp", std::nullopt, 1, ip("10.88.0.5"), 1, ""});
  auto e = apply_ruleset(r);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message().find("icmp"), std::string::npos);
  Ruleset long_name;
  long_name.networks.push_back({"a-bridge-name-too-long", prefix("10.1.0.0/16"), std::nullopt, false});
  EXPECT_FALSE(apply_ruleset(long_name).ok());
}

// Runs `body` on a thread of its own in a new network namespace (the namespace goes with
// the thread); returns why it could not, or "".
std::string in_new_netns(const std::function<void()>& body) {
  std::string why;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      why = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    body();
  });
  t.join();
  return why;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* f = ::popen((command + " 2>&1").c_str(), "r");
  if (!f) return "popen failed";
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int status = ::pclose(f);
  if (status != 0) out += "[exit " + std::to_string(status) + "]";
  return out;
}

bool have_nft_tool() { return run("command -v nft >/dev/null") .empty(); }

// Whether nf_tables answers here; empty when it does, else why not.
std::string probe_nf_tables() {
  auto r = remove_ruleset();
  if (r.ok()) return "";
  return "nf_tables unavailable: " + r.error().message();
}

Ruleset second() {
  Ruleset r;
  r.networks.push_back({"guise3", prefix("172.20.0.0/20"), std::nullopt, false});
  r.ports.push_back({"tcp", ip("::1"), 8443, ip("fd00:88::5"), 443, "abc"});
  r.ports.push_back({"udp", ip("10.1.2.3"), 53, ip("172.20.0.9"), 53, "0123456789abcdef"});
  return r;
}

TEST(NetworkNft, KernelHoldsWhatTheTextSays) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, nf_tables)";
  if (!have_nft_tool()) GTEST_SKIP() << "needs the nft tool to list the table";
  std::string skip;
  std::string why = in_new_netns([&] {
    skip = probe_nf_tables();
    if (!skip.empty()) return;
    ASSERT_EQ(run("nft add table ip other && nft add chain ip other c"), "");
    const std::string others = run("nft list table ip other");

    auto a = apply_ruleset(sample());
    ASSERT_TRUE(a.ok()) << a.error().message();
    EXPECT_EQ(run("nft list table inet guise"), kSampleText);
    // Applying again is the same.
    a = apply_ruleset(sample());
    ASSERT_TRUE(a.ok()) << a.error().message();
    EXPECT_EQ(run("nft list table inet guise"), kSampleText);
    // A different ruleset replaces the table whole.
    a = apply_ruleset(second());
    ASSERT_TRUE(a.ok()) << a.error().message();
    EXPECT_EQ(run("nft list table inet guise"), ruleset_text(second()));
    EXPECT_EQ(run("nft list table ip other"), others);

    auto rm = remove_ruleset();
    ASSERT_TRUE(rm.ok()) << rm.error().message();
    EXPECT_NE(run("nft list table inet guise").find("[exit"), std::string::npos);
    rm = remove_ruleset();
    EXPECT_TRUE(rm.ok()) << rm.error().message();
    EXPECT_EQ(run("nft list table ip other"), others);

    // Nothing to write removes the table.
    ASSERT_TRUE(apply_ruleset(sample()).ok());
    a = apply_ruleset(Ruleset{});
    ASSERT_TRUE(a.ok()) << a.error().message();
    EXPECT_EQ(run("nft list tables"), "table ip other\n");
  });
  if (!why.empty()) GTEST_SKIP() << why;
  if (!skip.empty()) GTEST_SKIP() << skip;
}

// A "container" (a thread in a network namespace of its own, behind a veth named like a
// guise bridge) listening on 10.88.0.2:80; the host side connects to 127.0.0.1:8080 and
// gets there through the published port's DNAT and the loopback masquerade.
TEST(NetworkNft, PublishedPortReachesTheContainerFromLocalhost) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, nf_tables)";
  if (!run("command -v ip >/dev/null").empty()) GTEST_SKIP() << "needs the ip tool to make a veth pair";
  std::string skip;
  std::string why = in_new_netns([&] {
    skip = probe_nf_tables();
    if (!skip.empty()) return;
    std::promise<pid_t> tid;
    std::promise<void> moved;
    std::promise<bool> listening;
    std::thread container([&] {
      if (::unshare(CLONE_NEWNET) != 0) {
        tid.set_value(0);
        return;
      }
      tid.set_value(::gettid());
      if (moved.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        listening.set_value(false);
        return;
      }
      std::string out = run("ip link set lo up && ip addr add 10.88.0.2/16 dev c0 && ip link set c0 up && "
                            "ip route add default via 10.88.0.1");
      sys::Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(80);
      bool ok = out.empty() && s.valid() && ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                ::listen(s.get(), 1) == 0;
      EXPECT_TRUE(ok) << out << std::strerror(errno);
      listening.set_value(ok);
      if (!ok) return;
      pollfd p{s.get(), POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return;
      sys::Fd c(::accept4(s.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (c.valid()) (void)!::write(c.get(), "hello", 5);
    });
    pid_t container_tid = tid.get_future().get();
    if (container_tid == 0) {
      container.join();
      skip = "unshare(CLONE_NEWNET) in a second thread failed";
      return;
    }
    std::string out = run("ip link add guise0 type veth peer name c0 && ip link set c0 netns " +
                          std::to_string(container_tid) +
                          " && ip link set lo up && ip addr add 10.88.0.1/16 dev guise0 && ip link set guise0 up"
                          " && echo 1 > /proc/sys/net/ipv4/conf/guise0/route_localnet");
    moved.set_value();
    EXPECT_EQ(out, "");
    bool ready = listening.get_future().get();
    if (out.empty() && ready) {
      Ruleset r;
      r.networks.push_back({"guise0", prefix("10.88.0.0/16"), std::nullopt, false});
      r.ports.push_back({"tcp", ip("127.0.0.1"), 8080, ip("10.88.0.2"), 80, "c0ffee"});
      auto a = apply_ruleset(r);
      EXPECT_TRUE(a.ok()) << a.error().message();
      sys::Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(8080);
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      timeval t{5, 0};
      ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
      ::setsockopt(c.get(), SOL_SOCKET, SO_SNDTIMEO, &t, sizeof t);
      EXPECT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << std::strerror(errno);
      char buf[16] = {};
      EXPECT_EQ(::read(c.get(), buf, sizeof buf), 5) << std::strerror(errno);
      EXPECT_STREQ(buf, "hello");
    }
    container.join();
  });
  if (!why.empty()) GTEST_SKIP() << why;
  if (!skip.empty()) GTEST_SKIP() << skip;
}

}  // namespace
}  // namespace guise::network
