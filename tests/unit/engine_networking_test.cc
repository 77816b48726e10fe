// The engine's side of networking, pure: a record's network request, /etc/hosts and
// /etc/resolv.conf.
#include <gtest/gtest.h>

#include "engine/networking.h"

namespace guise::engine {
namespace {

network::Attached attached(const char* network_name, bool dns, const char* ip, const char* gateway) {
  network::Attached a;
  a.network.name = network_name;
  a.network.dns = dns;
  a.network.subnet = network::parse_prefix("10.200.0.0/24", "t").value();
  a.network.gateway = network::parse_ip(gateway, "t").value();
  a.endpoint.ip = network::parse_ip(ip, "t").value();
  return a;
}

TEST(EngineNetworking, HostsHaveTheContainersAddressAndAddHosts) {
  std::string h = hosts_text("box", {attached("back", true, "10.200.0.7", "10.200.0.1")},
                             {"db.example:10.9.8.7", "gw:host-gateway"});
  EXPECT_NE(h.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(h.find("10.9.8.7\tdb.example\n"), std::string::npos);
  EXPECT_NE(h.find("10.200.0.1\tgw\n"), std::string::npos);
  EXPECT_NE(h.find("10.200.0.7\tbox\n"), std::string::npos);
  EXPECT_EQ(h.find("127.0.1.1"), std::string::npos);
  // Without a network (none, host): the hostname on 127.0.1.1, as docker writes it.
  EXPECT_NE(hosts_text("box", {}, {}).find("127.0.1.1\tbox\n"), std::string::npos);
}

TEST(EngineNetworking, ResolvConfKeepsTheHostsNameserversOnTheDefaultBridge) {
  std::string host = "search corp.example\nnameserver 10.255.255.53\noptions ndots:2\n";
  auto bridge = attached("bridge", false, "10.88.0.2", "10.88.0.1");
  EXPECT_EQ(resolv_conf_text(host, {bridge}, {}, {}, {}),
            "search corp.example\nnameserver 10.255.255.53\noptions ndots:2\n");
}

TEST(EngineNetworking, ALoopbackNameserverIsReplacedByTheNetworksResponder) {
  std::string host = "nameserver 127.0.0.53\noptions edns0\n";
  auto bridge = attached("bridge", false, "10.88.0.2", "10.88.0.1");
  EXPECT_EQ(resolv_conf_text(host, {bridge}, {}, {}, {}), "nameserver 10.88.0.1\noptions edns0\n");
  EXPECT_TRUE(needs_dns_responder(bridge.network, host));
  EXPECT_FALSE(needs_dns_responder(bridge.network, "nameserver 10.1.1.1\n"));
}

TEST(EngineNetworking, UserNetworksAskTheirResponderAndFlagsWin) {
  std::string host = "nameserver 10.255.255.53\n";
  auto user = attached("back", true, "10.200.0.7", "10.200.0.1");
  EXPECT_EQ(resolv_conf_text(host, {user}, {}, {}, {}), "nameserver 10.200.0.1\n");
  EXPECT_EQ(resolv_conf_text(host, {user}, {"10.0.0.53"}, {"a.example"}, {"ndots:1"}),
            "search a.example\nnameserver 10.0.0.53\noptions ndots:1\n");
}

TEST(EngineNetworking, TheRequestOfARecord) {
  ContainerRecord rec;
  rec.id = std::string(64, 'c');
  rec.name = "web";
  rec.host_config = {{"NetworkMode", "back"},
                     {"PortBindings",
                      {{"80/tcp", {{{"HostIp", ""}, {"HostPort", "8080"}}}},
                       {"53/udp", {{{"HostIp", "127.0.0.1"}, {"HostPort", "5300-5310"}}}}}},
                     {"PublishAllPorts", true}};
  rec.config = {{"ExposedPorts", {{"80/tcp", nlohmann::json::object()}, {"9000/tcp", nlohmann::json::object()}}},
                {"MacAddress", "02:11:22:33:44:55"}};
  rec.endpoint = {{"Aliases", {"www"}}, {"IPAMConfig", {{"IPv4Address", "10.200.0.9"}, {"IPv6Address", ""}}}};
  auto r = network_request(rec);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->networks.size(), 1u);
  EXPECT_EQ(r->networks[0].network, "back");
  EXPECT_EQ(r->networks[0].aliases, std::vector<std::string>{"www"});
  EXPECT_EQ(r->networks[0].ip->str(), "10.200.0.9");
  EXPECT_EQ(r->networks[0].mac, "02:11:22:33:44:55");
  ASSERT_EQ(r->ports.size(), 3u);  // 53/udp, 80/tcp, and 9000/tcp from -P
  EXPECT_EQ(r->ports[0].protocol, "udp");
  EXPECT_EQ(r->ports[0].host_ip, "127.0.0.1");
  EXPECT_EQ(r->ports[0].host_port_first, 5300);
  EXPECT_EQ(r->ports[0].host_port_last, 5310);
  EXPECT_EQ(r->ports[1].host_port_first, 8080);
  EXPECT_EQ(r->ports[2].container_port, 9000);
  EXPECT_EQ(r->ports[2].host_port_first, 0);  // the kernel picks

  // none, host and another container's: no namespace of the network layer (the runtime
  // makes none's itself, loopback up), so no setup at start and no cleanup at exit.
  EXPECT_FALSE(uses_network_layer("none"));
  EXPECT_FALSE(uses_network_layer("host"));
  EXPECT_FALSE(uses_network_layer("container:web"));
  EXPECT_TRUE(uses_network_layer("bridge"));
  EXPECT_TRUE(uses_network_layer("mynet"));
  rec.host_config = {{"NetworkMode", "bridge"}, {"PortBindings", {{"80/sctp", {{{"HostPort", "1"}}}}}}};
  auto sctp = network_request(rec);
  ASSERT_FALSE(sctp.ok());
  EXPECT_EQ(sctp.error().message(), "-p 80/sctp: only tcp and udp ports can be published");
}

}  // namespace
}  // namespace guise::engine
