#include "network/nft_plan.h"

// glibc's headers before the kernel's: <linux/in.h> steps aside for <netinet/in.h>, not
// the other way round.
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
// clang-format off
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
// clang-format on

#include <algorithm>
#include <optional>
#include <utility>

namespace guise::network::nftplan {

namespace {

std::string bytes_of(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }
std::string u32_host(uint32_t v) { return bytes_of(&v, sizeof v); }
std::string u8(uint8_t v) { return bytes_of(&v, 1); }
std::string be16(uint16_t v) {
  uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  return bytes_of(b, 2);
}
std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// One rule as it is built: each match adds its words to the text and its expressions,
// in the order nft prints them back.
class Builder {
 public:
  explicit Builder(std::string chain) { rule_.chain = std::move(chain); }

  Builder& iifname(const std::string& name, bool eq = true) { return ifname(NFT_META_IIFNAME, "iifname", name, eq); }
  Builder& oifname(const std::string& name, bool eq = true) { return ifname(NFT_META_OIFNAME, "oifname", name, eq); }
  // `meta nfproto ipv4` on its own: nft hides it again when an ip/ip6 match follows.
  Builder& nfproto(int family) {
    nfproto_exprs(family);
    return word(family == AF_INET ? "meta nfproto ipv4" : "meta nfproto ipv6");
  }
  Builder& saddr(const Prefix& p) { return addr(p, /*source=*/true); }
  Builder& daddr(const IpAddress& a) { return addr(Prefix{a, static_cast<int>(a.size()) * 8}, /*source=*/false); }
  // `meta l4proto tcp th dport N`, which nft lists as `tcp dport N`.
  Builder& dport(const std::string& protocol, uint8_t ipproto, uint16_t port) {
    meta(NFT_META_L4PROTO);
    cmp(NFT_CMP_EQ, u8(ipproto));
    rule_.exprs.push_back({.kind = Expr::kPayload, .key = NFT_PAYLOAD_TRANSPORT_HEADER, .reg = NFT_REG_1, .offset = 2, .len = 2});
    cmp(NFT_CMP_EQ, be16(port));
    return word(protocol + " dport " + std::to_string(port));
  }
  Builder& ct_status_dnat() {
    rule_.exprs.push_back({.kind = Expr::kCt, .key = NFT_CT_STATUS, .reg = NFT_REG_1});
    rule_.exprs.push_back({.kind = Expr::kBitwise, .data = u32_host(IPS_DST_NAT)});
    cmp(NFT_CMP_NEQ, u32_host(0));
    return word("ct status dnat");
  }
  Builder& fib_daddr_local() {
    rule_.exprs.push_back({.kind = Expr::kFib, .reg = NFT_REG_1});
    cmp(NFT_CMP_EQ, u32_host(RTN_LOCAL));
    return word("fib daddr type local");
  }

  Rule jump(const std::string& chain) {
    rule_.exprs.push_back({.kind = Expr::kVerdict, .key = static_cast<uint32_t>(NFT_JUMP), .reg = NFT_REG_VERDICT, .chain = chain});
    return done("jump " + chain);
  }
  Rule drop() {
    rule_.exprs.push_back({.kind = Expr::kVerdict, .key = NF_DROP, .reg = NFT_REG_VERDICT});
    return done("drop");
  }
  Rule masquerade() {
    rule_.exprs.push_back({.kind = Expr::kMasq});
    return done("masquerade");
  }
  Rule dnat(const IpAddress& to, uint16_t port, std::string comment) {
    rule_.exprs.push_back({.kind = Expr::kImmediate, .reg = NFT_REG_1, .data = bytes_of(to.bytes.data(), to.size())});
    rule_.exprs.push_back({.kind = Expr::kImmediate, .reg = NFT_REG_2, .data = be16(port)});
    rule_.exprs.push_back({.kind = Expr::kNat, .key = NFT_NAT_DNAT, .reg = NFT_REG_1,
                           .family = to.v4() ? NFPROTO_IPV4 : NFPROTO_IPV6});
    rule_.comment = std::move(comment);
    return done(to.v4() ? "dnat ip to " + to.str() + ":" + std::to_string(port)
                        : "dnat ip6 to [" + to.str() + "]:" + std::to_string(port));
  }

 private:
  void nfproto_exprs(int family) {
    meta(NFT_META_NFPROTO);
    cmp(NFT_CMP_EQ, u8(family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6));
  }
  void meta(uint32_t key) { rule_.exprs.push_back({.kind = Expr::kMeta, .key = key, .reg = NFT_REG_1}); }
  void cmp(uint32_t op, std::string data) {
    rule_.exprs.push_back({.kind = Expr::kCmp, .key = op, .reg = NFT_REG_1, .data = std::move(data)});
  }
  Builder& word(const std::string& w) {
    if (!rule_.text.empty()) rule_.text += ' ';
    rule_.text += w;
    return *this;
  }
  Builder& ifname(uint32_t key, const char* what, const std::string& name, bool eq) {
    meta(key);
    std::string padded = name;
    padded.resize(IFNAMSIZ, '\0');  // the whole name, so "guise1" does not match "guise10"
    cmp(eq ? NFT_CMP_EQ : NFT_CMP_NEQ, padded);
    return word(std::string(what) + (eq ? " " : " != ") + quoted(name));
  }
  // The way nft matches a prefix: the whole bytes it covers, or the whole address
  // masked when it ends inside a byte.
  Builder& addr(const Prefix& given, bool source) {
    Prefix p = given.normalized();
    bool v4 = p.address.v4();
    nfproto_exprs(p.address.family);  // the dependency nft adds, and hides, for ip/ip6 in inet
    const uint32_t size = static_cast<uint32_t>(p.address.size());
    const uint32_t offset = v4 ? (source ? 12 : 16) : (source ? 8 : 24);
    const std::string name = std::string(v4 ? "ip" : "ip6") + (source ? " saddr " : " daddr ");
    if (p.length == 0) return word(v4 ? "meta nfproto ipv4" : "meta nfproto ipv6");  // every address
    const bool whole_bytes = p.length % 8 == 0;
    const uint32_t len = whole_bytes ? static_cast<uint32_t>(p.length) / 8 : size;
    rule_.exprs.push_back({.kind = Expr::kPayload, .key = NFT_PAYLOAD_NETWORK_HEADER, .reg = NFT_REG_1, .offset = offset, .len = len});
    if (!whole_bytes) {
      std::string mask(size, '\0');
      for (uint32_t i = 0; i < size; ++i) {
        int bits = std::min(8, std::max(0, p.length - static_cast<int>(i) * 8));
        mask[i] = static_cast<char>(0xff00 >> bits);
      }
      rule_.exprs.push_back({.kind = Expr::kBitwise, .data = mask});
    }
    cmp(NFT_CMP_EQ, bytes_of(p.address.bytes.data(), len));
    return word(name + (p.length == static_cast<int>(size) * 8 ? p.address.str() : p.str()));
  }
  Rule done(const std::string& verdict) {
    word(verdict);
    return std::move(rule_);
  }

  Rule rule_;
};

Result<uint8_t> ipproto_of(const std::string& protocol) {
  if (protocol == "tcp") return uint8_t{IPPROTO_TCP};
  if (protocol == "udp") return uint8_t{IPPROTO_UDP};
  if (protocol == "sctp") return uint8_t{IPPROTO_SCTP};
  return sys::user_error("nftables: unsupported protocol \"" + protocol + "\" for a published port");
}

bool all_zero(const IpAddress& a) {
  for (size_t i = 0; i < a.size(); ++i)
    if (a.bytes[i]) return false;
  return true;
}

// A port rule, or none when the host address is of the other family than the container's.
Result<std::optional<Rule>> port_rule(const PortRule& p) {
  uint8_t ipproto = GUISE_TRY(ipproto_of(p.protocol));
  if (p.host_port == 0 || p.container_port == 0)
    return sys::user_error("nftables: published port " + std::to_string(p.host_port) + " to " +
                           std::to_string(p.container_port) + ": a port cannot be 0");
  if (p.container_ip.empty()) return sys::user_error("nftables: published port " + std::to_string(p.host_port) + " has no container address");
  Builder b("published");
  if (p.host_ip && p.host_ip->family != p.container_ip.family) return std::optional<Rule>{};
  // 0.0.0.0 and :: are every address of their family, as docker reads them.
  if (p.host_ip && !all_zero(*p.host_ip))
    b.daddr(*p.host_ip);
  else
    b.nfproto(p.container_ip.family);
  b.dport(p.protocol, ipproto, p.host_port);
  return std::optional<Rule>{b.dnat(p.container_ip, p.container_port, p.container_id.substr(0, 12))};
}

Result<void> check_bridge(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ)
    return sys::user_error("nftables: bridge name \"" + name + "\" is not a valid interface name");
  return Ok();
}

}  // namespace

Result<Plan> plan(const Ruleset& r) {
  Plan out;
  if (r.networks.empty() && r.ports.empty()) return out;
  // Output has no symbolic "dstnat" in nft 1.0's eyes; it lists the number.
  out.chains = {
      {"prerouting", true, "nat", NF_INET_PRE_ROUTING, -100, "dstnat"},
      {"output", true, "nat", NF_INET_LOCAL_OUT, -100, "-100"},
      {"published", false, "", 0, 0, ""},
      {"postrouting", true, "nat", NF_INET_POST_ROUTING, 100, "srcnat"},
      {"forward", true, "filter", NF_INET_FORWARD, 0, "filter"},
  };
  out.rules.push_back(Builder("prerouting").fib_daddr_local().jump("published"));
  out.rules.push_back(Builder("output").fib_daddr_local().jump("published"));
  for (const auto& p : r.ports) {
    auto rule = GUISE_TRY(port_rule(p));
    if (rule) out.rules.push_back(std::move(*rule));
  }
  static const Prefix kLoopback4{{AF_INET, {127}}, 8};
  for (const auto& n : r.networks) {
    GUISE_TRY(check_bridge(n.bridge));
    if (!n.internal) {
      out.rules.push_back(Builder("postrouting").saddr(n.subnet4).oifname(n.bridge, false).masquerade());
      if (n.subnet6) out.rules.push_back(Builder("postrouting").saddr(*n.subnet6).oifname(n.bridge, false).masquerade());
    }
    out.rules.push_back(Builder("postrouting").oifname(n.bridge).saddr(kLoopback4).masquerade());
    out.rules.push_back(Builder("postrouting").oifname(n.bridge).ct_status_dnat().saddr(n.subnet4).masquerade());
    if (n.subnet6)
      out.rules.push_back(Builder("postrouting").oifname(n.bridge).ct_status_dnat().saddr(*n.subnet6).masquerade());
  }
  // Isolation: nothing is forwarded from one network's bridge to another's.
  for (const auto& n : r.networks) {
    for (const auto& m : r.networks)
      if (m.bridge != n.bridge) out.rules.push_back(Builder("forward").iifname(n.bridge).oifname(m.bridge).drop());
    if (n.internal) {
      out.rules.push_back(Builder("forward").iifname(n.bridge).oifname(n.bridge, false).drop());
      out.rules.push_back(Builder("forward").oifname(n.bridge).iifname(n.bridge, false).drop());
    }
  }
  return out;
}

}  // namespace guise::network::nftplan
