// A container's networks, set up and torn down: the one place that combines the store's
// records (network_store), address choice (ipam), the kernel's links (netlink), the
// pinned namespace (netns), published ports (host_ports) and the nftables table (nft).
//
// Lifetimes: a network's bridge is made on first use and stays until `network rm`; a
// container's namespace, veths and published ports live from its start until it stops
// (teardown), and its address lease until it is removed (release), so that a restart
// keeps its address. Every step runs under the store's network lock; a failure undoes
// what the call made, and the nftables table is always rewritten whole from what the
// records say is active (sync), so a crash leaves nothing that the next call keeps.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "network/network_store.h"
#include "network/nft.h"
#include "sys/result.h"

namespace guise::network {

// One -p, as the engine resolved it: a host port range (0-0: one the kernel picks).
struct PortRequest {
  std::string protocol = "tcp";
  std::string host_ip;  // "" = every address
  uint16_t host_port_first = 0, host_port_last = 0;
  uint16_t container_port = 0;
};

struct EndpointRequest {
  std::string network = kDefaultNetwork;  // a name or id
  std::vector<std::string> aliases;
  std::optional<IpAddress> ip, ip6;
  std::string mac;  // "" = derived from the address
};

struct ContainerNetworkRequest {
  std::string container_id, container_name;
  std::vector<EndpointRequest> networks;  // the first gets eth0, the ports and the default route
  std::vector<PortRequest> ports;
};

struct Attached {
  NetworkRecord network;
  Endpoint endpoint;
};

enum class Liveness { kGone, kStopped, kRunning };

struct CreateNetworkOptions {
  std::string name;
  std::optional<Prefix> subnet;
  std::optional<IpAddress> gateway;
  bool internal = false;
  bool ipv6 = false;
  std::optional<Prefix> subnet6;
  std::vector<std::pair<std::string, std::string>> labels;
};

struct NetworkLayerConfig {
  std::string store_root;
  std::string bridge_prefix = "guise";  // bridges guise0, guise1, ...
  std::string table = "guise";          // table inet guise
  std::optional<Prefix> default_subnet; // nullopt: a free /16 from 10.88.0.0/13, else a /24
  // Whether a container still exists and runs; the engine answers (from its store).
  std::function<Liveness(const std::string& container_id)> liveness;
  // Starts the network's DNS responder unless one runs; null: no responder.
  std::function<Result<void>(const NetworkRecord&, const std::string& hosts_file)> start_dns;
};

class NetworkLayer {
 public:
  static Result<NetworkLayer> open(NetworkLayerConfig config);
  const NetworkStore& store() const { return store_; }
  const NetworkLayerConfig& config() const { return config_; }

  // The pinned network namespace of a container (what its spec names).
  std::string netns_path(const std::string& container_id) const;

  Result<NetworkRecord> create_network(const CreateNetworkOptions& o);
  // Refused while a container that exists has an endpoint on it.
  Result<void> remove_network(const std::string& name_or_id);
  // The default network, its record made on first use.
  Result<NetworkRecord> default_network();

  // Makes the container's namespace and wires it to each network, publishes its ports.
  Result<std::vector<Attached>> setup(const ContainerNetworkRequest& r);
  // The container stopped: namespace, veths and published ports gone; leases kept. With
  // `only_netns_inode`, only if its pinned namespace is still that one (not a newer run's).
  Result<void> teardown(const std::string& container_id, uint64_t only_netns_inode = 0);
  // The container is removed: teardown, and its leases released.
  Result<void> release(const std::string& container_id, uint64_t only_netns_inode = 0);
  // A running container joins (connect) or leaves (disconnect) one more network.
  Result<Attached> connect(const std::string& container_id, const std::string& container_name,
                           const EndpointRequest& r);
  Result<void> disconnect(const std::string& container_id, const std::string& network);

  // The container's endpoints, active or not.
  Result<std::vector<Attached>> endpoints_of(const std::string& container_id) const;
  // Leases of containers that are gone are dropped, those of stopped containers made
  // inactive; then the table and the hosts files are written from what is left.
  Result<void> sync();

 private:
  NetworkLayer(NetworkLayerConfig c, NetworkStore s) : config_(std::move(c)), store_(std::move(s)) {}
  // Whether the container had anything in any network.
  Result<bool> teardown_locked(const std::string& container_id, bool release);
  Result<void> undo(const std::string& container_id, bool release, uint64_t only_netns_inode);
  // Whether any container's network went.
  Result<bool> reclaim_locked(const std::string& except_id);
  // The table as the records say it should be.
  Result<Ruleset> ruleset_locked() const;
  // The networks' hosts files (for their DNS responders), and responders started.
  Result<void> names_locked();
  // Names, then the table: rewritten whole, or, given what it holds now (`before`),
  // extended by what is new (no removal: no wait for the kernel).
  Result<void> sync_locked(const std::optional<Ruleset>& before = std::nullopt);
  Result<void> ensure_bridge(const NetworkRecord& n);
  Result<NetworkRecord> default_network_locked();
  Result<std::vector<PublishedPort>> resolve_ports(const std::vector<PortRequest>& ports, const std::string& self_id);
  // One network's endpoint: lease, veth, addresses, routes. `leases` gets the network and
  // whether its lease is new, before anything that can fail.
  Result<Attached> wire(const std::string& container_id, const std::string& container_name, const EndpointRequest& r,
                        int index, bool default_route, std::vector<std::pair<NetworkRecord, bool>>* leases);
  NetworkLayerConfig config_;
  NetworkStore store_;
};

// The words of docker's `-p` conflicts and of the layer's errors, for one place to test.
std::string veth_name(const std::string& container_id, int index);

}  // namespace guise::network
