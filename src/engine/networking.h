// The engine's side of container networking: which containers get a namespace of their
// own wired to networks (bridge and user networks), the network layer's configuration
// for a store, the request a container record makes, and the /etc/hosts and
// /etc/resolv.conf a container sees.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/container_store.h"
#include "network/container_network.h"
#include "sys/result.h"

namespace guise::engine {

// bridge or a user network's name: a namespace the network layer makes and wires to a
// network. Not none: the runtime makes that namespace itself, loopback up, as crun does,
// so a --network none container costs no pinned namespace and no cleanup at its exit.
// Nor pasta or slirp4netns (user_mode_network.h).
bool uses_network_layer(const std::string& network_mode);
// Either that or a user-mode network: something to undo when the container stops.
bool has_network_to_undo(const std::string& network_mode);

// The network layer of a store. The default store (/var/lib/guise) has bridges guise0,
// guise1, ... and table inet guise; any other store names both after a hash of its path
// (gXXXX-0, table guise-XXXX), so a second store (a test's) never takes the first's.
// `start_dns` starts a network's DNS responder (null: none).
network::NetworkLayerConfig network_layer_config(
    const ContainerStore& cs,
    std::function<Result<void>(const network::NetworkRecord&, const std::string&)> start_dns);

// What the container's record asks of the network layer: its network, --ip, aliases,
// --mac-address and every -p (and -P: each exposed port on a port the kernel picks).
Result<network::ContainerNetworkRequest> network_request(const ContainerRecord& rec);

// /etc/hosts: docker's defaults, --add-host entries (host-gateway = the network's
// gateway), and the container's own address with its hostname (127.0.1.1 with none).
std::string hosts_text(const std::string& hostname, const std::vector<network::Attached>& attached,
                       const std::vector<std::string>& extra_hosts);

// /etc/resolv.conf from the host's: --dns/--dns-search/--dns-option replace its lines;
// a network's DNS responder (user networks, or any bridge network where the host's
// nameservers are all on its loopback) is the nameserver instead.
std::string resolv_conf_text(const std::string& host_resolv_conf, const std::vector<network::Attached>& attached,
                             const std::vector<std::string>& dns, const std::vector<std::string>& dns_search,
                             const std::vector<std::string>& dns_options);

// Whether a network's containers need its responder: names to resolve, or host
// nameservers that only the host's loopback reaches.
bool needs_dns_responder(const network::NetworkRecord& n, const std::string& host_resolv_conf);

// docker inspect's NetworkSettings: each network's endpoint (address, gateway, MAC,
// aliases), the published ports while the container runs, and the namespace's path.
nlohmann::json network_settings_json(const ContainerStore& cs, const ContainerRecord& rec, bool running);

// The published ports now, docker's shape: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]};
// every exposed port is a key, null when not published.
nlohmann::json published_ports_json(const ContainerStore& cs, const ContainerRecord& rec, bool running);

}  // namespace guise::engine
