// IP addresses and prefixes, v4 and v6, as the network layer passes them around: parsed
// from and printed to the text docker uses ("10.88.0.5", "10.88.0.0/16", "fd00::1").
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "sys/result.h"

namespace guise::network {

struct IpAddress {
  int family = 0;                   // AF_INET or AF_INET6; 0 = unset
  std::array<uint8_t, 16> bytes{};  // v4 in the first 4

  bool v4() const;
  bool v6() const;
  bool empty() const { return family == 0; }
  size_t size() const { return v4() ? 4 : 16; }
  std::string str() const;
  // The address plus n, counted in the low bits (n may carry into higher bytes).
  IpAddress plus(uint64_t n) const;
  bool operator==(const IpAddress&) const = default;
  auto operator<=>(const IpAddress&) const = default;
};

struct Prefix {
  IpAddress address;  // the network's first address once normalized
  int length = 0;

  std::string str() const;  // "10.88.0.0/16"
  bool contains(const IpAddress& a) const;
  bool overlaps(const Prefix& other) const;
  // The number of addresses in it, saturated at 2^63.
  uint64_t size() const;
  // This prefix with the host bits cleared.
  Prefix normalized() const;
  bool operator==(const Prefix&) const = default;
};

// "10.88.0.5" or "fd00::5"; the error names `what` (a flag or field).
Result<IpAddress> parse_ip(const std::string& text, const std::string& what);
// "10.88.0.0/16"; host bits set are an error (docker's "invalid subnet ... : it should be ...").
Result<Prefix> parse_prefix(const std::string& text, const std::string& what);

}  // namespace guise::network
