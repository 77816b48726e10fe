// Address allocation, pure: the caller holds the network store's lock and passes the
// addresses in use (the leases of the network's endpoints); these functions only choose.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "network/address.h"
#include "sys/result.h"

namespace guise::network {

// A free address in `subnet` for a container: never the subnet's own address, its
// broadcast (v4) or `gateway`, nor one in `taken`. `wanted` (--ip) must be in the subnet
// and free, else an error naming it. Otherwise the lowest free address after the gateway
// — what a user expects to read in `inspect` (10.88.0.2, .3, ...).
Result<IpAddress> allocate_address(const Prefix& subnet, const IpAddress& gateway, const std::set<IpAddress>& taken,
                                   const std::optional<IpAddress>& wanted, const std::string& network_name);

// The gateway docker picks for a subnet: its first host address.
IpAddress first_host(const Prefix& subnet);

// A subnet for a new network from `pool` (e.g. 10.89.0.0/16 cut into /24s) that overlaps
// none of `in_use` (other networks, the host's routes); an error when the pool is spent.
Result<Prefix> allocate_subnet(const Prefix& pool, int length, const std::vector<Prefix>& in_use);

// A locally administered MAC derived from a v4 address, as docker does: 02:42:a:b:c:d.
std::string mac_for(const IpAddress& ip);

// The v4 routes of the host's main table (/proc/net/route text), for allocate_subnet.
std::vector<Prefix> routes_of(const std::string& proc_net_route);

}  // namespace guise::network
