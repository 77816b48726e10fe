// The CLI's side of container networking: the network layer of the store the CLI works
// on, a container's network made before its monitor starts (and undone if it does not),
// torn down when it stops and released when it is removed, and each network's DNS
// responder started on demand.
#pragma once

#include <functional>
#include <string>

#include "cli/guise/context.h"
#include "engine/container_store.h"
#include "network/container_network.h"

namespace CLI {
class App;
}

namespace guise::cli {

Result<network::NetworkLayer> open_network_layer(const engine::ContainerStore& cs);

// The container's network (bridge or a user network: namespace, veth, address, ports,
// /etc/hosts and /etc/resolv.conf), then its monitor; the network is undone when the
// monitor does not start.
Result<void> start_container(engine::ContainerStore& cs, const std::string& id,
                             const std::function<void()>& on_listening = {});

// The container stopped (the monitor's exit command): its namespace, veths and ports go.
// With `only_netns_inode` (the exit command's), only if the container has not been started
// again since.
Result<void> teardown_container_network(const engine::ContainerStore& cs, const std::string& id,
                                        uint64_t only_netns_inode = 0);
// The inode of the container's pinned network namespace now, 0 when it has none: what a
// later teardown_container_network is limited to, so that it never undoes a start that
// came in between.
uint64_t container_netns_inode(const engine::ContainerStore& cs, const std::string& id);
// The container is being removed: teardown, and its address leases go too.
Result<void> release_container_network(const engine::ContainerStore& cs, const std::string& id,
                                       uint64_t only_netns_inode = 0);

// The monitor's exit command for a container: `guise --root STORE container cleanup ID`.
std::vector<std::string> cleanup_command(const std::string& store_root, const std::string& id);

void register_network_commands(CLI::App& app, Context& ctx);

// `guise network dns-serve ID`: the network's DNS responder, in the foreground; says
// "ready" on stdout once it listens, and returns once the network has no running
// container left.
Result<void> serve_network_dns(Context& ctx, const std::string& network_id);

}  // namespace guise::cli
