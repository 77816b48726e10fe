// The host's device nodes as OCI devices: what SpecContext::device_info and
// SpecContext::host_devices take (--device, --device-*-bps/iops, --privileged).
#pragma once

#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::engine {

// One device node; a path that is not a character or block device is an error naming it
// with docker's words: error gathering device information while adding custom device "PATH": not a device node
Result<oci::Device> host_device(const std::string& path);

// Every device node under /dev, as moby's HostDevices walks it: /dev/pts, /dev/shm,
// /dev/mqueue, /dev/fd and /dev/console are left out (the container has its own).
std::vector<oci::Device> host_devices(const std::string& dev = "/dev");

}  // namespace guise::engine
