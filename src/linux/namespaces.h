// Which namespaces a container gets and how: created by clone3, joined by setns,
// or (when a user namespace must be made after joining others) unshared in stages.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

uint64_t clone_flag(oci::NamespaceType t);

struct Join {
  oci::NamespaceType type;
  std::string path;
};

struct NamespacePlan {
  uint64_t clone_flags = 0;     // made by clone3 itself
  std::vector<Join> child_joins;  // setns in the child, user first
  bool late_user = false;       // child unshares the user ns after joining (staged)
  uint64_t late_flags = 0;      // child unshares these (after joins, and the user ns)
  bool new_cgroup = false;      // unshared by the child once it is in its cgroup
  bool new_user = false;
  bool new_mount = false;
  std::string join_pid, join_time;  // set as the parent's pid/time_for_children
  bool new_time = false;
};

// Pure: spec -> plan. Staged when a namespace other than pid/time is joined while
// a new user namespace is wanted, so joined namespaces are entered while still privileged.
NamespacePlan plan_namespaces(const oci::Spec& spec);

// Refuses the combinations the plan cannot give the right owner to (see .cc).
Result<void> check_namespace_plan(const NamespacePlan& plan, const oci::Spec& spec);

// Parent side, around clone3: points the parent's pid/time_for_children at joined or
// new namespaces (writing timeOffsets), and restores them after the clone.
class ChildNamespaceScope {
 public:
  static Result<ChildNamespaceScope> enter(const NamespacePlan& plan, const oci::Spec& spec);
  // exec: the pid and time namespaces (of `flags`) of the process behind `pidfd`.
  static Result<ChildNamespaceScope> join_process(int pidfd, uint64_t flags);
  ChildNamespaceScope(ChildNamespaceScope&&) = default;
  ~ChildNamespaceScope();  // restores
 private:
  ChildNamespaceScope() = default;
  sys::Fd own_pid_, own_time_;
};

// Child side: setns into each joined namespace.
Result<void> join_namespaces(const std::vector<Join>& joins);

}  // namespace guise::linux
