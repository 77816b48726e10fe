// Network namespaces pinned to a file (as `ip netns add` and podman do): a container's
// namespace is made and wired before its process exists, reaches the runtime as a path
// in the spec, and outlives restarts of the process until it is unpinned.
#pragma once

#include <string>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::network {

// A new, empty network namespace pinned at `path` (made; it must not exist). `path`'s
// directory is made a shared mount of itself first, so that an unpin reaches copies of
// the mount that other mount namespaces made meanwhile and the namespace really ends.
Result<void> create_pinned_netns(const std::string& path);
// Unmounts and removes `path`; absent is not an error. The namespace ends, and its veth
// ends with it, once no process is left in it. The last pin removed, the directory's own
// mount is undone.
Result<void> remove_pinned_netns(const std::string& path);
// An fd of the pinned namespace, for setns and IFLA_NET_NS_FD.
Result<sys::Fd> open_netns(const std::string& path);

}  // namespace guise::network
