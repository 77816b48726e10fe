#include "engine/networking.h"

#include "engine/user_mode_network.h"

#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <set>
#include <sstream>

#include "engine/container.h"
#include "engine/run_request.h"
#include "engine/user_mode_network.h"
#include "network/dns.h"
#include "sys/file_lock.h"
#include "sys/sha256.h"
#include "sys/text.h"

namespace guise::engine {

namespace {

using network::Attached;
using network::IpAddress;

constexpr const char* kDefaultStore = "/var/lib/guise";

bool is_loopback(const IpAddress& a) {
  if (a.v4()) return a.bytes[0] == 127;
  static const IpAddress kLoopback6 = [] {
    IpAddress x;
    x.family = AF_INET6;
    x.bytes[15] = 1;
    return x;
  }();
  return a == kLoopback6;
}

std::vector<std::string> lines_starting(const std::string& text, const std::string& word) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first != word) continue;
    std::string rest;
    std::getline(words, rest);
    rest.erase(0, rest.find_first_not_of(" \t"));
    out.push_back(rest);
  }
  return out;
}

Result<uint16_t> port_number(const std::string& text, const std::string& what) {
  char* end = nullptr;
  unsigned long v = std::strtoul(text.c_str(), &end, 10);
  if (text.empty() || *end || v == 0 || v > 65535) return sys::user_error(what + ": invalid port " + text);
  return static_cast<uint16_t>(v);
}

}  // namespace

bool uses_network_layer(const std::string& mode) {
  return mode != "host" && mode != "none" && !is_user_mode_network(mode) && mode.rfind("container:", 0) != 0;
}

bool has_network_to_undo(const std::string& mode) { return uses_network_layer(mode) || is_user_mode_network(mode); }

network::NetworkLayerConfig network_layer_config(
    const ContainerStore& cs,
    std::function<Result<void>(const network::NetworkRecord&, const std::string&)> start_dns) {
  network::NetworkLayerConfig c;
  // One spelling of the store (--root /x/, a relative path, a symlink): its table's name,
  // its bridges' and the mount point its namespaces are pinned under.
  char real[PATH_MAX];
  c.store_root = ::realpath(cs.root().c_str(), real) ? std::string(real) : cs.root();
  if (c.store_root != kDefaultStore) {
    std::string h = sys::sha256_hex(c.store_root).substr(0, 4);
    c.bridge_prefix = "g" + h + "-";
    c.table = "guise-" + h;
  }
  if (const char* s = ::getenv("GUISE_BRIDGE_SUBNET"); s && *s) {
    auto p = network::parse_prefix(s, "GUISE_BRIDGE_SUBNET");
    if (p) c.default_subnet = *p;
  }
  std::string root = c.store_root;
  c.liveness = [root](const std::string& id) {
    ContainerPaths paths(root, id);
    struct stat st {};
    if (::stat(paths.dir.c_str(), &st) != 0) return network::Liveness::kGone;
    auto state = read_state(paths);
    if (state && (state->status == "running" || state->status == "restarting" || state->status == "paused") &&
        state->monitor_pid > 0 && ::kill(state->monitor_pid, 0) == 0)
      return network::Liveness::kRunning;
    // Not running by its state: being started right now (the starter holds its lock from
    // network setup until its monitor runs), or stopped with its network left behind (a
    // monitor killed, a crash).
    auto lock = sys::FileLock::try_acquire(paths.lock());
    if (lock && !lock->held()) return network::Liveness::kRunning;
    return network::Liveness::kStopped;
  };
  c.start_dns = std::move(start_dns);
  return c;
}

Result<network::ContainerNetworkRequest> network_request(const ContainerRecord& rec) {
  network::ContainerNetworkRequest r;
  r.container_id = rec.id;
  r.container_name = rec.name;
  network::EndpointRequest e;
  std::string mode = rec.host_config.value("NetworkMode", "bridge");
  e.network = mode == "bridge" || mode == "default" ? network::kDefaultNetwork : mode;
  EndpointConfig ec = endpoint_config_from_json(rec.endpoint);
  e.aliases = ec.aliases;
  if (!ec.ipv4_address.empty()) e.ip = GUISE_TRY(network::parse_ip(ec.ipv4_address, "--ip"));
  if (!ec.ipv6_address.empty()) e.ip6 = GUISE_TRY(network::parse_ip(ec.ipv6_address, "--ip6"));
  e.mac = rec.config.value("MacAddress", "");
  r.networks.push_back(e);

  std::set<std::string> bound;
  if (rec.host_config.contains("PortBindings") && rec.host_config["PortBindings"].is_object())
    for (const auto& [key, list] : rec.host_config["PortBindings"].items()) {
      bound.insert(key);
      std::string port = key.substr(0, key.find('/'));
      std::string proto = key.find('/') == std::string::npos ? "tcp" : key.substr(key.find('/') + 1);
      if (proto != "tcp" && proto != "udp") return sys::user_error("-p " + key + ": only tcp and udp ports can be published");
      uint16_t container_port = GUISE_TRY(port_number(port, "-p " + key));
      for (const auto& b : list) {
        network::PortRequest p;
        p.protocol = proto;
        p.container_port = container_port;
        p.host_ip = b.value("HostIp", "");
        if (p.host_ip == "0.0.0.0" || p.host_ip == "::") p.host_ip.clear();
        std::string hp = b.value("HostPort", "");
        if (!hp.empty()) {
          size_t dash = hp.find('-');
          p.host_port_first = GUISE_TRY(port_number(hp.substr(0, dash), "-p " + key));
          p.host_port_last = dash == std::string::npos ? p.host_port_first
                                                       : GUISE_TRY(port_number(hp.substr(dash + 1), "-p " + key));
        }
        r.ports.push_back(p);
      }
    }
  if (rec.host_config.value("PublishAllPorts", false) && rec.config.contains("ExposedPorts") &&
      rec.config["ExposedPorts"].is_object())
    for (const auto& [key, unused] : rec.config["ExposedPorts"].items()) {
      if (bound.count(key)) continue;
      std::string proto = key.find('/') == std::string::npos ? "tcp" : key.substr(key.find('/') + 1);
      if (proto != "tcp" && proto != "udp") continue;
      network::PortRequest p;
      p.protocol = proto;
      p.container_port = GUISE_TRY(port_number(key.substr(0, key.find('/')), "ExposedPorts " + key));
      r.ports.push_back(p);
    }
  return r;
}

std::string hosts_text(const std::string& hostname, const std::vector<Attached>& attached,
                       const std::vector<std::string>& extra_hosts) {
  std::string out =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
  for (const auto& h : extra_hosts) {
    size_t sep = h.find(':');
    std::string name = h.substr(0, sep), ip = h.substr(sep + 1);
    if (ip == "host-gateway") ip = attached.empty() ? "127.0.0.1" : attached[0].network.gateway.str();
    out += ip + "\t" + name + "\n";
  }
  if (attached.empty()) return out + "127.0.1.1\t" + hostname + "\n";
  for (const auto& a : attached) {
    out += a.endpoint.ip.str() + "\t" + hostname + "\n";
    if (!a.endpoint.ip6.empty()) out += a.endpoint.ip6.str() + "\t" + hostname + "\n";
  }
  return out;
}

bool needs_dns_responder(const network::NetworkRecord& n, const std::string& host_resolv_conf) {
  if (n.dns) return true;
  auto servers = network::nameservers_of(host_resolv_conf);
  return std::all_of(servers.begin(), servers.end(), is_loopback);
}

std::string resolv_conf_text(const std::string& host, const std::vector<Attached>& attached,
                             const std::vector<std::string>& dns, const std::vector<std::string>& dns_search,
                             const std::vector<std::string>& dns_options) {
  std::vector<std::string> servers, search = dns_search, options = dns_options;
  if (!dns.empty()) {
    servers = dns;
  } else if (!attached.empty() && needs_dns_responder(attached[0].network, host)) {
    servers.push_back(attached[0].network.gateway.str());
  } else {
    for (const auto& s : network::nameservers_of(host))
      if (attached.empty() || !is_loopback(s)) servers.push_back(s.str());
  }
  if (dns_search.empty())
    for (const auto& l : lines_starting(host, "search")) search.push_back(l);
  if (dns_options.empty())
    for (const auto& l : lines_starting(host, "options")) options.push_back(l);
  std::string out;
  for (const auto& s : search) out += "search " + s + "\n";
  for (const auto& s : servers) out += "nameserver " + s + "\n";
  if (!options.empty()) {
    out += "options";
    for (const auto& o : options) out += " " + o;
    out += "\n";
  }
  return out;
}

namespace {

std::vector<Attached> attached_of(const ContainerStore& cs, const std::string& id) {
  auto layer = network::NetworkLayer::open(network_layer_config(cs, nullptr));
  if (!layer) return {};
  auto a = layer->endpoints_of(id);
  return a ? *a : std::vector<Attached>{};
}

}  // namespace

nlohmann::json published_ports_json(const ContainerStore& cs, const ContainerRecord& rec, bool running) {
  nlohmann::json ports = nlohmann::json::object();
  if (rec.config.contains("ExposedPorts") && rec.config["ExposedPorts"].is_object())
    for (const auto& [key, unused] : rec.config["ExposedPorts"].items()) ports[key] = nullptr;
  if (!running) return ports;
  for (const auto& a : attached_of(cs, rec.id))
    for (const auto& p : a.endpoint.ports) {
      std::string key = std::to_string(p.container_port) + "/" + p.protocol;
      if (!ports[key].is_array()) ports[key] = nlohmann::json::array();
      std::string port = std::to_string(p.host_port);
      // Every v4 address of the host: the DNAT rule is v4 only (the container's address is).
      ports[key].push_back({{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip}, {"HostPort", port}});
    }
  return ports;
}

nlohmann::json network_settings_json(const ContainerStore& cs, const ContainerRecord& rec, bool running) {
  using nlohmann::json;
  json networks = json::object();
  json top = {{"Gateway", ""}, {"IPAddress", ""}, {"IPPrefixLen", 0}, {"MacAddress", ""}};
  std::string sandbox;
  std::string mode = rec.host_config.value("NetworkMode", "bridge");
  if (!uses_network_layer(mode)) {
    if (mode == "host" || mode == "none") networks[mode] = json::object();
  }
  for (const auto& a : attached_of(cs, rec.id)) {
    const auto& e = a.endpoint;
    bool live = running && e.active;
    EndpointConfig ec = endpoint_config_from_json(rec.endpoint);
    json aliases = json::array();
    for (const auto& al : e.aliases) aliases.push_back(al);
    if (a.network.dns) aliases.push_back(rec.id.substr(0, 12));
    json n = {{"IPAMConfig", ec.ipv4_address.empty() && ec.ipv6_address.empty()
                                 ? json(nullptr)
                                 : json{{"IPv4Address", ec.ipv4_address}, {"IPv6Address", ec.ipv6_address}}},
              {"Links", nullptr},
              {"Aliases", a.network.dns ? aliases : json(nullptr)},
              {"NetworkID", a.network.id},
              {"EndpointID", live ? sys::sha256_hex(a.network.id + rec.id) : ""},
              {"Gateway", live ? a.network.gateway.str() : ""},
              {"IPAddress", live ? e.ip.str() : ""},
              {"IPPrefixLen", live ? a.network.subnet.length : 0},
              {"IPv6Gateway", live && a.network.subnet6 ? a.network.gateway6.str() : ""},
              {"GlobalIPv6Address", live && !e.ip6.empty() ? e.ip6.str() : ""},
              {"GlobalIPv6PrefixLen", live && a.network.subnet6 ? a.network.subnet6->length : 0},
              {"MacAddress", live ? e.mac : ""},
              {"DriverOpts", nullptr}};
    networks[a.network.name] = n;
    // docker fills the top-level fields from the default bridge only.
    if (a.network.name == network::kDefaultNetwork)
      top = {{"Gateway", n["Gateway"]}, {"IPAddress", n["IPAddress"]}, {"IPPrefixLen", n["IPPrefixLen"]},
             {"MacAddress", n["MacAddress"]}};
    if (live) sandbox = cs.root() + "/netns/" + rec.id;
  }
  return {{"Bridge", ""},
          {"SandboxID", sandbox.empty() ? "" : sys::sha256_hex(sandbox)},
          {"Ports", published_ports_json(cs, rec, running)},
          {"SandboxKey", sandbox},
          {"Gateway", top["Gateway"]},
          {"IPAddress", top["IPAddress"]},
          {"IPPrefixLen", top["IPPrefixLen"]},
          {"MacAddress", top["MacAddress"]},
          {"Networks", networks}};
}

}  // namespace guise::engine
