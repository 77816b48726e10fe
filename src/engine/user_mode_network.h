// Networks that need no privilege on the host: pasta (Debian's passt) and slirp4netns
// give a container's namespace a tap device whose traffic they carry through ordinary
// sockets of the user, published ports included. A rootless container's default; root
// may ask for them too (--network pasta, as podman takes it).
//
// The container's namespace is pinned to a file under the store (STORE/user-netns/ID),
// made before the monitor starts so the helper can configure it before the container
// runs; removing the pin at the container's stop ends pasta (it watches the file) and
// slirp4netns (killed by pid, as pasta is too, so that its ports are free on return).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "network/container_network.h"
#include "sys/result.h"

namespace guise::engine {

bool is_user_mode_network(const std::string& mode);

// pasta when installed, else slirp4netns; "" when neither is.
std::string default_user_mode_network();

// Why a user-mode network cannot run here ("" when it can): the helper missing, or
// /dev/net/tun not usable by the caller. Names the fix.
std::string user_mode_network_problem(const std::string& mode);

std::string user_mode_netns_path(const std::string& store_root, const std::string& id);

// The host's resolv.conf as a container of a user-mode network needs it: where every
// nameserver is on the host's loopback (systemd-resolved's 127.0.0.53), which is not the
// container's, the helper's DNS address instead: pasta forwards 169.254.1.1 to the host's
// first resolver (--dns-forward), slirp4netns answers at 10.0.2.3.
std::string user_mode_resolv_conf(const std::string& mode, const std::string& host_resolv_conf);

// pasta's command line for a namespace and its published ports.
std::vector<std::string> pasta_command(const std::string& netns_path, const std::vector<network::PortRequest>& ports);

// Pins a new namespace for the container and starts the helper on it, configured, with
// the ports published; undone on failure.
Result<void> start_user_mode_network(const std::string& mode, const std::string& store_root, const std::string& id,
                                     const std::vector<network::PortRequest>& ports);

// The helper ends and the pin goes; nothing when there is none. With `only_netns_inode`
// (a monitor's exit command), only the pin of that inode: a start that came in between
// keeps its own.
Result<void> stop_user_mode_network(const std::string& store_root, const std::string& id,
                                    uint64_t only_netns_inode = 0);

}  // namespace guise::engine
