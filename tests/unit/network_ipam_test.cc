// Address and subnet choice (ipam.h), addresses and prefixes (address.h), and the records
// of networks and leases read back as written (network_store.h).
#include <gtest/gtest.h>

#include "network/address.h"
#include "network/ipam.h"
#include "network/network_store.h"

namespace guise::network {
namespace {

IpAddress ip(const char* s) { return parse_ip(s, "test").value(); }
Prefix net(const char* s) { return parse_prefix(s, "test").value(); }

TEST(NetworkAddress, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(ip("10.88.0.5").str(), "10.88.0.5");
  EXPECT_EQ(ip("fd00::5").str(), "fd00::5");
  EXPECT_EQ(ip("10.88.0.255").plus(1).str(), "10.88.1.0");
  auto bad = parse_ip("10.88.0", "--ip");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "--ip: invalid IP address: 10.88.0");
}

TEST(NetworkAddress, PrefixesSayWhatTheyHold) {
  Prefix p = net("10.88.0.0/16");
  EXPECT_TRUE(p.contains(ip("10.88.200.1")));
  EXPECT_FALSE(p.contains(ip("10.89.0.1")));
  EXPECT_FALSE(p.contains(ip("fd00::1")));
  EXPECT_TRUE(p.overlaps(net("10.88.4.0/24")));
  EXPECT_TRUE(net("10.88.4.0/24").overlaps(p));
  EXPECT_FALSE(p.overlaps(net("10.89.0.0/16")));
  EXPECT_EQ(p.size(), 65536u);
  auto host_bits = parse_prefix("10.124.1.1/24", "--subnet");
  ASSERT_FALSE(host_bits.ok());
  EXPECT_EQ(host_bits.error().message(), "--subnet: invalid subnet 10.124.1.1/24: it should be 10.124.1.0/24");
  EXPECT_FALSE(parse_prefix("10.0.0.0/33", "--subnet").ok());
  EXPECT_FALSE(parse_prefix("10.0.0.0", "--subnet").ok());
}

TEST(NetworkIpam, TheLowestFreeAddressAfterTheGateway) {
  Prefix p = net("10.88.0.0/29");  // .0 network, .1 gateway, .7 broadcast
  IpAddress gw = first_host(p);
  EXPECT_EQ(gw.str(), "10.88.0.1");
  std::set<IpAddress> taken;
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) {
    auto a = allocate_address(p, gw, taken, std::nullopt, "n");
    ASSERT_TRUE(a.ok()) << a.error().message();
    got.push_back(a->str());
    taken.insert(*a);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"10.88.0.2", "10.88.0.3", "10.88.0.4", "10.88.0.5", "10.88.0.6"}));
  auto full = allocate_address(p, gw, taken, std::nullopt, "n");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().message(), "network n: no free address left in 10.88.0.0/29");
  // A released lease is the next one given.
  taken.erase(ip("10.88.0.4"));
  EXPECT_EQ(allocate_address(p, gw, taken, std::nullopt, "n")->str(), "10.88.0.4");
}

TEST(NetworkIpam, AWantedAddressMustBeInTheSubnetAndFree) {
  Prefix p = net("10.123.45.0/24");
  IpAddress gw = first_host(p);
  std::set<IpAddress> taken{ip("10.123.45.9")};
  EXPECT_EQ(allocate_address(p, gw, taken, ip("10.123.45.77"), "fixed")->str(), "10.123.45.77");
  auto outside = allocate_address(p, gw, taken, ip("10.9.9.9"), "fixed");
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().message(), "--ip 10.9.9.9: not in the subnet 10.123.45.0/24 of network fixed");
  auto used = allocate_address(p, gw, taken, ip("10.123.45.9"), "fixed");
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.error().message(), "--ip 10.123.45.9: address already in use in network fixed");
  EXPECT_FALSE(allocate_address(p, gw, taken, gw, "fixed").ok());
  EXPECT_FALSE(allocate_address(p, gw, taken, ip("10.123.45.255"), "fixed").ok());
}

TEST(NetworkIpam, SubnetsStepAroundThoseInUse) {
  Prefix pool = net("10.88.0.0/13");
  EXPECT_EQ(allocate_subnet(pool, 16, {})->str(), "10.88.0.0/16");
  EXPECT_EQ(allocate_subnet(pool, 16, {net("10.88.0.0/16"), net("10.89.3.0/24")})->str(), "10.90.0.0/16");
  std::vector<Prefix> all;
  for (int i = 0; i < 8; ++i) all.push_back(Prefix{ip("10.88.0.0").plus(uint64_t(i) << 16), 16});
  EXPECT_FALSE(allocate_subnet(pool, 16, all).ok());
  EXPECT_EQ(allocate_subnet(net("10.96.0.0/11"), 24, {net("10.96.0.0/24")})->str(), "10.96.1.0/24");
}

TEST(NetworkIpam, MacFromTheAddressAndRoutesFromProc) {
  EXPECT_EQ(mac_for(ip("10.88.0.2")), "02:42:0a:58:00:02");
  std::string route =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
      "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
      "podman0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
  auto routes = routes_of(route);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].str(), "192.168.0.0/24");
  EXPECT_EQ(routes[1].str(), "10.88.0.0/16");
}

TEST(NetworkStore, RecordsAndLeasesReadBackAsWritten) {
  NetworkRecord n;
  n.id = std::string(64, 'a');
  n.name = "back";
  n.bridge = "guise1";
  n.subnet = net("10.200.0.0/24");
  n.gateway = ip("10.200.0.1");
  n.subnet6 = net("fd12:3456:789a::/64");
  n.gateway6 = ip("fd12:3456:789a::1");
  n.internal = true;
  n.labels = {{"team", "x"}};
  auto back = network_from_json(network_to_json(n), "network.json");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->name, "back");
  EXPECT_EQ(back->subnet.str(), "10.200.0.0/24");
  EXPECT_EQ(back->subnet6->str(), "fd12:3456:789a::/64");
  EXPECT_TRUE(back->internal);
  EXPECT_EQ(back->labels, n.labels);

  Endpoint e;
  e.container_id = std::string(64, 'b');
  e.container_name = "db";
  e.aliases = {"store"};
  e.ip = ip("10.200.0.2");
  e.mac = "02:42:0a:c8:00:02";
  e.ports = {{"udp", "127.0.0.1", 5353, 53}};
  e.active = true;
  auto eb = endpoint_from_json(endpoint_to_json(e), "lease");
  ASSERT_TRUE(eb.ok()) << eb.error().message();
  EXPECT_EQ(eb->ip.str(), "10.200.0.2");
  EXPECT_TRUE(eb->ip6.empty());
  ASSERT_EQ(eb->ports.size(), 1u);
  EXPECT_EQ(eb->ports[0].host_port, 5353);
  EXPECT_EQ(eb->ports[0].protocol, "udp");
  EXPECT_EQ(eb->aliases, e.aliases);
  auto broken = network_from_json("{\"id\": 1}", "networks/x/network.json");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message().find("networks/x/network.json"), std::string::npos);
}

}  // namespace
}  // namespace guise::network
