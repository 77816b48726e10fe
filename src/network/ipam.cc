#include "network/ipam.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <sstream>

namespace guise::network {

IpAddress first_host(const Prefix& subnet) { return subnet.normalized().address.plus(1); }

Result<IpAddress> allocate_address(const Prefix& subnet, const IpAddress& gateway, const std::set<IpAddress>& taken,
                                   const std::optional<IpAddress>& wanted, const std::string& network_name) {
  Prefix net = subnet.normalized();
  uint64_t size = net.size();
  IpAddress broadcast = net.address.plus(size - 1);
  auto usable = [&](const IpAddress& a) {
    if (a == net.address || a == gateway || taken.count(a)) return false;
    return !(a.v4() && a == broadcast);
  };
  if (wanted) {
    if (!net.contains(*wanted))
      return sys::user_error("--ip " + wanted->str() + ": not in the subnet " + net.str() + " of network " + network_name);
    if (*wanted == gateway || *wanted == net.address || (wanted->v4() && *wanted == broadcast))
      return sys::user_error("--ip " + wanted->str() + ": reserved in network " + network_name);
    if (taken.count(*wanted))
      return sys::already_exists("--ip " + wanted->str() + ": address already in use in network " + network_name);
    return *wanted;
  }
  // Scan at most 2^20 candidates: a v6 /64 is never exhausted by a scan.
  uint64_t limit = size < (uint64_t{1} << 20) ? size : (uint64_t{1} << 20);
  for (uint64_t i = 1; i < limit; ++i) {
    IpAddress a = net.address.plus(i);
    if (usable(a)) return a;
  }
  return sys::user_error("network " + network_name + ": no free address left in " + net.str());
}

Result<Prefix> allocate_subnet(const Prefix& pool, int length, const std::vector<Prefix>& in_use) {
  Prefix p = pool.normalized();
  if (length < p.length) return sys::user_error("subnet pool " + p.str() + " is smaller than a /" + std::to_string(length));
  uint64_t count = uint64_t{1} << std::min(length - p.length, 20);
  uint64_t step = Prefix{p.address, length}.size();
  for (uint64_t i = 0; i < count; ++i) {
    Prefix candidate{p.address.plus(i * step), length};
    bool clash = false;
    for (const auto& u : in_use) clash = clash || candidate.overlaps(u);
    if (!clash) return candidate;
  }
  return sys::user_error("no free subnet left in the pool " + p.str() + "; give one with --subnet");
}

std::string mac_for(const IpAddress& ip) {
  char buf[32];
  if (ip.v4())
    std::snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]);
  else
    std::snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", ip.bytes[12], ip.bytes[13], ip.bytes[14], ip.bytes[15]);
  return buf;
}

std::vector<Prefix> routes_of(const std::string& proc_net_route) {
  std::vector<Prefix> out;
  std::istringstream in(proc_net_route);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    char iface[64];
    unsigned dest = 0, gw = 0, flags = 0, refcnt = 0, use = 0, metric = 0, mask = 0;
    if (std::sscanf(line.c_str(), "%63s %x %x %x %u %u %u %x", iface, &dest, &gw, &flags, &refcnt, &use, &metric, &mask) != 8)
      continue;
    if (mask == 0) continue;  // the default route overlaps everything and says nothing
    IpAddress a;
    a.family = AF_INET;
    std::memcpy(a.bytes.data(), &dest, 4);  // already in network order
    int len = __builtin_popcount(mask);
    out.push_back(Prefix{a, len}.normalized());
  }
  return out;
}

}  // namespace guise::network
