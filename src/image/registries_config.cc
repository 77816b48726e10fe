#include "image/registries_config.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

namespace guise::image {

namespace {

struct IpAddr {
  int family = 0;
  unsigned char bytes[16] = {0};
};

std::optional<IpAddr> parse_ip(const std::string& text) {
  IpAddr a;
  if (::inet_pton(AF_INET, text.c_str(), a.bytes) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (::inet_pton(AF_INET6, text.c_str(), a.bytes) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

bool in_cidr(const IpAddr& ip, std::string_view cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) return false;
  auto net = parse_ip(std::string(cidr.substr(0, slash)));
  if (!net || net->family != ip.family) return false;
  int bits = std::atoi(std::string(cidr.substr(slash + 1)).c_str());
  int max = ip.family == AF_INET ? 32 : 128;
  if (bits < 0 || bits > max) return false;
  for (int i = 0; i < bits; ++i) {
    int mask = 0x80 >> (i % 8);
    if ((ip.bytes[i / 8] & mask) != (net->bytes[i / 8] & mask)) return false;
  }
  return true;
}

}  // namespace

std::string registries_config_path() {
  if (const char* p = std::getenv("GUISE_REGISTRIES_CONFIG"); p && *p) return p;
  return "/etc/guise/registries.json";
}

Result<RegistriesConfig> parse_registries_config(std::string_view text, const std::string& path) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return sys::user_error(path + ": not a JSON object");
  RegistriesConfig c;
  if (doc.contains("insecure-registries")) {
    const auto& list = doc["insecure-registries"];
    if (!list.is_array()) return sys::user_error(path + ": \"insecure-registries\" is not a list");
    for (const auto& v : list) {
      if (!v.is_string()) return sys::user_error(path + ": \"insecure-registries\" holds a non-string");
      c.insecure.push_back(v.get<std::string>());
    }
  }
  return c;
}

Result<RegistriesConfig> load_registries_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return RegistriesConfig{};
    return sys::sys_error("open", path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_registries_config(ss.str(), path);
}

std::string registry_host(std::string_view domain) {
  if (domain.starts_with("[")) {
    auto close = domain.find(']');
    return std::string(domain.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  // More than one colon: a bare IPv6 address.
  if (domain.find(':') != domain.rfind(':')) return std::string(domain);
  return std::string(domain.substr(0, domain.find(':')));
}

bool is_loopback_registry(std::string_view domain) {
  std::string host = registry_host(domain);
  if (host == "localhost" || host.ends_with(".localhost")) return true;
  auto ip = parse_ip(host);
  if (!ip) return false;
  if (ip->family == AF_INET) return ip->bytes[0] == 127;
  static const unsigned char kV6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(ip->bytes, kV6Loopback, 16) == 0;
}

bool registry_is_insecure(std::string_view domain, bool tls_verify, const RegistriesConfig& config) {
  if (!tls_verify || is_loopback_registry(domain)) return true;
  auto ip = parse_ip(registry_host(domain));
  for (const auto& entry : config.insecure) {
    if (entry == domain) return true;
    if (ip && in_cidr(*ip, entry)) return true;
  }
  return false;
}

}  // namespace guise::image
