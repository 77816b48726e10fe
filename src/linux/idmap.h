// Idmapped bind mounts (mounts[].uidMappings/gidMappings): the tree is cloned and
// idmapped by the privileged runtime before the container's init exists, and the
// init only attaches it, so the container never needs rights over host mounts.
#pragma once

#include <vector>

#include "oci/spec.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

// A user namespace holding exactly these mappings, as an fd (its holder process is gone).
Result<sys::Fd> make_userns_fd(const std::vector<oci::IdMapping>& uids, const std::vector<oci::IdMapping>& gids);

// open_tree(source) + mount_setattr(MOUNT_ATTR_IDMAP): a detached, idmapped tree.
Result<sys::Fd> make_idmapped_tree(const std::string& source, bool recursive, const std::vector<oci::IdMapping>& uids,
                                   const std::vector<oci::IdMapping>& gids);

}  // namespace guise::linux
