// The networks of one store, on disk, and the endpoints (leases) of containers in them:
//   STORE/networks/lock              flock held by every change below (one writer at a time)
//   STORE/networks/ID/network.json   the network: name, bridge, subnets, gateway, internal
//   STORE/networks/ID/endpoints/CID.json  a container's lease: address, MAC, aliases, ports
//   STORE/networks/ID/hosts          names for the network's DNS responder (IP NAME ALIAS...)
// A lease lives from the container's first start until `rm`, so a restart keeps its
// address; `active` says whether the container's network is set up now (ports published).
// Each file is replaced whole by rename, so readers take no lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "network/address.h"
#include "sys/file_lock.h"
#include "sys/result.h"

namespace guise::network {

inline constexpr const char* kDefaultNetwork = "bridge";

struct NetworkRecord {
  std::string id;       // 64 hex
  std::string name;     // "bridge" for the default network
  std::string created;  // RFC 3339
  std::string bridge;   // the Linux bridge: guise0, guise1, ...
  Prefix subnet;
  IpAddress gateway;
  std::optional<Prefix> subnet6;
  IpAddress gateway6;
  bool internal = false;
  bool dns = true;  // user networks: names resolve through the network's responder
  std::vector<std::pair<std::string, std::string>> labels;
};

struct PublishedPort {
  std::string protocol = "tcp";
  std::string host_ip;  // "" = every address
  uint16_t host_port = 0;
  uint16_t container_port = 0;
};

struct Endpoint {
  std::string container_id, container_name;
  std::vector<std::string> aliases;
  IpAddress ip, ip6;
  std::string mac;        // "02:42:0a:58:00:02"
  std::string interface;  // in the container: eth0, eth1, ...
  std::string veth;       // on the host
  std::vector<PublishedPort> ports;
  bool active = false;
};

class NetworkStore {
 public:
  static Result<NetworkStore> open(const std::string& store_root);
  const std::string& dir() const { return dir_; }

  // Held across every read-modify-write of networks and endpoints. Taking it removes the
  // temp files of writers killed before their rename.
  Result<sys::FileLock> lock() const;

  Result<std::vector<NetworkRecord>> list() const;
  // By name, full id, or a unique id prefix; kNotFound: "network NAME not found".
  Result<NetworkRecord> find(const std::string& name_or_id) const;
  Result<void> write(const NetworkRecord& n) const;
  // Removes the network's directory (its endpoints with it).
  Result<void> remove(const NetworkRecord& n) const;

  Result<std::vector<Endpoint>> endpoints(const NetworkRecord& n) const;
  Result<std::optional<Endpoint>> endpoint(const NetworkRecord& n, const std::string& container_id) const;
  Result<void> write_endpoint(const NetworkRecord& n, const Endpoint& e) const;
  Result<void> remove_endpoint(const NetworkRecord& n, const std::string& container_id) const;

  std::string network_dir(const NetworkRecord& n) const { return dir_ + "/" + n.id; }
  std::string hosts_file(const NetworkRecord& n) const { return network_dir(n) + "/hosts"; }
  // The hosts file replaced whole (the responder re-reads it when it changes).
  Result<void> write_hosts(const NetworkRecord& n, const std::string& text) const;

 private:
  explicit NetworkStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;  // STORE/networks
};

std::string network_to_json(const NetworkRecord& n);
Result<NetworkRecord> network_from_json(const std::string& text, const std::string& origin);
std::string endpoint_to_json(const Endpoint& e);
Result<Endpoint> endpoint_from_json(const std::string& text, const std::string& origin);

}  // namespace guise::network
