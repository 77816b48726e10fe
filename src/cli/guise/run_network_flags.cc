// The networking flags of run/create, with docker's words for what it refuses.
#include <arpa/inet.h>

#include <cctype>

#include "cli/guise/run_flag_values.h"

namespace guise::cli {

namespace {

bool is_ip(const std::string& text, int family) {
  unsigned char buf[16];
  return ::inet_pton(family, text.c_str(), buf) == 1;
}

bool is_any_ip(const std::string& text) { return is_ip(text, AF_INET) || is_ip(text, AF_INET6); }

bool is_mac(const std::string& m) {
  if (m.size() != 17) return false;
  for (size_t i = 0; i < m.size(); ++i)
    if (i % 3 == 2 ? m[i] != ':' : !std::isxdigit(static_cast<unsigned char>(m[i]))) return false;
  return true;
}

bool user_network(const std::string& mode) {
  return mode != "bridge" && mode != "host" && mode != "none" && mode != "pasta" && mode != "slirp4netns" &&
         mode.rfind("container:", 0) != 0;
}

}  // namespace

Result<void> apply_network_flags(const RunFlags& f, engine::RunRequest& r) {
  engine::HostConfig& h = r.host;
  const std::string& mode = h.network_mode;
  for (const auto& d : f.dns)
    if (!is_any_ip(d)) return invalid_argument(d, "--dns", d + " is not an ip address");
  h.dns = f.dns;
  h.dns_search = f.dns_search;
  h.dns_options = f.dns_option;
  for (const auto& a : f.add_host) {
    // NAME:IP (docker also takes NAME=IP); the IP may be v6, so split at the first separator.
    size_t sep = a.find_first_of(":=");
    if (sep == std::string::npos || sep == 0 || sep + 1 == a.size())
      return invalid_argument(a, "--add-host", "bad format for add-host: \"" + a + "\"");
    std::string ip = a.substr(sep + 1);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (ip != "host-gateway" && !is_any_ip(ip))
      return invalid_argument(a, "--add-host", "invalid IP address in add-host: \"" + ip + "\"");
    h.extra_hosts.push_back(a.substr(0, sep) + ":" + ip);
  }
  if (!f.mac_address.empty()) {
    if (!is_mac(f.mac_address)) return invalid_argument(f.mac_address, "--mac-address", f.mac_address + " is not a valid mac address");
    r.config.mac_address = f.mac_address;
  }
  if (!f.ip.empty() && !is_ip(f.ip, AF_INET))
    return invalid_argument(f.ip, "--ip", "invalid string being converted to IP address: " + f.ip);
  if (!f.ip6.empty() && !is_ip(f.ip6, AF_INET6))
    return invalid_argument(f.ip6, "--ip6", "invalid string being converted to IP address: " + f.ip6);
  if ((!f.ip.empty() || !f.ip6.empty()) && !user_network(mode))
    return sys::user_error("--ip: user specified IP address is supported on user defined networks only");
  if (!f.network_alias.empty() && !user_network(mode))
    return sys::user_error("--network-alias: network-scoped alias is supported only for containers in user defined networks");
  r.endpoint.ipv4_address = f.ip;
  r.endpoint.ipv6_address = f.ip6;
  r.endpoint.aliases = f.network_alias;
  h.publish_all_ports = f.publish_all;
  bool publishes = !h.port_bindings.empty() || f.publish_all;
  if (publishes && (mode == "none" || mode.rfind("container:", 0) == 0))
    return sys::user_error("-p, --publish: conflicting options: port publishing and the container type network mode");
  if (mode == "host") h.port_bindings.clear();  // docker: "Published ports are discarded when using host network mode"
  if (mode.rfind("container:", 0) == 0 && (!f.dns.empty() || !f.add_host.empty() || !f.mac_address.empty()))
    return sys::user_error("--network " + mode + ": conflicting options: dns, add-host and mac-address and the network mode");
  return Ok();
}

}  // namespace guise::cli
