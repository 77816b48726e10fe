// Host ports for published container ports. No process holds a published port (DNAT
// carries the traffic), so whether a port is free is asked of the kernel by binding it
// for a moment, and who holds a taken one is read from /proc/net and /proc/PID/fd.
#pragma once

#include <cstdint>
#include <string>

#include "sys/result.h"

namespace guise::network {

// Ok when `host_ip` ("" = every address) port `port`/`protocol` can be bound now; else an
// error of kind kAlreadyExists: "host port 8080/tcp is already in use by nc (pid 4242)".
Result<void> check_host_port_free(const std::string& protocol, const std::string& host_ip, uint16_t port);

// An unused port the kernel picks from its ephemeral range (as docker's -P does).
Result<uint16_t> pick_free_host_port(const std::string& protocol, const std::string& host_ip);

// "nc (pid 4242)" for the process with a socket bound to `port`/`protocol`, "" if unknown.
std::string port_holder(const std::string& protocol, uint16_t port);

}  // namespace guise::network
