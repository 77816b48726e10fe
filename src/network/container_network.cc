#include "network/container_network.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "network/host_ports.h"
#include "network/ipam.h"
#include "network/netlink.h"
#include "network/netns.h"
#include "network/nft.h"
#include "sys/fault.h"
#include "sys/clock.h"
#include "sys/syscalls.h"
#include "sys/text.h"

namespace guise::network {

namespace {

constexpr int kMtu = 1500;
const char* const kDefaultPool = "10.88.0.0/13";  // the default network: a /16 from here
const char* const kUserPool = "10.96.0.0/11";     // user networks (and the default when 10.88/13 is full): a /24 each

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<void> write_sysctl(const std::string& key, const std::string& value) {
  std::string path = "/proc/sys/" + key;
  std::replace(path.begin() + 10, path.end(), '.', '/');
  auto now = sys::read_file(path);
  if (now && trimmed(*now) == value) return Ok();
  return sys::write_file(path, value, O_WRONLY | O_TRUNC);
}

Result<MacAddress> parse_mac(const std::string& text) {
  MacAddress m{};
  unsigned b[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6 || text.size() != 17)
    return sys::user_error("--mac-address " + text + ": invalid MAC address");
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(b[i]);
  return m;
}

bool same_host_ip(const std::string& a, const std::string& b) { return a.empty() || b.empty() || a == b; }

std::vector<Prefix> host_routes() {
  auto text = sys::read_file("/proc/net/route");
  return text ? routes_of(*text) : std::vector<Prefix>{};
}

}  // namespace

std::string veth_name(const std::string& container_id, int index) {
  return "gv" + container_id.substr(0, 10) + std::to_string(index);
}

Result<NetworkLayer> NetworkLayer::open(NetworkLayerConfig config) {
  NetworkStore s = GUISE_TRY(NetworkStore::open(config.store_root));
  return NetworkLayer(std::move(config), std::move(s));
}

std::string NetworkLayer::netns_path(const std::string& container_id) const {
  return config_.store_root + "/netns/" + container_id;
}

// ---- networks ---------------------------------------------------------------------------

namespace {

std::string next_bridge(const std::vector<NetworkRecord>& all, const std::string& prefix) {
  std::set<std::string> used;
  for (const auto& n : all) used.insert(n.bridge);
  for (int i = 0;; ++i)
    if (!used.count(prefix + std::to_string(i))) return prefix + std::to_string(i);
}

std::vector<Prefix> subnets_in_use(const std::vector<NetworkRecord>& all) {
  std::vector<Prefix> out = host_routes();
  for (const auto& n : all) out.push_back(n.subnet);
  return out;
}

bool valid_network_name(const std::string& n) {
  if (n.empty() || !std::isalnum(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; });
}

}  // namespace

Result<NetworkRecord> NetworkLayer::default_network_locked() {
  auto all = GUISE_TRY(store_.list());
  for (const auto& n : all)
    if (n.name == kDefaultNetwork) return n;
  NetworkRecord n;
  n.id = sys::random_hex(32);
  n.name = kDefaultNetwork;
  n.created = sys::now_rfc3339();
  n.bridge = config_.bridge_prefix + "0";
  if (config_.default_subnet) {
    n.subnet = *config_.default_subnet;
  } else {
    auto wide = allocate_subnet(GUISE_TRY(parse_prefix(kDefaultPool, "pool")), 16, subnets_in_use(all));
    n.subnet = wide ? *wide
                    : GUISE_TRY(allocate_subnet(GUISE_TRY(parse_prefix(kUserPool, "pool")), 24, subnets_in_use(all)),
                                "choosing the default network's subnet");
  }
  n.gateway = first_host(n.subnet);
  n.dns = false;  // docker's default bridge: no names, only forwarding
  Ruleset before = GUISE_TRY(ruleset_locked());
  GUISE_TRY(store_.write(n));
  GUISE_TRY(sync_locked(before));  // the table always holds every network of the records
  return n;
}

Result<NetworkRecord> NetworkLayer::default_network() {
  auto lock = GUISE_TRY(store_.lock());
  return default_network_locked();
}

Result<NetworkRecord> NetworkLayer::create_network(const CreateNetworkOptions& o) {
  if (!valid_network_name(o.name))
    return sys::user_error("network name \"" + o.name + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  if (o.name == "bridge" || o.name == "host" || o.name == "none")
    return sys::user_error("network name " + o.name + " is reserved (a predefined network)");
  auto lock = GUISE_TRY(store_.lock());
  GUISE_TRY(default_network_locked());
  auto all = GUISE_TRY(store_.list());
  for (const auto& n : all)
    if (n.name == o.name) return sys::already_exists("network with name " + o.name + " already exists");
  NetworkRecord n;
  n.id = sys::random_hex(32);
  n.name = o.name;
  n.created = sys::now_rfc3339();
  n.bridge = next_bridge(all, config_.bridge_prefix);
  if (n.bridge.size() > 15) return sys::user_error("too many networks: bridge name " + n.bridge + " is too long");
  if (o.subnet) {
    if (!o.subnet->address.v4()) return sys::user_error("--subnet " + o.subnet->str() + ": the first subnet must be IPv4");
    for (const auto& other : all)
      if (other.subnet.overlaps(*o.subnet))
        return sys::already_exists("--subnet " + o.subnet->str() + ": overlaps the subnet " + other.subnet.str() +
                                   " of network " + other.name);
    n.subnet = *o.subnet;
  } else {
    n.subnet = GUISE_TRY(allocate_subnet(GUISE_TRY(parse_prefix(kUserPool, "pool")), 24, subnets_in_use(all)));
  }
  if (o.gateway) {
    if (!n.subnet.contains(*o.gateway))
      return sys::user_error("--gateway " + o.gateway->str() + ": not in the subnet " + n.subnet.str());
    n.gateway = *o.gateway;
  } else {
    n.gateway = first_host(n.subnet);
  }
  if (o.ipv6 || o.subnet6) {
    if (o.subnet6) {
      n.subnet6 = *o.subnet6;
    } else {
      // A ULA /64 of its own: fd + 40 bits from the id, as RFC 4193 suggests.
      std::string text = "fd" + n.id.substr(0, 2) + ":" + n.id.substr(2, 4) + ":" + n.id.substr(6, 4) + "::/64";
      n.subnet6 = GUISE_TRY(parse_prefix(text, "ipv6 subnet"));
    }
    n.gateway6 = first_host(*n.subnet6);
  }
  n.internal = o.internal;
  n.labels = o.labels;
  Ruleset before = GUISE_TRY(ruleset_locked());
  GUISE_TRY(store_.write(n));
  // Its isolation from the other networks holds from now on, not from its first container.
  auto synced = sync_locked(before);
  if (!synced) {
    (void)store_.remove(n);
    return std::move(synced.error());
  }
  return n;
}

Result<void> NetworkLayer::remove_network(const std::string& name_or_id) {
  auto lock = GUISE_TRY(store_.lock());
  NetworkRecord n = GUISE_TRY(store_.find(name_or_id));
  if (n.name == kDefaultNetwork) return sys::user_error(n.name + " is a pre-defined network and cannot be removed");
  for (const auto& e : GUISE_TRY(store_.endpoints(n)))
    if (!config_.liveness || config_.liveness(e.container_id) != Liveness::kGone)
      return sys::wrong_state("error while removing network: network " + n.name + " id " + n.id +
                              " has active endpoints (" + e.container_name + ")");
  auto nl = GUISE_TRY(Netlink::open());
  GUISE_TRY(nl.delete_link(n.bridge));
  GUISE_TRY(store_.remove(n));
  return sync_locked();
}

Result<void> NetworkLayer::ensure_bridge(const NetworkRecord& n) {
  auto nl = GUISE_TRY(Netlink::open());
  GUISE_TRY(nl.create_bridge(n.bridge, kMtu), "network " + n.name);
  GUISE_TRY(nl.add_address(n.bridge, n.gateway, n.subnet.length), "network " + n.name);
  if (n.subnet6) GUISE_TRY(nl.add_address(n.bridge, n.gateway6, n.subnet6->length), "network " + n.name);
  GUISE_TRY(nl.set_up(n.bridge), "network " + n.name);
  // Routing between the bridge and the world, and DNAT of the host's own 127.0.0.1 to a
  // container (a martian source the kernel drops unless the bridge accepts local routing).
  if (!n.internal) GUISE_TRY(write_sysctl("net.ipv4.ip_forward", "1"));
  GUISE_TRY(write_sysctl("net.ipv4.conf." + n.bridge + ".route_localnet", "1"));
  return Ok();
}

// ---- ports ------------------------------------------------------------------------------

Result<std::vector<PublishedPort>> NetworkLayer::resolve_ports(const std::vector<PortRequest>& ports,
                                                               const std::string& self_id) {
  // Host ports other containers publish now (no socket shows them: DNAT holds them).
  struct Holder {
    PublishedPort port;
    std::string container;
  };
  std::vector<Holder> held;
  for (const auto& n : GUISE_TRY(store_.list()))
    for (const auto& e : GUISE_TRY(store_.endpoints(n)))
      if (e.active && e.container_id != self_id)
        for (const auto& p : e.ports) held.push_back({p, e.container_name});
  std::vector<PublishedPort> out;
  auto taken_by = [&](const std::string& proto, const std::string& ip, uint16_t port) -> std::string {
    for (const auto& h : held)
      if (h.port.protocol == proto && h.port.host_port == port && same_host_ip(h.port.host_ip, ip)) return h.container;
    for (const auto& p : out)
      if (p.protocol == proto && p.host_port == port && same_host_ip(p.host_ip, ip)) return "this container";
    return "";
  };
  for (const auto& r : ports) {
    PublishedPort p{r.protocol, r.host_ip, 0, r.container_port};
    if (!r.host_ip.empty() && GUISE_TRY(parse_ip(r.host_ip, "-p")).v6())
      return sys::user_error("-p [" + r.host_ip + "]:" + std::to_string(r.host_port_first) + ":" +
                             std::to_string(r.container_port) + ": only IPv4 host addresses can be published");
    std::string what = (r.host_ip.empty() ? "" : r.host_ip + ":") + std::to_string(r.host_port_first) +
                       (r.host_port_last != r.host_port_first ? "-" + std::to_string(r.host_port_last) : "") + ":" +
                       std::to_string(r.container_port) + "/" + r.protocol;
    if (r.host_port_first == 0) {
      for (int tries = 0; tries < 20 && p.host_port == 0; ++tries) {
        uint16_t candidate = GUISE_TRY(pick_free_host_port(r.protocol, r.host_ip), "-p " + what);
        if (taken_by(r.protocol, r.host_ip, candidate).empty()) p.host_port = candidate;
      }
      if (p.host_port == 0) return sys::user_error("-p " + what + ": found no free host port");
    } else {
      Error last = sys::user_error("");
      for (uint32_t port = r.host_port_first; port <= r.host_port_last && p.host_port == 0; ++port) {
        std::string holder = taken_by(r.protocol, r.host_ip, static_cast<uint16_t>(port));
        if (!holder.empty()) {
          last = sys::already_exists("host port " + std::to_string(port) + "/" + r.protocol +
                                     " is already published by container " + holder);
          continue;
        }
        auto free = check_host_port_free(r.protocol, r.host_ip, static_cast<uint16_t>(port));
        if (!free) {
          last = std::move(free.error());
          continue;
        }
        p.host_port = static_cast<uint16_t>(port);
      }
      if (p.host_port == 0) return std::move(last).with_context("-p " + what);
    }
    out.push_back(p);
  }
  return out;
}

// ---- endpoints --------------------------------------------------------------------------

Result<Attached> NetworkLayer::wire(const std::string& container_id, const std::string& container_name,
                                    const EndpointRequest& r, int index, bool default_route,
                                    std::vector<std::pair<NetworkRecord, bool>>* leases) {
  NetworkRecord n = r.network == kDefaultNetwork ? GUISE_TRY(default_network_locked()) : GUISE_TRY(store_.find(r.network));
  GUISE_TRY(ensure_bridge(n));
  std::set<IpAddress> taken;
  std::optional<Endpoint> mine;
  for (auto& e : GUISE_TRY(store_.endpoints(n))) {
    if (e.container_id == container_id) {
      mine = e;
      continue;
    }
    taken.insert(e.ip);
    if (!e.ip6.empty()) taken.insert(e.ip6);
  }
  Endpoint e;
  e.container_id = container_id;
  e.container_name = container_name;
  e.aliases = r.aliases;
  if (mine && (!r.ip || *r.ip == mine->ip)) e.ip = mine->ip;
  else e.ip = GUISE_TRY(allocate_address(n.subnet, n.gateway, taken, r.ip, n.name));
  if (n.subnet6) {
    if (mine && !mine->ip6.empty() && (!r.ip6 || *r.ip6 == mine->ip6)) e.ip6 = mine->ip6;
    else e.ip6 = GUISE_TRY(allocate_address(*n.subnet6, n.gateway6, taken, r.ip6, n.name));
  }
  e.mac = r.mac.empty() ? mac_for(e.ip) : r.mac;
  MacAddress mac = GUISE_TRY(parse_mac(e.mac));
  e.interface = "eth" + std::to_string(index);
  e.veth = veth_name(container_id, index);
  // The lease is written before the links exist, so that a crash in between leaves a
  // lease that reclaim finds, never links nobody knows about.
  if (leases) leases->push_back({n, !mine.has_value()});
  GUISE_TRY(store_.write_endpoint(n, e));
  GUISE_FAULT_POINT("network: lease written");

  sys::Fd ns = GUISE_TRY(open_netns(netns_path(container_id)));
  auto host = GUISE_TRY(Netlink::open());
  (void)host.delete_link(e.veth);  // a leftover of a namespace the kernel is still freeing
  GUISE_TRY(host.create_veth(e.veth, e.interface, ns.get(), kMtu), "network " + n.name);
  GUISE_FAULT_POINT("network: veth made");
  GUISE_TRY(host.set_master(e.veth, n.bridge));
  GUISE_TRY(host.set_hairpin(e.veth, true));
  GUISE_TRY(host.set_up(e.veth));
  auto inside = GUISE_TRY(Netlink::open_in(ns.get()));
  GUISE_TRY(inside.set_mac(e.interface, mac));
  GUISE_TRY(inside.add_address(e.interface, e.ip, n.subnet.length));
  if (!e.ip6.empty()) GUISE_TRY(inside.add_address(e.interface, e.ip6, n.subnet6->length));
  GUISE_TRY(inside.set_up(e.interface));
  if (default_route && !n.internal) {
    GUISE_TRY(inside.add_default_route(n.gateway));
    if (!e.ip6.empty()) GUISE_TRY(inside.add_default_route(n.gateway6));
  }
  e.active = true;
  GUISE_TRY(store_.write_endpoint(n, e));
  return Attached{n, e};
}

Result<std::vector<Attached>> NetworkLayer::setup(const ContainerNetworkRequest& r) {
  auto lock = GUISE_TRY(store_.lock());
  bool changed = GUISE_TRY(teardown_locked(r.container_id, false));
  changed = GUISE_TRY(reclaim_locked(r.container_id)) || changed;
  for (const auto& e : r.networks)
    if (e.network == kDefaultNetwork) GUISE_TRY(default_network_locked());  // made (and synced) on first use
  // Nothing went: the table holds what the records say, and this setup only adds to it.
  std::optional<Ruleset> before;
  if (!changed) before = GUISE_TRY(ruleset_locked());
  std::vector<PublishedPort> ports = GUISE_TRY(resolve_ports(r.ports, r.container_id));
  // Networks joined by `network connect` earlier: their leases say so, and a start joins
  // them again, as docker does.
  std::vector<EndpointRequest> wanted = r.networks;
  if (!wanted.empty())
    for (const auto& n : GUISE_TRY(store_.list())) {
      auto e = GUISE_TRY(store_.endpoint(n, r.container_id));
      bool listed = std::any_of(wanted.begin(), wanted.end(), [&](const EndpointRequest& w) {
        return w.network == n.name || w.network == n.id;
      });
      if (e && !listed) wanted.push_back({n.id, e->aliases, e->ip, std::nullopt, ""});
    }

  std::vector<Attached> made;
  std::vector<std::pair<NetworkRecord, bool>> leases;  // each network's lease, and whether this call made it
  auto attach_all = [&]() -> Result<void> {
    std::string ns = netns_path(r.container_id);
    GUISE_TRY(create_pinned_netns(ns), "making the network namespace");
    GUISE_FAULT_POINT("network: namespace pinned");
    {
      sys::Fd fd = GUISE_TRY(open_netns(ns));
      auto inside = GUISE_TRY(Netlink::open_in(fd.get()));
      GUISE_TRY(inside.set_up("lo"));
    }
    for (size_t i = 0; i < wanted.size(); ++i)
      made.push_back(GUISE_TRY(wire(r.container_id, r.container_name, wanted[i], static_cast<int>(i), i == 0, &leases)));
    if (!made.empty() && !ports.empty()) {
      made[0].endpoint.ports = ports;
      GUISE_TRY(store_.write_endpoint(made[0].network, made[0].endpoint));
    }
    return sync_locked(before);
  };
  auto done = attach_all();
  if (!done) {
    // Undo: the links go with the namespace; leases this call made go too, those it
    // found (a restart's kept address) stay, inactive.
    (void)teardown_locked(r.container_id, false);
    for (const auto& [n, fresh] : leases)
      if (fresh) (void)store_.remove_endpoint(n, r.container_id);
    (void)sync_locked();
    return std::move(done.error());
  }
  return made;
}

Result<bool> NetworkLayer::teardown_locked(const std::string& container_id, bool release) {
  bool changed = false;
  for (const auto& n : GUISE_TRY(store_.list())) {
    auto e = GUISE_TRY(store_.endpoint(n, container_id));
    if (!e) continue;
    changed = true;
    // The veths are not deleted one by one: each delete waits for the kernel's RCU grace
    // periods (about 15 ms). Unpinned below, the namespace ends with the container's
    // last process and takes its veths with it, in the kernel's own time; a restart that
    // finds its veth's name still taken deletes the old one first (wire).
    if (release) {
      GUISE_TRY(store_.remove_endpoint(n, container_id));
    } else if (e->active) {
      e->active = false;
      e->ports.clear();
      GUISE_TRY(store_.write_endpoint(n, *e));
    }
  }
  GUISE_TRY(remove_pinned_netns(netns_path(container_id)));
  return changed;
}

Result<bool> NetworkLayer::reclaim_locked(const std::string& except_id) {
  bool changed = false;
  if (!config_.liveness) return changed;
  for (const auto& n : GUISE_TRY(store_.list()))
    for (const auto& e : GUISE_TRY(store_.endpoints(n))) {
      if (e.container_id == except_id) continue;
      Liveness l = config_.liveness(e.container_id);
      if (l == Liveness::kGone) changed = GUISE_TRY(teardown_locked(e.container_id, true)) || changed;
      else if (l == Liveness::kStopped && e.active) changed = GUISE_TRY(teardown_locked(e.container_id, false)) || changed;
    }
  return changed;
}

Result<void> NetworkLayer::undo(const std::string& container_id, bool release, uint64_t only_netns_inode) {
  auto lock = GUISE_TRY(store_.lock());
  struct stat st {};
  if (only_netns_inode && ::stat(netns_path(container_id).c_str(), &st) == 0 && st.st_ino != only_netns_inode)
    return Ok();  // started again since: the namespace there is the new run's
  // Nothing of it in any network (host, container:NAME, already undone): the table stays.
  if (!GUISE_TRY(teardown_locked(container_id, release))) return Ok();
  // Names are best effort here: a responder that cannot start must not keep a stopped
  // container's ports published.
  Ruleset rules = GUISE_TRY(ruleset_locked());
  GUISE_TRY(apply_ruleset(rules));
  (void)names_locked();
  return Ok();
}

Result<void> NetworkLayer::teardown(const std::string& container_id, uint64_t only_netns_inode) {
  return undo(container_id, false, only_netns_inode);
}

Result<void> NetworkLayer::release(const std::string& container_id, uint64_t only_netns_inode) {
  return undo(container_id, true, only_netns_inode);
}

Result<Attached> NetworkLayer::connect(const std::string& container_id, const std::string& container_name,
                                       const EndpointRequest& r) {
  auto lock = GUISE_TRY(store_.lock());
  NetworkRecord n = r.network == kDefaultNetwork ? GUISE_TRY(default_network_locked()) : GUISE_TRY(store_.find(r.network));
  Ruleset before = GUISE_TRY(ruleset_locked());
  int index = 0;
  for (const auto& other : GUISE_TRY(store_.list())) {
    auto e = GUISE_TRY(store_.endpoint(other, container_id));
    if (!e) continue;
    if (other.id == n.id && e->active)
      return sys::already_exists("endpoint with name " + container_name + " already exists in network " + n.name);
    if (e->active) index = std::max(index, std::atoi(e->interface.c_str() + 3) + 1);
  }
  if (::access(netns_path(container_id).c_str(), F_OK) != 0)
    return sys::wrong_state("container " + container_name + " has no network namespace of its own to connect");
  auto a = wire(container_id, container_name, r, index, false, nullptr);
  if (!a) {
    auto host = Netlink::open();
    if (host) (void)host->delete_link(veth_name(container_id, index));
    (void)store_.remove_endpoint(n, container_id);
    return std::move(a.error());
  }
  GUISE_TRY(sync_locked(before));
  return a;
}

Result<void> NetworkLayer::disconnect(const std::string& container_id, const std::string& network) {
  auto lock = GUISE_TRY(store_.lock());
  NetworkRecord n = GUISE_TRY(store_.find(network));
  auto e = GUISE_TRY(store_.endpoint(n, container_id));
  if (!e) return sys::not_found("container " + container_id.substr(0, 12) + " is not connected to network " + n.name);
  auto host = GUISE_TRY(Netlink::open());
  if (!e->veth.empty()) GUISE_TRY(host.delete_link(e->veth));
  GUISE_TRY(store_.remove_endpoint(n, container_id));
  return sync_locked();
}

Result<std::vector<Attached>> NetworkLayer::endpoints_of(const std::string& container_id) const {
  std::vector<Attached> out;
  for (const auto& n : GUISE_TRY(store_.list()))
    if (auto e = GUISE_TRY(store_.endpoint(n, container_id))) out.push_back({n, *e});
  std::sort(out.begin(), out.end(), [](const Attached& a, const Attached& b) { return a.endpoint.interface < b.endpoint.interface; });
  return out;
}

Result<void> NetworkLayer::sync() {
  auto lock = GUISE_TRY(store_.lock());
  (void)GUISE_TRY(reclaim_locked(""));
  return sync_locked();
}

Result<Ruleset> NetworkLayer::ruleset_locked() const {
  Ruleset rules;
  rules.table = config_.table;
  for (const auto& n : GUISE_TRY(store_.list())) {
    rules.networks.push_back({n.bridge, n.subnet, n.subnet6, n.internal});
    for (const auto& e : GUISE_TRY(store_.endpoints(n))) {
      if (!e.active) continue;
      for (const auto& p : e.ports) {
        PortRule pr;
        pr.protocol = p.protocol;
        if (!p.host_ip.empty()) pr.host_ip = GUISE_TRY(parse_ip(p.host_ip, "host IP"));
        pr.host_port = p.host_port;
        pr.container_ip = e.ip;
        pr.container_port = p.container_port;
        pr.container_id = e.container_id;
        rules.ports.push_back(pr);
      }
    }
  }
  return rules;
}

Result<void> NetworkLayer::names_locked() {
  for (const auto& n : GUISE_TRY(store_.list())) {
    std::string hosts;
    bool any_active = false;
    for (const auto& e : GUISE_TRY(store_.endpoints(n))) {
      if (!e.active) continue;
      any_active = true;
      if (!n.dns) continue;
      std::string names = e.container_name + " " + e.container_id.substr(0, 12);
      for (const auto& a : e.aliases) names += " " + a;
      hosts += e.ip.str() + " " + names + "\n";
      if (!e.ip6.empty()) hosts += e.ip6.str() + " " + names + "\n";
    }
    std::string hosts_file = store_.hosts_file(n);
    auto old = sys::read_file(hosts_file);
    if (!old || *old != hosts) GUISE_TRY(store_.write_hosts(n, hosts));
    if (any_active && config_.start_dns) GUISE_TRY(config_.start_dns(n, hosts_file), "network " + n.name);
  }
  return Ok();
}

Result<void> NetworkLayer::sync_locked(const std::optional<Ruleset>& before) {
  // The table first: what the records say is published must be so before anything else
  // can fail.
  Ruleset rules = GUISE_TRY(ruleset_locked());
  GUISE_TRY(before ? extend_ruleset(*before, rules) : apply_ruleset(rules));
  return names_locked();
}

}  // namespace guise::network
