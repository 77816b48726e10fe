// Pure translation of config.json mounts into steps the child applies with the
// new mount API (STYLE rule 7). Unit-tested without root.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

struct MountStep {
  std::string destination;  // absolute, inside the container
  std::string source;
  std::string fstype;       // "" for a bind mount
  bool bind = false;
  bool recursive = false;   // rbind
  uint64_t attr_set = 0;    // MOUNT_ATTR_* on the mount itself
  uint64_t attr_clr = 0;
  uint64_t rattr_set = 0;   // MOUNT_ATTR_* applied recursively (rro, rnosuid, ...)
  uint64_t rattr_clr = 0;
  uint64_t propagation = 0; // MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE, or 0
  bool propagation_recursive = false;
  // Filesystem parameters for fsconfig(2): key and value ("" value: a flag such as "newinstance").
  std::vector<std::pair<std::string, std::string>> fs_params;
  std::vector<oci::IdMapping> uid_mappings, gid_mappings;  // idmapped bind mount
  int premade_tree = -1;  // an idmapped tree the runtime made before the clone (owned by InitConfig)
  // Filesystem options given to a bind mount, which the kernel ignores there (as runc
  // passes them): left out, and named in a debug line.
  std::vector<std::string> ignored_options;
  // "ro" on a tmpfs or on /dev waits until the mountpoints and device nodes inside are
  // made (readonly_later), as runc remounts them at the end.
  bool readonly_later = false;
};

// A mount option that is not a flag is a filesystem parameter: "size=64m" -> {"size", "64m"}.
Result<MountStep> plan_mount(const oci::Mount& m, size_t index);
Result<std::vector<MountStep>> plan_mounts(const std::vector<oci::Mount>& mounts);

// MS_* propagation flags for rootfsPropagation / a propagation option; 0 for "".
Result<uint64_t> propagation_flags(const std::string& name, bool* recursive);

}  // namespace guise::linux
