// A container without a mount namespace of its own (none in linux.namespaces, or one
// joined by path) builds its root where others see it: in a private bind of the rootfs
// onto itself, which takes every mount of its config and which it chroots into (a
// pivot_root would move every other process of that namespace along with it). The
// runtime detaches that bind when the container is deleted or its create fails, so
// nothing of the container outlives it in a mount namespace that is not its own.
#pragma once

#include <cstdint>
#include <string>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

// linux.namespaces has a mount namespace made for the container (no path).
bool has_own_mount_namespace(const oci::Spec& spec);

// What a container without a mount namespace of its own may ask: no masked or
// read-only paths without any mount namespace (runc's rule), and in a joined one no
// capability that leaves a chroot (CAP_SYS_CHROOT, CAP_SYS_ADMIN) in the bounding set.
Result<void> check_shared_root(const oci::Spec& spec);

// The id of the mount `fd` is on: the kernel's unique one where it has it (6.8), else
// the one mountinfo shows. Either is compared only with one taken on the same boot.
Result<uint64_t> mount_id_of(int fd);

// The runtime's side: in the mount namespace at `ns_path` ("" for the caller's own),
// detaches the mount at `rootfs` when it is still mount `id`.
Result<void> detach_shared_root(const std::string& ns_path, const std::string& rootfs, uint64_t id);

}  // namespace guise::linux
