#include "network/address.h"

#include <arpa/inet.h>

#include <algorithm>

namespace guise::network {

bool IpAddress::v4() const { return family == AF_INET; }
bool IpAddress::v6() const { return family == AF_INET6; }

std::string IpAddress::str() const {
  if (empty()) return "";
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

IpAddress IpAddress::plus(uint64_t n) const {
  IpAddress r = *this;
  for (int i = static_cast<int>(size()) - 1; i >= 0 && n; --i) {
    uint64_t sum = r.bytes[i] + (n & 0xff);
    r.bytes[i] = static_cast<uint8_t>(sum);
    n = (n >> 8) + (sum >> 8);
  }
  return r;
}

std::string Prefix::str() const { return address.str() + "/" + std::to_string(length); }

Prefix Prefix::normalized() const {
  Prefix p = *this;
  for (size_t i = 0; i < p.address.size(); ++i) {
    int bits = std::clamp(length - static_cast<int>(i) * 8, 0, 8);
    p.address.bytes[i] &= static_cast<uint8_t>(0xff00 >> bits);
  }
  return p;
}

bool Prefix::contains(const IpAddress& a) const {
  if (a.family != address.family) return false;
  Prefix p{a, length};
  return p.normalized().address == normalized().address;
}

bool Prefix::overlaps(const Prefix& other) const {
  if (other.address.family != address.family) return false;
  const Prefix& wider = length <= other.length ? *this : other;
  const Prefix& narrower = length <= other.length ? other : *this;
  return wider.contains(narrower.address);
}

uint64_t Prefix::size() const {
  int host_bits = static_cast<int>(address.size()) * 8 - length;
  return host_bits >= 63 ? (uint64_t{1} << 63) : (uint64_t{1} << host_bits);
}

Result<IpAddress> parse_ip(const std::string& text, const std::string& what) {
  IpAddress a;
  if (::inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (::inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return sys::user_error(what + ": invalid IP address: " + text);
}

Result<Prefix> parse_prefix(const std::string& text, const std::string& what) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return sys::user_error(what + ": invalid CIDR address: " + text);
  Prefix p;
  auto a = parse_ip(text.substr(0, slash), what);
  if (!a) return sys::user_error(what + ": invalid CIDR address: " + text);
  p.address = *a;
  std::string len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), ::isdigit))
    return sys::user_error(what + ": invalid CIDR address: " + text);
  p.length = std::stoi(len);
  if (p.length > static_cast<int>(p.address.size()) * 8) return sys::user_error(what + ": invalid CIDR address: " + text);
  if (!(p.normalized() == p))
    return sys::user_error(what + ": invalid subnet " + text + ": it should be " + p.normalized().str());
  return p;
}

}  // namespace guise::network
