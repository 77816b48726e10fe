// docker network create|ls|inspect|rm|prune|connect|disconnect, and two commands that
// only guise itself runs: `container cleanup ID` (the monitor's exit command) and
// `network dns-serve ID` (a network's DNS responder).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/guise/container_common.h"
#include "cli/guise/container_network.h"
#include "cli/guise/template.h"
#include "engine/networking.h"
#include "network/dns.h"
#include "network/ipam.h"
#include "sys/file_lock.h"
#include "sys/sha256.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// host and none are networks to docker's commands, though nothing is made for them.
const char* const kPredefined[] = {"host", "none"};

std::string predefined_id(const std::string& name) { return sys::sha256_hex("guise network " + name); }

ordered_json network_json(const network::NetworkLayer& layer, const network::NetworkRecord& n) {
  ordered_json containers = ordered_json::object();
  auto endpoints = layer.store().endpoints(n);
  if (endpoints)
    for (const auto& e : *endpoints) {
      if (!e.active) continue;
      containers[e.container_id] = {
          {"Name", e.container_name},
          {"EndpointID", sys::sha256_hex(n.id + e.container_id)},
          {"MacAddress", e.mac},
          {"IPv4Address", e.ip.str() + "/" + std::to_string(n.subnet.length)},
          {"IPv6Address", e.ip6.empty() ? "" : e.ip6.str() + "/" + std::to_string(n.subnet6->length)}};
    }
  ordered_json config = ordered_json::array({{{"Subnet", n.subnet.str()}, {"Gateway", n.gateway.str()}}});
  if (n.subnet6) config.push_back({{"Subnet", n.subnet6->str()}, {"Gateway", n.gateway6.str()}});
  ordered_json labels = ordered_json::object();
  for (const auto& [k, v] : n.labels) labels[k] = v;
  return {{"Name", n.name},
          {"Id", n.id},
          {"Created", n.created},
          {"Scope", "local"},
          {"Driver", "bridge"},
          {"EnableIPv6", n.subnet6.has_value()},
          {"IPAM", {{"Driver", "default"}, {"Options", ordered_json::object()}, {"Config", config}}},
          {"Internal", n.internal},
          {"Attachable", false},
          {"Ingress", false},
          {"ConfigFrom", {{"Network", ""}}},
          {"ConfigOnly", false},
          {"Containers", containers},
          {"Options", {{"com.docker.network.bridge.name", n.bridge}}},
          {"Labels", labels}};
}

ordered_json predefined_json(const std::string& name) {
  return {{"Name", name},
          {"Id", predefined_id(name)},
          {"Created", "0001-01-01T00:00:00Z"},
          {"Scope", "local"},
          {"Driver", name == "host" ? "host" : "null"},
          {"EnableIPv6", false},
          {"IPAM", {{"Driver", "default"}, {"Options", nullptr}, {"Config", ordered_json::array()}}},
          {"Internal", false},
          {"Attachable", false},
          {"Ingress", false},
          {"ConfigFrom", {{"Network", ""}}},
          {"ConfigOnly", false},
          {"Containers", ordered_json::object()},
          {"Options", ordered_json::object()},
          {"Labels", ordered_json::object()}};
}

Result<ordered_json> find_network_json(network::NetworkLayer& layer, const std::string& name) {
  for (const char* p : kPredefined)
    if (name == p || (name.size() >= 3 && predefined_id(p).rfind(name, 0) == 0)) return predefined_json(p);
  if (name == network::kDefaultNetwork) return network_json(layer, GUISE_TRY(layer.default_network()));
  auto n = layer.store().find(name);
  if (!n) return sys::not_found("network " + name + " not found");
  return network_json(layer, *n);
}

Result<network::NetworkLayer> layer_of(Context& ctx) {
  auto cs = GUISE_TRY(open_containers(ctx));
  return open_network_layer(cs);
}

struct CreateFlags {
  std::string name, driver = "bridge";
  std::vector<std::string> subnets, gateways, labels;
  bool internal = false, ipv6 = false;
};

Result<std::string> create_network(Context& ctx, const CreateFlags& f) {
  if (f.driver != "bridge") return sys::user_error("-d, --driver " + f.driver + ": only the bridge driver is supported");
  network::CreateNetworkOptions o;
  o.name = f.name;
  o.internal = f.internal;
  o.ipv6 = f.ipv6;
  for (const auto& s : f.subnets) {
    auto p = GUISE_TRY(network::parse_prefix(s, "--subnet"));
    if (p.address.v4()) {
      if (o.subnet) return sys::user_error("--subnet " + s + ": one IPv4 subnet per network");
      o.subnet = p;
    } else {
      o.subnet6 = p;
      o.ipv6 = true;
    }
  }
  for (const auto& g : f.gateways) {
    auto a = GUISE_TRY(network::parse_ip(g, "--gateway"));
    if (!o.subnet || !a.v4()) return sys::user_error("--gateway " + g + ": a gateway needs the --subnet it belongs to");
    o.gateway = a;
  }
  for (const auto& l : f.labels) {
    size_t eq = l.find('=');
    o.labels.emplace_back(l.substr(0, eq), eq == std::string::npos ? "" : l.substr(eq + 1));
  }
  auto layer = GUISE_TRY(layer_of(ctx));
  auto n = GUISE_TRY(layer.create_network(o));
  return n.id;
}

Result<void> connect_container(Context& ctx, const std::string& net, const std::string& container, const std::string& ip,
                               const std::vector<std::string>& aliases) {
  auto cs = GUISE_TRY(open_containers(ctx));
  std::string id = GUISE_TRY(cs.resolve(container));
  auto v = GUISE_TRY(engine::view_container(cs, id));
  if (!v.running()) return sys::wrong_state("container " + container + " is not running");
  std::string mode = v.record.host_config.value("NetworkMode", "bridge");
  if (!engine::uses_network_layer(mode))
    return sys::user_error("container " + container + " runs with --network " + mode + ": it cannot join another network");
  auto layer = GUISE_TRY(open_network_layer(cs));
  network::EndpointRequest r;
  r.network = net;
  r.aliases = aliases;
  if (!ip.empty()) r.ip = GUISE_TRY(network::parse_ip(ip, "--ip"));
  GUISE_TRY(layer.connect(id, v.record.name, r));
  return Ok();
}

Result<void> disconnect_container(Context& ctx, const std::string& net, const std::string& container) {
  auto cs = GUISE_TRY(open_containers(ctx));
  std::string id = GUISE_TRY(cs.resolve(container));
  auto layer = GUISE_TRY(open_network_layer(cs));
  return layer.disconnect(id, net);
}

}  // namespace

void register_network_commands(CLI::App& app, Context& ctx) {
  CLI::App* net = app.add_subcommand("network", "Manage networks");
  net->require_subcommand(1);

  static CreateFlags cf;
  auto* create = net->add_subcommand("create", "Create a network");
  create->add_option("NETWORK", cf.name)->required();
  create->add_option("-d,--driver", cf.driver, "driver to manage the network (bridge)");
  create->add_option("--subnet", cf.subnets, "subnet in CIDR format (one IPv4, one IPv6)")->allow_extra_args(false);
  create->add_option("--gateway", cf.gateways, "IPv4 gateway for the subnet")->allow_extra_args(false);
  create->add_option("--label", cf.labels, "set metadata on a network")->allow_extra_args(false);
  create->add_flag("--internal", cf.internal, "restrict external access to the network");
  create->add_flag("--ipv6", cf.ipv6, "enable IPv6 networking");
  create->callback([&ctx] {
    auto id = create_network(ctx, cf);
    if (!id) return ctx.fail(id.error());
    std::printf("%s\n", id->c_str());
  });

  static bool ls_quiet = false, ls_no_trunc = false;
  static std::string ls_format;
  static std::vector<std::string> ls_filters;
  auto* ls = net->add_subcommand("ls", "List networks")->alias("list");
  ls->add_flag("-q,--quiet", ls_quiet, "only display network IDs");
  ls->add_flag("--no-trunc", ls_no_trunc, "do not truncate the output");
  ls->add_option("--format", ls_format, "json, table, or a Go template");
  ls->add_option("-f,--filter", ls_filters, "filter output (name=, id=, driver=, label=)")->allow_extra_args(false);
  ls->callback([&ctx] {
    auto layer = layer_of(ctx);
    if (!layer) return ctx.fail(layer.error());
    auto def = layer->default_network();
    if (!def) return ctx.fail(def.error());
    auto all = layer->store().list();
    if (!all) return ctx.fail(all.error());
    std::vector<ordered_json> objects;
    for (const auto& n : *all) objects.push_back(network_json(*layer, n));
    for (const char* p : kPredefined) objects.push_back(predefined_json(p));
    std::vector<json> rows;
    for (const auto& o : objects) {
      bool keep = true;
      for (const auto& f : ls_filters) {
        size_t eq = f.find('=');
        std::string key = f.substr(0, eq), val = eq == std::string::npos ? "" : f.substr(eq + 1);
        if (key == "name") keep = keep && o["Name"].get<std::string>().find(val) != std::string::npos;
        else if (key == "id") keep = keep && o["Id"].get<std::string>().rfind(val, 0) == 0;
        else if (key == "driver") keep = keep && o["Driver"] == val;
        else if (key == "label") {
          size_t veq = val.find('=');
          std::string lk = val.substr(0, veq);
          keep = keep && o["Labels"].contains(lk) && (veq == std::string::npos || o["Labels"][lk] == val.substr(veq + 1));
        }
        else return ctx.fail("invalid filter '" + key + "'");
      }
      if (!keep) continue;
      std::string id = o["Id"];
      json row = {{"ID", ls_no_trunc ? id : id.substr(0, 12)}, {"Name", o["Name"]}, {"Driver", o["Driver"]},
                  {"Scope", "local"}, {"IPv6", o["EnableIPv6"]}, {"Internal", o["Internal"]},
                  {"CreatedAt", o["Created"]}, {"Labels", ""}};
      rows.push_back(row);
    }
    std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) { return a["Name"] < b["Name"]; });
    if (ls_quiet) {
      for (const auto& r : rows) std::printf("%s\n", r["ID"].get<std::string>().c_str());
      return;
    }
    auto out = format_rows(ls_format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", rows, {{"ID", "NETWORK ID"}});
    if (!out) return ctx.fail(out.error());
    std::fputs(out->c_str(), stdout);
  });

  static std::vector<std::string> inspect_names;
  static std::string inspect_format;
  auto* inspect = net->add_subcommand("inspect", "Display detailed information on one or more networks");
  inspect->add_option("-f,--format", inspect_format, "a Go template, or json");
  inspect->add_option("NETWORK", inspect_names)->required();
  inspect->callback([&ctx] {
    auto layer = layer_of(ctx);
    if (!layer) return ctx.fail(layer.error());
    ordered_json all = ordered_json::array();
    for (const auto& n : inspect_names) {
      auto j = find_network_json(*layer, n);
      if (!j) {
        ctx.fail(j.error());
        continue;
      }
      all.push_back(*j);
    }
    if (inspect_format.empty() || inspect_format == "json") {
      if (!all.empty() || ctx.exit_code == 0) std::printf("%s\n", all.dump(4).c_str());
      return;
    }
    auto t = Template::parse(inspect_format);
    if (!t) return ctx.fail(std::move(t.error()).with_context("--format"));
    for (const auto& j : all) {
      auto s = t->render(json::parse(j.dump()));
      if (!s) return ctx.fail(s.error());
      std::printf("%s\n", s->c_str());
    }
  });

  static std::vector<std::string> rm_names;
  auto* rm = net->add_subcommand("rm", "Remove one or more networks")->alias("remove");
  rm->add_option("NETWORK", rm_names)->required();
  rm->callback([&ctx] {
    auto layer = layer_of(ctx);
    if (!layer) return ctx.fail(layer.error());
    for (const auto& n : rm_names) {
      bool predefined = n == "host" || n == "none";
      auto r = predefined ? Result<void>(sys::user_error(n + " is a pre-defined network and cannot be removed"))
                          : layer->remove_network(n);
      if (!r) {
        ctx.fail(r.error());
        continue;
      }
      std::printf("%s\n", n.c_str());
    }
  });

  static bool prune_force = false;
  auto* prune = net->add_subcommand("prune", "Remove all unused networks");
  prune->add_flag("-f,--force", prune_force, "do not prompt for confirmation");
  prune->callback([&ctx] {
    if (!prune_force && !confirm("WARNING! This will remove all custom networks not used by at least one container."))
      return;
    auto layer = layer_of(ctx);
    if (!layer) return ctx.fail(layer.error());
    auto all = layer->store().list();
    if (!all) return ctx.fail(all.error());
    bool header = false;
    for (const auto& n : *all) {
      if (n.name == network::kDefaultNetwork) continue;
      auto removed = layer->remove_network(n.id);
      if (!removed && removed.error().is(sys::ErrorKind::kWrongState)) continue;  // in use
      if (!removed) {
        ctx.fail(removed.error());
        continue;
      }
      if (!header) std::printf("Deleted Networks:\n");
      header = true;
      std::printf("%s\n", n.name.c_str());
    }
  });

  static std::string connect_ip;
  static std::vector<std::string> connect_aliases;
  static std::string connect_net, connect_container_name;
  auto* connect = net->add_subcommand("connect", "Connect a container to a network");
  connect->add_option("--ip", connect_ip, "IPv4 address");
  connect->add_option("--alias", connect_aliases, "add network-scoped alias for the container")->allow_extra_args(false);
  connect->add_option("NETWORK", connect_net)->required();
  connect->add_option("CONTAINER", connect_container_name)->required();
  connect->callback([&ctx] {
    auto r = connect_container(ctx, connect_net, connect_container_name, connect_ip, connect_aliases);
    if (!r) ctx.fail(r.error());
  });

  static std::string disconnect_net, disconnect_container_name;
  static bool disconnect_force = false;
  auto* disconnect = net->add_subcommand("disconnect", "Disconnect a container from a network");
  disconnect->add_flag("-f,--force", disconnect_force, "force the container to disconnect from a network");
  disconnect->add_option("NETWORK", disconnect_net)->required();
  disconnect->add_option("CONTAINER", disconnect_container_name)->required();
  disconnect->callback([&ctx] {
    auto r = disconnect_container(ctx, disconnect_net, disconnect_container_name);
    if (!r) ctx.fail(r.error());
  });

  // The monitor's exit command (hidden: only guise runs it).
  static std::string cleanup_id;
  static uint64_t cleanup_inode = 0;
  auto* cleanup = app.get_subcommand("container")->add_subcommand("cleanup", "");
  cleanup->group("");
  cleanup->add_option("ID", cleanup_id)->required();
  cleanup->add_option("--netns-inode", cleanup_inode, "only the namespace of this inode");
  cleanup->callback([&ctx] {
    auto cs = open_containers(ctx);
    if (!cs) return ctx.fail(cs.error());
    // --rm: the monitor removes the container next, so its leases go now too.
    auto rec = cs->read_record(cleanup_id);
    bool removing = !rec || rec->host_config.value("AutoRemove", false);  // gone, or about to go
    auto r = removing ? release_container_network(*cs, cleanup_id, cleanup_inode)
                      : teardown_container_network(*cs, cleanup_id, cleanup_inode);
    if (!r) ctx.fail(r.error());
  });

  static std::string dns_id;
  auto* dns = net->add_subcommand("dns-serve", "");
  dns->group("");
  dns->add_option("ID", dns_id)->required();
  dns->callback([&ctx] {
    auto r = serve_network_dns(ctx, dns_id);
    if (!r) ctx.fail(r.error());
  });
}

}  // namespace guise::cli
