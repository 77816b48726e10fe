// docker port: the ports a running container publishes now ("80/tcp -> 0.0.0.0:8080"),
// the host ports the kernel picked for -P and "-p 80" included; nothing once it stopped.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/guise/container_common.h"
#include "engine/networking.h"

namespace guise::cli {

namespace {

std::string host_address(const nlohmann::json& b) {
  std::string ip = b.value("HostIp", "");
  if (ip.empty()) ip = "0.0.0.0";
  if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
  return ip + ":" + b.value("HostPort", "");
}

void port(Context& ctx, const std::string& name, const std::string& private_port) {
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  auto id = cs->resolve(name);
  if (!id) return ctx.fail(id.error());
  auto v = engine::view_container(*cs, *id);
  if (!v) return ctx.fail(v.error());
  nlohmann::json bindings = engine::published_ports_json(*cs, v->record, v->running());
  if (!private_port.empty()) {
    std::string key = private_port.find('/') == std::string::npos ? private_port + "/tcp" : private_port;
    if (bindings.is_object() && bindings.contains(key) && bindings[key].is_array() && !bindings[key].empty()) {
      for (const auto& b : bindings[key]) std::printf("%s\n", host_address(b).c_str());
      return;
    }
    return ctx.fail("No public port '" + key + "' published for " + name);
  }
  if (!bindings.is_object()) return;
  for (const auto& [key, list] : bindings.items()) {
    if (!list.is_array()) continue;
    for (const auto& b : list) std::printf("%s -> %s\n", key.c_str(), host_address(b).c_str());
  }
}

}  // namespace

void register_port_command(CLI::App& app, Context& ctx) {
  static std::string name, private_port;
  for (auto* c : {app.add_subcommand("port", "List port mappings of a container"),
                  app.get_subcommand("container")->add_subcommand("port", "List port mappings of a container")}) {
    c->add_option("CONTAINER", name)->required();
    c->add_option("PRIVATE_PORT", private_port, "PRIVATE_PORT[/PROTO]");
    c->callback([&ctx] { port(ctx, name, private_port); });
  }
}

}  // namespace guise::cli
