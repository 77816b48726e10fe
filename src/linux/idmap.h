// User namespace id maps: the one writer of /proc/PID/uid_map and gid_map (a container's
// init, a holder process for an idmapped mount), and idmapped bind mounts, whose tree is
// cloned and idmapped by the privileged runtime before the container's init exists, so
// the init only attaches it and the container never needs rights over host mounts.
#pragma once

#include <sys/types.h>

#include <vector>

#include "oci/spec.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

// Writes the maps of process `pid`'s user namespace. Privileged (root in the initial
// user namespace): written directly, and setgroups stays allowed, which
// additionalGids needs. Otherwise directly where each map is the caller's own id
// alone, and through the setuid helpers newuidmap/newgidmap for anything wider.
// Errors name the field: field_prefix + "uidMappings" / "gidMappings".
Result<void> write_id_mappings(pid_t pid, const std::vector<oci::IdMapping>& uids,
                               const std::vector<oci::IdMapping>& gids, const std::string& field_prefix = "linux.");
inline Result<void> write_id_mappings(pid_t pid, const oci::Linux& linux) {
  return write_id_mappings(pid, linux.uid_mappings, linux.gid_mappings);
}

// A user namespace holding exactly these mappings, as an fd (its holder process is gone).
Result<sys::Fd> make_userns_fd(const std::vector<oci::IdMapping>& uids, const std::vector<oci::IdMapping>& gids);

// open_tree(source) + mount_setattr(MOUNT_ATTR_IDMAP): a detached, idmapped tree.
Result<sys::Fd> make_idmapped_tree(const std::string& source, bool recursive, const std::vector<oci::IdMapping>& uids,
                                   const std::vector<oci::IdMapping>& gids);

}  // namespace guise::linux
