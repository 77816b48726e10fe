// network.netlink -> a bridge, a veth pair into a second namespace, addresses, a default
// route, hairpin mode and MACs, made through libmnl and checked from the kernel's side
// (sysfs, and TCP connections across the veth). Everything happens in throwaway network
// namespaces of a forked child; the host's network is never touched.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "network/netlink.h"
#include "sys/fd.h"

namespace guise::network {
namespace {

constexpr int kSkip = 77;

// The child's verdict: an empty string when all checks passed, else the first failure.
using Scenario = std::function<std::string()>;

#define CHECK(cond) \
  if (!(cond)) return std::string("line ") + std::to_string(__LINE__) + ": " #cond
#define CHECK_OK(expr)                                                                          \
  ({                                                                                            \
    auto&& r_ = (expr);                                                                         \
    if (!r_.ok()) return std::string("line ") + std::to_string(__LINE__) + ": " + r_.error().message(); \
    std::move(r_).take();                                                                       \
  })

#define CHECK_NONE(expr)                                                        \
  if (std::string m_ = (expr); !m_.empty()) return std::string("line ") + std::to_string(__LINE__) + ": " + m_

// Runs `body` in a forked child that has its own network and mount namespaces, with
// /sys remounted so that /sys/class/net shows the child's links. The child's result
// comes back through a pipe; a child that could not make its namespaces asks to skip.
void run_isolated(const Scenario& body) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (unshare(CLONE_NEWNET), netlink link creation)";
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(p[0]);
    auto report = [&](int code, const std::string& text) {
      (void)!::write(p[1], text.data(), text.size());
      ::_exit(code);
    };
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
      report(kSkip, std::string("unshare(CLONE_NEWNET|CLONE_NEWNS): ") + std::strerror(errno));
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
        ::mount("sysfs", "/sys", "sysfs", 0, nullptr) < 0)
      report(kSkip, std::string("mounting a namespace's own sysfs: ") + std::strerror(errno));
    std::string failure = body();
    report(failure.empty() ? 0 : 1, failure);
  }
  ::close(p[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) text.append(buf, n);
  ::close(p[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died: status " << status;
  if (WEXITSTATUS(status) == kSkip) GTEST_SKIP() << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

sys::Fd current_netns() { return sys::Fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)); }

// A fresh network namespace, left again at once: its fd keeps it alive.
sys::Fd new_netns() {
  sys::Fd home = current_netns();
  if (::unshare(CLONE_NEWNET) < 0) return sys::Fd();
  sys::Fd made = current_netns();
  if (::setns(home.get(), CLONE_NEWNET) < 0) ::_exit(3);
  return made;
}

// Runs `fn` with the thread in namespace `ns` (sockets and sysfs mounts made there stay
// there).
template <class F>
auto in_netns(int ns, F fn) {
  sys::Fd home = current_netns();
  if (::setns(ns, CLONE_NEWNET) < 0) ::_exit(3);
  auto r = fn();
  if (::setns(home.get(), CLONE_NEWNET) < 0) ::_exit(3);
  return r;
}

IpAddress ip(const std::string& text) { return parse_ip(text, "test").take(); }

sockaddr_storage sockaddr_of(const IpAddress& a, uint16_t port) {
  sockaddr_storage ss{};
  if (a.v4()) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::memcpy(&s->sin_addr, a.bytes.data(), 4);
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    std::memcpy(&s->sin6_addr, a.bytes.data(), 16);
  }
  return ss;
}

// A TCP connection from namespace `from` to `to`:`port`, which a listener in namespace
// `server_ns` accepts; one byte goes across. "" when it worked.
std::string connects(int from, int server_ns, const IpAddress& to, uint16_t port) {
  auto addr = sockaddr_of(to, port);
  socklen_t len = to.v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  sys::Fd listener(in_netns(server_ns, [&] { return ::socket(to.family, SOCK_STREAM | SOCK_CLOEXEC, 0); }));
  int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) < 0 || ::listen(listener.get(), 1) < 0)
    return "listening on " + to.str() + ": " + std::strerror(errno);
  sys::Fd client(in_netns(from, [&] { return ::socket(to.family, SOCK_STREAM | SOCK_CLOEXEC, 0); }));
  timeval timeout{5, 0};  // connect() gives up after SO_SNDTIMEO, not minutes of SYN retries
  ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  ::setsockopt(listener.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), len) < 0)
    return "connecting to " + to.str() + ": " + std::strerror(errno);
  sys::Fd conn(::accept(listener.get(), nullptr, nullptr));
  if (!conn.valid()) return "accepting from " + to.str() + ": " + std::strerror(errno);
  char c = 'x', got = 0;
  if (::write(client.get(), &c, 1) != 1 || ::read(conn.get(), &got, 1) != 1 || got != 'x')
    return "no byte across " + to.str();
  return "";
}

// The container side of the veth, as guise makes it: a bridge "gbr0" here (namespace
// A, the "host"), its port "gvtest", and the peer "eth0" in namespace B (the container)
// with an address and a default route via the bridge.
TEST(NetworkNetlink, BuildsABridgedVethIntoAnotherNamespace) {
  run_isolated([]() -> std::string {
    sys::Fd host = current_netns();
    sys::Fd container = new_netns();
    CHECK(container.valid());
    // A sysfs of the container's namespace, to see its links from here.
    char dir[] = "/tmp/guise-netlink-test-XXXXXX";
    CHECK(::mkdtemp(dir) != nullptr);
    struct Unmount {
      const char* dir;
      ~Unmount() {
        ::umount2(dir, MNT_DETACH);
        ::rmdir(dir);
      }
    } unmount{dir};
    std::string csys = dir;
    CHECK(in_netns(container.get(), [&] { return ::mount("sysfs", dir, "sysfs", 0, nullptr); }) == 0);

    Netlink nl = CHECK_OK(Netlink::open());
    CHECK(CHECK_OK(nl.create_bridge("gbr0", 1400)) == true);
    CHECK(CHECK_OK(nl.create_bridge("gbr0", 1400)) == false);
    CHECK(read_file("/sys/class/net/gbr0/mtu") == "1400");
    CHECK(exists("/sys/class/net/gbr0/bridge"));
    CHECK(nl.link_exists("gbr0"));
    CHECK(CHECK_OK(nl.link_index("gbr0")) == std::stoi(read_file("/sys/class/net/gbr0/ifindex")));

    CHECK_OK(nl.create_veth("gvtest", "eth0", container.get(), 1400));
    CHECK(read_file("/sys/class/net/gvtest/mtu") == "1400");
    CHECK(!exists("/sys/class/net/eth0"));  // made in the container directly
    CHECK(read_file(csys + "/class/net/eth0/mtu") == "1400");
    CHECK(read_file(csys + "/class/net/eth0/iflink") == read_file("/sys/class/net/gvtest/ifindex"));

    CHECK_OK(nl.set_master("gvtest", "gbr0"));
    CHECK(exists("/sys/class/net/gbr0/brif/gvtest"));
    CHECK_OK(nl.set_hairpin("gvtest", true));
    CHECK(read_file("/sys/class/net/gvtest/brport/hairpin_mode") == "1");
    CHECK_OK(nl.set_hairpin("gvtest", false));
    CHECK(read_file("/sys/class/net/gvtest/brport/hairpin_mode") == "0");
    CHECK_OK(nl.set_hairpin("gvtest", true));

    MacAddress host_mac{0x02, 0x42, 0x0a, 0x63, 0x00, 0x01};
    CHECK_OK(nl.set_mac("gvtest", host_mac));
    CHECK(read_file("/sys/class/net/gvtest/address") == "02:42:0a:63:00:01");
    CHECK(CHECK_OK(nl.mac_of("gvtest")) == host_mac);

    for (auto link : {"lo", "gbr0", "gvtest"}) CHECK_OK(nl.set_up(link));
    CHECK((std::stoul(read_file("/sys/class/net/gvtest/flags"), nullptr, 16) & 1) == 1);  // IFF_UP
    CHECK_OK(nl.add_address("gbr0", ip("10.99.0.1"), 16));
    CHECK_OK(nl.add_address("gbr0", ip("10.99.0.1"), 16));  // there already: fine
    CHECK_OK(nl.add_address("gbr0", ip("fd99::1"), 64));
    // Addresses outside the bridge's subnets: reached from the container only through
    // its default routes.
    CHECK_OK(nl.add_address("lo", ip("192.0.2.1"), 32));
    CHECK_OK(nl.add_address("lo", ip("2001:db8::1"), 128));

    // The container's side, through a socket opened in its namespace.
    Netlink cnl = CHECK_OK(Netlink::open_in(container.get()));
    CHECK(CHECK_OK(cnl.link_index("eth0")) == std::stoi(read_file(csys + "/class/net/eth0/ifindex")));
    CHECK(!nl.link_exists("eth0"));  // each socket sees its own namespace only
    MacAddress container_mac{0x02, 0x42, 0x0a, 0x63, 0x00, 0x05};
    CHECK_OK(cnl.set_mac("eth0", container_mac));
    CHECK(read_file(csys + "/class/net/eth0/address") == "02:42:0a:63:00:05");
    for (auto link : {"lo", "eth0"}) CHECK_OK(cnl.set_up(link));
    CHECK_OK(cnl.add_address("eth0", ip("10.99.0.5"), 16));
    CHECK_OK(cnl.add_address("eth0", ip("fd99::5"), 64));
    CHECK_OK(cnl.add_default_route(ip("10.99.0.1")));
    CHECK_OK(cnl.add_default_route(ip("fd99::1")));

    // Traffic both ways: host -> container over the subnet, container -> host's other
    // addresses over the default routes.
    CHECK_NONE(connects(host.get(), container.get(), ip("10.99.0.5"), 8080));
    CHECK_NONE(connects(host.get(), container.get(), ip("fd99::5"), 8080));
    CHECK_NONE(connects(container.get(), host.get(), ip("192.0.2.1"), 8081));
    CHECK_NONE(connects(container.get(), host.get(), ip("2001:db8::1"), 8081));

    // Deleting one end removes the pair; deleting what is gone is fine.
    CHECK_OK(nl.delete_link("gvtest"));
    CHECK(!exists("/sys/class/net/gvtest"));
    CHECK(!exists(csys + "/class/net/eth0"));
    CHECK(!cnl.link_exists("eth0"));
    CHECK_OK(nl.delete_link("gvtest"));
    CHECK_OK(nl.delete_link("gbr0"));
    CHECK(!nl.link_exists("gbr0"));
    return "";
  });
}

TEST(NetworkNetlink, ErrorsNameTheOperationAndTheLink) {
  run_isolated([]() -> std::string {
    sys::Fd peer = new_netns();
    CHECK(peer.valid());
    Netlink nl = CHECK_OK(Netlink::open());
    CHECK_OK(nl.create_veth("gv123", "eth0", peer.get(), 0));
    auto again = nl.create_veth("gv123", "eth1", peer.get(), 0);
    CHECK(!again.ok());
    CHECK(again.error().message() == "creating veth gv123: File exists");

    auto missing = nl.link_index("nosuch0");
    CHECK(!missing.ok());
    CHECK(missing.error().is(sys::ErrorKind::kNotFound));
    CHECK(missing.error().message().find("nosuch0") != std::string::npos);
    auto up = nl.set_up("nosuch0");
    CHECK(!up.ok());
    CHECK(up.error().message() == "setting link nosuch0 up: No such device");
    auto master = nl.set_master("gv123", "nosuch0");
    CHECK(!master.ok());
    CHECK(master.error().is(sys::ErrorKind::kNotFound));
    CHECK(master.error().message().find("attaching gv123 to bridge nosuch0") == 0);
    CHECK(!nl.mac_of("nosuch0").ok());
    CHECK_OK(nl.delete_link("nosuch0"));

    // A moved socket keeps working; the moved-from one is only destroyed.
    Netlink moved = std::move(nl);
    CHECK(moved.link_exists("gv123"));
    Netlink assigned = CHECK_OK(Netlink::open());
    assigned = std::move(moved);
    CHECK(assigned.link_exists("gv123"));
    CHECK_OK(assigned.delete_link("gv123"));
    CHECK(!assigned.link_exists("gv123"));
    return "";
  });
}

}  // namespace
}  // namespace guise::network
