// Route netlink through libmnl: the links, addresses and routes a container's network
// is made of. No `ip` process; each call is one request and its ACK, and an error names
// the link and the operation ("creating veth gv1a2b3c4d5e6: File exists").
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "network/address.h"
#include "sys/result.h"

struct mnl_socket;

namespace guise::network {

using MacAddress = std::array<uint8_t, 6>;

// A NETLINK_ROUTE socket bound in the network namespace it was opened in: every request
// on it acts there, whatever namespace the calling thread is in later.
class Netlink {
 public:
  ~Netlink();
  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;

  // In the calling thread's network namespace.
  static Result<Netlink> open();
  // In the namespace `netns_fd` refers to (setns there, open, setns back).
  static Result<Netlink> open_in(int netns_fd);

  // The link's index; an error of kind kNotFound when there is none by that name.
  Result<int> link_index(const std::string& name);
  bool link_exists(const std::string& name);

  // A bridge; false when a link by that name exists already (left as it is).
  Result<bool> create_bridge(const std::string& name, int mtu);
  // A veth pair: `host_name` here, its peer `peer_name` made directly in the namespace
  // `peer_netns_fd` (never visible here), both with `mtu`.
  Result<void> create_veth(const std::string& host_name, const std::string& peer_name, int peer_netns_fd, int mtu);
  // Enslaves `link` to `bridge`.
  Result<void> set_master(const std::string& link, const std::string& bridge);
  Result<void> set_up(const std::string& link);
  Result<void> set_mac(const std::string& link, const MacAddress& mac);
  Result<MacAddress> mac_of(const std::string& link);
  // The bridge port's hairpin mode (IFLA_BRPORT_MODE).
  Result<void> set_hairpin(const std::string& port, bool on);
  // An address on a link; one that is there already is not an error.
  Result<void> add_address(const std::string& link, const IpAddress& address, int prefix_length);
  // The default route of the address's family through `gateway`.
  Result<void> add_default_route(const IpAddress& gateway);
  // Removes a link (and, for a veth, its peer); one that is absent is not an error.
  Result<void> delete_link(const std::string& name);

 private:
  explicit Netlink(mnl_socket* s);
  Result<void> request(void* nlh, const std::string& what);
  mnl_socket* sock_ = nullptr;
  uint32_t seq_ = 0;
  uint32_t portid_ = 0;
};

}  // namespace guise::network
