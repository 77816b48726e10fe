// The DNS responder: its wire format, its hosts file, and a live server on 127.0.0.1
// (an ephemeral port) with fake upstream nameservers in the test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "network/dns.h"
#include "network/dns_hosts.h"
#include "network/dns_message.h"
#include "sys/fd.h"

namespace guise::network {
namespace {

namespace fs = std::filesystem;
using sys::Fd;

IpAddress ip(const std::string& text) { return parse_ip(text, "test").value(); }

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

Fd bound(int type, uint16_t port = 0, const char* address = "127.0.0.1") {
  Fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  auto a = loopback(port);
  ::inet_pton(AF_INET, address, &a.sin_addr);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  if (type == SOCK_STREAM) ::listen(fd.get(), 8);
  return fd;
}

bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

std::optional<std::string> udp_exchange(uint16_t port, const std::string& packet, int ms = 3000) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto a = loopback(port);
  ::sendto(fd.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (!readable(fd.get(), ms)) return std::nullopt;
  std::string buf(65536, '\0');
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<size_t>(n));
  return buf;
}

std::string framed(const std::string& m) {
  return std::string{static_cast<char>(m.size() >> 8), static_cast<char>(m.size() & 0xff)} + m;
}

// Reads one length-prefixed message from a stream socket; what came after it stays in
// `in` for the next call.
std::optional<std::string> read_framed(int fd, std::string& in, int ms = 3000) {
  char buf[4096];
  auto whole = [&] { return in.size() >= 2 && in.size() >= 2u + (static_cast<uint8_t>(in[0]) << 8 | static_cast<uint8_t>(in[1])); };
  while (!whole()) {
    if (!readable(fd, ms)) return std::nullopt;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    in.append(buf, static_cast<size_t>(n));
  }
  size_t len = static_cast<uint8_t>(in[0]) << 8 | static_cast<uint8_t>(in[1]);
  std::string message = in.substr(2, len);
  in.erase(0, 2 + len);
  return message;
}

std::optional<std::string> read_framed(int fd) {
  std::string in;
  return read_framed(fd, in);
}

std::optional<std::string> tcp_exchange(uint16_t port, const std::string& packet) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto a = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return std::nullopt;
  std::string out = framed(packet);
  ::send(fd.get(), out.data(), out.size(), MSG_NOSIGNAL);
  return read_framed(fd.get());
}

dns::Reply reply_of(const std::optional<std::string>& packet) {
  EXPECT_TRUE(packet.has_value()) << "no reply";
  if (!packet) return {};
  auto r = dns::parse_reply(*packet);
  EXPECT_TRUE(r.has_value()) << "unparsable reply";
  return r.value_or(dns::Reply{});
}

std::vector<std::string> addresses_in(const dns::Reply& r) {
  std::vector<std::string> out;
  for (const auto& rec : r.answers) {
    IpAddress a;
    a.family = rec.type == dns::kTypeA ? AF_INET : AF_INET6;
    std::copy(rec.data.begin(), rec.data.end(), a.bytes.begin());
    out.push_back(a.str());
  }
  return out;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "guise-dns-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

void write_file(const fs::path& p, const std::string& text) {
  fs::path tmp = p.string() + ".tmp";
  std::ofstream(tmp) << text;
  fs::rename(tmp, p);  // as the network layer replaces it
}

// serve_dns on 127.0.0.1, an ephemeral port, in a thread; stopped by SIGTERM (at once,
// where keep_running would take up to a second).
struct Server {
  DnsServerOptions o;
  std::atomic<bool> running{true};
  std::thread thread;
  std::promise<Result<void>> result;
  uint16_t port = 0;

  explicit Server(DnsServerOptions opts) : o(std::move(opts)) {
    o.listen = {ip("127.0.0.1")};
    o.port = 0;
    o.keep_running = [this] { return running.load(); };
    std::promise<uint16_t> listening;
    auto got_port = listening.get_future();
    o.on_listening = [&listening](uint16_t p) { listening.set_value(p); };
    thread = std::thread([this] { result.set_value(serve_dns(o)); });
    if (got_port.wait_for(std::chrono::seconds(5)) == std::future_status::ready) port = got_port.get();
  }
  ~Server() {
    // Not listening: serve_dns failed and its thread is ending, with SIGTERM unblocked.
    if (port != 0) ::pthread_kill(thread.native_handle(), SIGTERM);
    thread.join();
  }
  dns::Reply ask(const std::string& name, uint16_t type, uint16_t id = 0x1234) {
    return reply_of(udp_exchange(port, dns::make_query(id, name, type)));
  }
};

const char* kHosts =
    "# the network's containers\n"
    "10.88.0.5 web Web-Alias  # trailing comment\n"
    "fd00::5 web\n"
    "10.88.0.6 db\n"
    "not-an-address x\n";

// A fake upstream nameserver: answers every query with the question copied and one A
// record 192.0.2.1, keeping the query's id; records what it received.
struct FakeUpstream {
  Fd fd;
  std::atomic<bool> stop{false};
  std::vector<std::string> received;
  std::mutex mu;
  std::thread thread;
  explicit FakeUpstream(uint16_t port = 0) : fd(bound(SOCK_DGRAM, port)), thread([this] { serve(); }) {}
  void serve() {
    while (!stop) {
      if (!readable(fd.get(), 50)) continue;
      std::string buf(65536, '\0');
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      buf.resize(static_cast<size_t>(n));
      {
        std::lock_guard lock(mu);
        received.push_back(buf);
      }
      std::string answer = canned(buf);
      ::sendto(fd.get(), answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
  ~FakeUpstream() {
    stop = true;
    thread.join();
  }
  uint16_t port() const { return port_of(fd.get()); }
  static std::string canned(const std::string& query) {
    auto q = dns::parse_question(query).value();
    return dns::make_reply(query, q, dns::kNoError, {{{}, dns::kTypeA, dns::kClassIn, 60, std::string("\xc0\x00\x02\x01", 4)}},
                           512, false);
  }
};

TEST(NetworkDnsMessage, NamesWithCompression) {
  // "a.example.com" at 12, then "b" + pointer to "example.com" at 14.
  std::string p(12, '\0');
  p += std::string("\x01" "A\x07" "example\x03" "com\x00", 15);
  p += std::string("\x01" "b\xc0\x0e", 4);
  size_t at = 12;
  EXPECT_EQ(dns::read_name(p, at), "a.example.com");
  EXPECT_EQ(at, 27u);
  EXPECT_EQ(dns::read_name(p, at), "b.example.com");
  EXPECT_EQ(at, 31u);
}

TEST(NetworkDnsMessage, MalformedNamesAreRejected) {
  auto read = [](const std::string& p) {
    size_t at = 12;
    return dns::read_name(p, at);
  };
  std::string h(12, '\0');
  EXPECT_FALSE(read(h + std::string("\xc0\x0c", 2)));          // a pointer to itself
  EXPECT_FALSE(read(h + std::string("\x01" "a\xc0\x0e", 4)));  // a pointer forwards
  EXPECT_FALSE(read(h + std::string("\x05" "ab", 3)));          // past the end
  EXPECT_FALSE(read(h + std::string("\xc0", 1)));               // half a pointer
  EXPECT_FALSE(read(h + std::string("\x41" "a", 2)));           // an extended label type
  EXPECT_FALSE(read(h));                                        // nothing
  std::string long_name = h;
  for (int i = 0; i < 5; ++i) long_name += "\x3f" + std::string(63, 'x');
  EXPECT_FALSE(read(long_name + std::string(1, '\0')));  // over 255 bytes
  EXPECT_EQ(read(h + std::string("\x03" "a.b\x00", 5)), "a\\.b");  // a dot inside a label
  // A pointer into the header: the header holds no name, and a reply, copying the question
  // under a header of its own, would read another one there (found by fuzz/dns_message).
  // Here the flags and qdcount spell "\x01a\x00": the name "a", in the query only.
  std::string query = std::string("\x00\x00\x01" "a\x00\x01\x00\x00\x00\x00\x00\x00", 12) +
                      std::string("\xc0\x02\x00\x01\x00\x01", 6);
  EXPECT_FALSE(read(query));
  EXPECT_FALSE(dns::parse_question(query));
  // A pointer into the name's own first label, from where labels run on past the pointer,
  // over the bytes that follow the question: a reply puts its answers there, so the name
  // its question reads would not be the query's (found by fuzz/dns_message).
  std::string past = query.substr(0, 12) + std::string("\x02\x03" "a\xc0\x0d\x01" "c\x00\x00\x01", 10);
  EXPECT_FALSE(read(past));
  EXPECT_FALSE(dns::parse_question(past));
}

TEST(NetworkDnsMessage, MutatedPacketsAreReadSafely) {
  auto hosts = dns::HostsTable::parse(kHosts);
  std::string base = dns::make_query(1, "web.example.com", dns::kTypeA);
  auto q = dns::parse_question(base).value();
  std::string reply = dns::make_reply(base, q, 0, {{{}, dns::kTypePtr, dns::kClassIn, 1, std::string("\x01" "a\xc0\x0c", 4)}}, 512);
  std::srand(2);
  for (int i = 0; i < 20000; ++i) {
    std::string p = i % 2 ? base : reply;
    for (int k = std::rand() % 4; k >= 0; --k) p[static_cast<size_t>(std::rand()) % p.size()] = static_cast<char>(std::rand());
    p.resize(static_cast<size_t>(std::rand()) % (p.size() + 1));
    dns::parse_reply(p);
    dns::answer_locally(p, hosts, 1, 512);
  }
}

TEST(NetworkDnsMessage, EncodeNames) {
  EXPECT_EQ(dns::encode_name("a.bc."), std::string("\x01" "a\x02" "bc\x00", 6));
  EXPECT_EQ(dns::encode_name(""), std::string(1, '\0'));
  EXPECT_FALSE(dns::encode_name("a..b"));
  EXPECT_FALSE(dns::encode_name(std::string(64, 'x')));
}

TEST(NetworkDnsHosts, ParsedAndLookedUp) {
  auto t = dns::HostsTable::parse(kHosts);
  ASSERT_TRUE(t.addresses("web"));
  EXPECT_EQ(t.addresses("web")->size(), 2u);
  ASSERT_TRUE(t.addresses("web-alias"));
  EXPECT_EQ(t.addresses("web-alias")->at(0).str(), "10.88.0.5");
  EXPECT_FALSE(t.addresses("x"));
  EXPECT_FALSE(t.addresses("trailing"));
  ASSERT_TRUE(t.name_of(ip("10.88.0.5")));
  EXPECT_EQ(*t.name_of(ip("10.88.0.5")), "web");
}

TEST(NetworkDnsHosts, ReverseNames) {
  EXPECT_EQ(dns::address_of_reverse("5.0.88.10.in-addr.arpa"), ip("10.88.0.5"));
  EXPECT_EQ(dns::address_of_reverse("5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"),
            ip("fd00::5"));
  EXPECT_FALSE(dns::address_of_reverse("0.88.10.in-addr.arpa"));
  EXPECT_FALSE(dns::address_of_reverse("256.0.88.10.in-addr.arpa"));
  EXPECT_FALSE(dns::address_of_reverse("1.5.0.88.10.in-addr.arpa"));
  EXPECT_FALSE(dns::address_of_reverse("x.0.88.10.in-addr.arpa"));
  EXPECT_FALSE(dns::address_of_reverse("5.ip6.arpa"));
}

TEST(NetworkDns, NameserversOfResolvConf) {
  auto ns = nameservers_of(
      "# generated\nsearch example.com\nnameserver 127.0.0.53\n  nameserver\t8.8.8.8 ; comment\n"
      "nameserver fe80::1%eth0\nnameserver bogus\nnameserver\noptions edns0\nnameserver 2001:db8::1");
  ASSERT_EQ(ns.size(), 4u);
  EXPECT_EQ(ns[0].str(), "127.0.0.53");
  EXPECT_EQ(ns[1].str(), "8.8.8.8");
  EXPECT_EQ(ns[2].str(), "fe80::1");
  EXPECT_EQ(ns[3].str(), "2001:db8::1");
  EXPECT_TRUE(nameservers_of("").empty());
}

class NetworkDnsServer : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path hosts = dir.path / "hosts";
  DnsServerOptions opts() {
    write_file(hosts, kHosts);
    DnsServerOptions o;
    o.hosts_file = hosts.string();
    o.ttl = 42;
    o.upstream_timeout_ms = 300;
    return o;
  }
};

TEST_F(NetworkDnsServer, AnswersNamesAndAliases) {
  Server s(opts());
  ASSERT_NE(s.port, 0);
  auto r = s.ask("WEB.", dns::kTypeA, 0xbeef);
  EXPECT_EQ(r.header.id, 0xbeef);
  EXPECT_TRUE(r.header.qr());
  EXPECT_TRUE(r.header.aa());
  EXPECT_TRUE(r.header.ra());
  EXPECT_EQ(r.header.rcode(), dns::kNoError);
  EXPECT_EQ(addresses_in(r), std::vector<std::string>{"10.88.0.5"});
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].ttl, 42u);
  EXPECT_EQ(r.answers[0].name, "web");
  EXPECT_EQ(addresses_in(s.ask("web", dns::kTypeAaaa)), std::vector<std::string>{"fd00::5"});
  EXPECT_EQ(addresses_in(s.ask("web-ALIAS", dns::kTypeA)), std::vector<std::string>{"10.88.0.5"});
}

TEST_F(NetworkDnsServer, KnownNameWithoutSuchAddressIsNoData) {
  Server s(opts());
  for (uint16_t type : {dns::kTypeAaaa, uint16_t{15} /* MX */}) {
    auto r = s.ask("db", type);
    EXPECT_EQ(r.header.rcode(), dns::kNoError);
    EXPECT_TRUE(r.answers.empty());
    EXPECT_TRUE(r.header.aa());
  }
}

TEST_F(NetworkDnsServer, AnswersPtr) {
  Server s(opts());
  auto r = s.ask("5.0.88.10.in-addr.arpa", dns::kTypePtr);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].data, "web");
  r = s.ask("5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", dns::kTypePtr);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].data, "web");
}

TEST_F(NetworkDnsServer, ForwardsOtherNamesKeepingTheId) {
  FakeUpstream up;
  auto o = opts();
  o.upstream = {ip("127.0.0.1")};
  o.upstream_port = up.port();
  Server s(o);
  std::string query = dns::make_query(0x4242, "example.org", dns::kTypeA);
  auto r = reply_of(udp_exchange(s.port, query));
  EXPECT_EQ(r.header.id, 0x4242);
  EXPECT_FALSE(r.header.aa());
  EXPECT_EQ(addresses_in(r), std::vector<std::string>{"192.0.2.1"});
  std::lock_guard lock(up.mu);
  ASSERT_EQ(up.received.size(), 1u);
  EXPECT_EQ(up.received[0], query);  // unchanged
}

TEST_F(NetworkDnsServer, NextUpstreamAfterATimeout) {
  // One port for both: a silent server on 127.0.0.2 (all of 127/8 is loopback), that
  // takes the query and never answers, and an answering one on 127.0.0.1.
  Fd silent = bound(SOCK_DGRAM, 0, "127.0.0.2");
  FakeUpstream up(port_of(silent.get()));
  auto o = opts();
  o.upstream = {ip("127.0.0.2"), ip("127.0.0.1")};
  o.upstream_port = port_of(silent.get());
  Server s(o);
  auto started = std::chrono::steady_clock::now();
  auto r = reply_of(udp_exchange(s.port, dns::make_query(6, "example.org", dns::kTypeA)));
  EXPECT_EQ(r.header.id, 6);
  EXPECT_EQ(addresses_in(r), std::vector<std::string>{"192.0.2.1"});
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(250));
}

TEST_F(NetworkDnsServer, UpstreamTimeoutIsServFail) {
  Fd silent = bound(SOCK_DGRAM);
  auto o = opts();
  o.upstream = {ip("127.0.0.1")};
  o.upstream_port = port_of(silent.get());
  Server s(o);
  auto started = std::chrono::steady_clock::now();
  auto r = reply_of(udp_exchange(s.port, dns::make_query(7, "example.org", dns::kTypeA)));
  EXPECT_EQ(r.header.rcode(), dns::kServFail);
  EXPECT_EQ(r.header.id, 7);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(250));
}

TEST_F(NetworkDnsServer, NoUpstreamIsServFail) {
  Server s(opts());
  auto r = s.ask("example.org", dns::kTypeA, 9);
  EXPECT_EQ(r.header.rcode(), dns::kServFail);
  EXPECT_EQ(r.header.id, 9);
  ASSERT_TRUE(r.question);
  EXPECT_EQ(r.question->name, "example.org");
}

TEST_F(NetworkDnsServer, RefusedUpstreamIsServFailAtOnce) {
  uint16_t closed = port_of(bound(SOCK_DGRAM).get());  // bound, then closed again
  auto o = opts();
  o.upstream = {ip("127.0.0.1")};
  o.upstream_port = closed;
  o.upstream_timeout_ms = 5000;
  Server s(o);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(s.ask("example.org", dns::kTypeA).header.rcode(), dns::kServFail);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2000));
}

TEST_F(NetworkDnsServer, GarbageNeverStopsIt) {
  Server s(opts());
  // Too short for a header: dropped.
  EXPECT_FALSE(udp_exchange(s.port, std::string("\x01", 1), 200));
  // A header, then a name that points at itself: FORMERR.
  std::string loop("\x00\x05\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01", 18);
  auto r = reply_of(udp_exchange(s.port, loop));
  EXPECT_EQ(r.header.rcode(), dns::kFormErr);
  EXPECT_EQ(r.header.id, 5);
  // A reply is never answered (no loops between two servers).
  std::string reply = dns::make_query(3, "web", dns::kTypeA);
  reply[2] = static_cast<char>(reply[2] | 0x80);
  EXPECT_FALSE(udp_exchange(s.port, reply, 200));
  // Two questions: FORMERR; an unknown opcode: NOTIMP.
  std::string two = dns::make_query(4, "web", dns::kTypeA);
  two[5] = 2;
  EXPECT_EQ(reply_of(udp_exchange(s.port, two)).header.rcode(), dns::kFormErr);
  std::string status = dns::make_query(4, "web", dns::kTypeA);
  status[2] = static_cast<char>(status[2] | (2 << 3));
  EXPECT_EQ(reply_of(udp_exchange(s.port, status)).header.rcode(), dns::kNotImp);
  // Random bytes, then a good query still answered.
  std::srand(1);
  for (int i = 0; i < 200; ++i) {
    std::string junk(static_cast<size_t>(std::rand() % 64), '\0');
    for (char& c : junk) c = static_cast<char>(std::rand());
    if (junk.size() > 2) junk[2] &= 0x07;  // a query, opcode 0, mostly
    Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto a = loopback(s.port);
    ::sendto(fd.get(), junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  EXPECT_EQ(addresses_in(s.ask("web", dns::kTypeA)), std::vector<std::string>{"10.88.0.5"});
}

TEST_F(NetworkDnsServer, HostsFileChangesArePickedUp) {
  Server s(opts());
  EXPECT_EQ(s.ask("new", dns::kTypeA).header.rcode(), dns::kServFail);  // unknown: forwarded
  write_file(hosts, "10.88.0.9 new\n");
  EXPECT_EQ(addresses_in(s.ask("new", dns::kTypeA)), std::vector<std::string>{"10.88.0.9"});
  EXPECT_EQ(s.ask("web", dns::kTypeA).header.rcode(), dns::kServFail);
  fs::remove(hosts);
  EXPECT_EQ(s.ask("new", dns::kTypeA).header.rcode(), dns::kServFail);
}

TEST_F(NetworkDnsServer, AnswersOverTcp) {
  Server s(opts());
  auto r = reply_of(tcp_exchange(s.port, dns::make_query(11, "web", dns::kTypeAaaa)));
  EXPECT_EQ(r.header.id, 11);
  EXPECT_EQ(addresses_in(r), std::vector<std::string>{"fd00::5"});

  // Two queries in one write on one connection, and a half-closed client.
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto a = loopback(s.port);
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string two = framed(dns::make_query(1, "web", dns::kTypeA)) + framed(dns::make_query(2, "db", dns::kTypeA));
  ::send(fd.get(), two.data(), two.size(), MSG_NOSIGNAL);
  ::shutdown(fd.get(), SHUT_WR);
  std::string in;
  EXPECT_EQ(addresses_in(reply_of(read_framed(fd.get(), in))), std::vector<std::string>{"10.88.0.5"});
  EXPECT_EQ(addresses_in(reply_of(read_framed(fd.get(), in))), std::vector<std::string>{"10.88.0.6"});
  EXPECT_EQ(in, "");
  char c;
  EXPECT_TRUE(readable(fd.get(), 3000));
  EXPECT_EQ(::recv(fd.get(), &c, 1, 0), 0);  // closed once answered
}

TEST_F(NetworkDnsServer, TcpQueriesAreForwardedOverTcp) {
  Fd up = bound(SOCK_STREAM);
  std::string seen;
  std::thread upstream([&] {
    if (!readable(up.get(), 5000)) return;
    Fd conn(::accept(up.get(), nullptr, nullptr));
    auto q = read_framed(conn.get());
    if (!q) return;
    seen = *q;
    std::string answer = framed(FakeUpstream::canned(*q));
    ::send(conn.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
  });
  auto o = opts();
  o.upstream = {ip("127.0.0.1")};
  o.upstream_port = port_of(up.get());
  o.upstream_timeout_ms = 3000;
  Server s(o);
  std::string query = dns::make_query(0x5151, "example.org", dns::kTypeA);
  auto r = reply_of(tcp_exchange(s.port, query));
  upstream.join();
  EXPECT_EQ(seen, query);
  EXPECT_EQ(r.header.id, 0x5151);
  EXPECT_EQ(addresses_in(r), std::vector<std::string>{"192.0.2.1"});
}

TEST_F(NetworkDnsServer, StopsWhenKeepRunningSaysFalse) {
  DnsServerOptions o = opts();
  o.listen = {ip("127.0.0.1")};
  o.port = 0;
  std::atomic<bool> running{true};
  o.keep_running = [&] { return running.load(); };
  std::promise<Result<void>> result;
  std::thread t([&] { result.set_value(serve_dns(o)); });
  auto done = result.get_future();
  EXPECT_EQ(done.wait_for(std::chrono::milliseconds(1500)), std::future_status::timeout);
  running = false;
  ASSERT_EQ(done.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  EXPECT_TRUE(done.get().ok());
  t.join();
}

TEST_F(NetworkDnsServer, BindingErrorNamesTheAddress) {
  Fd taken = bound(SOCK_DGRAM);
  DnsServerOptions o = opts();
  o.listen = {ip("127.0.0.1")};
  o.port = port_of(taken.get());
  o.keep_running = [] { return false; };
  auto r = serve_dns(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "dns: binding 127.0.0.1:" + std::to_string(o.port) + ": Address already in use");
}

TEST_F(NetworkDnsServer, StopsOnSigterm) {
  DnsServerOptions o = opts();
  o.listen = {ip("127.0.0.1")};
  o.port = 0;
  std::promise<void> listening;
  o.on_listening = [&](uint16_t) { listening.set_value(); };
  std::promise<Result<void>> result;
  std::thread t([&] { result.set_value(serve_dns(o)); });
  listening.get_future().wait();
  // The signal, sent to the server's thread (blocked there), reaches its signalfd.
  ::pthread_kill(t.native_handle(), SIGTERM);
  auto done = result.get_future();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  EXPECT_TRUE(done.get().ok());
  t.join();
}

}  // namespace
}  // namespace guise::network
