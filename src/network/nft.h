// nftables through libnftnl: the one table guise owns, `inet guise`, written as a whole
// from the desired state in one atomic batch (the table and chains made if missing, every
// chain flushed and refilled), so a change never shows a half-made ruleset and a crash
// leaves at most stale rules that the next write replaces. Tables of other tools (docker's
// iptables-nft chains, a host firewall) are never touched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "network/address.h"
#include "sys/result.h"

namespace guise::network {

// A network's bridge and what leaves it.
struct NetworkRules {
  std::string bridge;             // "guise0"
  Prefix subnet4;                 // 10.88.0.0/16
  std::optional<Prefix> subnet6;  // with --ipv6
  bool internal = false;          // no route out: nothing forwarded between it and other links
};

// One published port: traffic to the host's HOST_IP:HOST_PORT goes to the container.
struct PortRule {
  std::string protocol = "tcp";   // "tcp" or "udp"
  std::optional<IpAddress> host_ip;  // nullopt: every address of the host
  uint16_t host_port = 0;
  IpAddress container_ip;
  uint16_t container_port = 0;
  std::string container_id;       // kept in the rule's comment, for people reading `nft list`
};

struct Ruleset {
  std::string table = "guise";  // inet TABLE: one per store, so two stores never clobber each other
  std::vector<NetworkRules> networks;
  std::vector<PortRule> ports;
};

// The table, in `nft list table inet guise`'s own syntax: for the docs and for tests to
// compare with what the kernel holds.
std::string ruleset_text(const Ruleset& r);

// Replaces table inet guise with `r`, atomically. With no networks and no ports, the
// table is removed instead.
Result<void> apply_ruleset(const Ruleset& r);
// What `after` has beyond `before` (which the table is taken to hold, as the last apply
// left it), appended: rules added only, so the kernel does not wait for an RCU grace
// period as it does for every removal (10 to 30 ms here). When `after` drops anything of
// `before`, or the table is not there, the table is rewritten whole (apply_ruleset).
Result<void> extend_ruleset(const Ruleset& before, const Ruleset& after);

// Removes table inet TABLE; absent is not an error.
Result<void> remove_ruleset(const std::string& table = "guise");

}  // namespace guise::network
