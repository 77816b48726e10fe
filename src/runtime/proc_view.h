// The cgroup-true /proc view (README "The /proc view"), asked for by the annotation
// org.guise.proc-view=cgroup: guise-procview serves /proc/meminfo and its kin from the
// container's cgroup, the init binds them over the real files, and sysinfo(2) goes to
// the same server by a seccomp notify rule. The view never decides whether a container
// starts: where it cannot be had, a warning says why and the real files stay.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cgroups/cgroup.h"
#include "linux/mount_plan.h"
#include "oci/spec.h"
#include "procview/launch.h"
#include "sys/result.h"

namespace guise::runtime {

inline constexpr const char* kProcViewAnnotation = "org.guise.proc-view";
// "host": sysinfo(2) keeps the kernel's answer, and no filter is added for it.
inline constexpr const char* kProcViewSysinfoAnnotation = "org.guise.proc-view.sysinfo";

// Whether the config asks for the view; an annotation value other than cgroup or host
// is an error naming it.
Result<bool> wants_proc_view(const oci::Spec& spec);

// Whether sysinfo can be routed to the view: the config has no seccomp agent of its own
// and lets sysinfo through unconditionally. `why` says why not.
bool sysinfo_routable(const oci::Spec& spec, std::string* why);
// Routes it: the notify rule (a filter that allows all else when the config had none),
// the listener path.
void route_sysinfo(oci::Spec& spec, const std::string& listener);

// The binds of the view's files over their destinations, for the mounts the config
// makes (/proc for the /proc files, /sys for cpu/online).
std::vector<linux::MountStep> view_mounts(const oci::Spec& spec, const procview::Launched& view);

// Starts the view for a container about to be made, adjusting its spec; nullopt (with
// a warning) where it cannot.
std::optional<procview::Launched> start_proc_view(oci::Spec& spec, const cgroups::Cgroup& cgroup,
                                                  const std::string& state_dir);

// `exec` of a process into a container with the view: its filter routes sysinfo to the
// same server, where the view still listens (its watcher keeps the socket).
void route_exec_sysinfo(oci::Spec& spec, const std::string& state_dir);

// `delete`: the listener socket, should the watcher not have removed it.
void remove_proc_view(const std::string& state_dir);

}  // namespace guise::runtime
