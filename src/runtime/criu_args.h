// What criu is told about a container, planned from its config (pure, unit-tested):
// the command line of `criu dump` and `criu restore`, as runc 1.1 fills criu's
// options (libcontainer/container_linux.go Checkpoint/Restore).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "oci/spec.h"
#include "runtime/runtime.h"

namespace guise::runtime {

struct CriuPlan {
  CriuFlags flags;
  bool leave_running = false;  // dump
  std::string images, work;    // absolute directories
  std::string log_file;        // criu's -o, a name in `work`
  std::string root;            // the container's rootfs (dump), or a mount of it (restore)
  pid_t pid = 0;               // dump: the container's init
  std::string pid_file;        // restore: where criu writes the restored init's pid
  std::string freeze_cgroup;   // dump: the cgroup criu freezes the container with
  std::string config_file;     // criu's own configuration file, when one applies
  // Bind mounts from outside the container: mountpoint -> source ("--external mnt[K]:V").
  std::vector<std::pair<std::string, std::string>> external_mounts;
  std::vector<std::string> externals;                   // dump: "net[INODE]:extRootNetNS"
  std::vector<std::pair<int, std::string>> inherit_fds;  // restore: criu's fd -> what it stands for
  std::vector<std::pair<std::string, std::string>> join_ns;  // restore: criu's ns name -> path
  std::vector<std::string> cgroup_roots;                 // restore: "[controller:]/path"
};

std::vector<std::string> dump_args(const CriuPlan& p);
std::vector<std::string> restore_args(const CriuPlan& p);

// The bind mounts whose source is outside the container, and the device nodes (bind
// mounts from the host where a user namespace cannot make them): on dump each is
// named by its mountpoint, on restore it is found again at its source.
std::vector<std::pair<std::string, std::string>> external_mounts(const oci::Spec& spec, const std::string& bundle,
                                                                 bool restore);

// The key criu knows a namespace joined by path under (runc's: "extRootNetNS").
std::string external_ns_key(oci::NamespaceType t);
// criu's name for a namespace type ("net", "mnt", ...).
const char* criu_ns_name(oci::NamespaceType t);

// The file names of the init's fds 0-2 (readlink of /proc/PID/fd/N, "" where closed), as
// runc's descriptors.json holds them, and back.
std::string descriptors_json(const std::vector<std::string>& names);
Result<std::vector<std::string>> parse_descriptors(const std::string& text);

}  // namespace guise::runtime
