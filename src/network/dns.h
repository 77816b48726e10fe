// A small DNS responder for one network, run on its gateway address (as aardvark-dns
// and docker's embedded server do): it answers A and AAAA queries for the names of the
// network's containers and their aliases, from a hosts file the network layer rewrites,
// and forwards every other query to the host's own nameservers (which may be on the
// host's loopback, e.g. 127.0.0.53, where a container could never reach them).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "network/address.h"
#include "sys/result.h"

namespace guise::network {

struct DnsServerOptions {
  std::vector<IpAddress> listen;      // the addresses to bind (UDP and TCP)
  uint16_t port = 53;                 // 0: one ephemeral port, the same for all (tests)
  // Lines "IP NAME [ALIAS...]" ('#' comments). Re-read when its mtime or size changes.
  std::string hosts_file;
  std::vector<IpAddress> upstream;    // nameservers for other names, tried in order
  uint16_t upstream_port = 53;
  uint32_t ttl = 600;                 // for answers from hosts_file (docker's TTL)
  int upstream_timeout_ms = 2000;
  // Called about once a second; the server returns Ok() once it says false.
  std::function<bool()> keep_running;
  // Called once every socket is bound, with the port they listen on.
  std::function<void(uint16_t port)> on_listening;
};

// Serves until keep_running() says false or SIGTERM/SIGINT arrives; an error when a
// listening socket cannot be bound (naming the address).
Result<void> serve_dns(const DnsServerOptions& o);

// The host's nameservers from resolv.conf text ("nameserver X" lines, in order).
std::vector<IpAddress> nameservers_of(const std::string& resolv_conf);

}  // namespace guise::network
