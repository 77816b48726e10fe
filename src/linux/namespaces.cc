#include "linux/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "sys/syscalls.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace guise::linux {

using oci::NamespaceType;

uint64_t clone_flag(NamespaceType t) {
  switch (t) {
    case NamespaceType::kPid: return CLONE_NEWPID;
    case NamespaceType::kNetwork: return CLONE_NEWNET;
    case NamespaceType::kMount: return CLONE_NEWNS;
    case NamespaceType::kIpc: return CLONE_NEWIPC;
    case NamespaceType::kUts: return CLONE_NEWUTS;
    case NamespaceType::kUser: return CLONE_NEWUSER;
    case NamespaceType::kCgroup: return CLONE_NEWCGROUP;
    case NamespaceType::kTime: return CLONE_NEWTIME;
  }
  return 0;
}

Result<void> check_namespace_plan(const NamespacePlan& plan, const oci::Spec& spec) {
  bool joins_user = !plan.new_user && spec.find_namespace(NamespaceType::kUser) != nullptr;
  bool joins_mount = !plan.new_mount && spec.find_namespace(NamespaceType::kMount) != nullptr;
  // The rootfs is mounted where the container's user namespace has no say: the runtime's
  // mount namespace, or one joined that a new user namespace cannot own.
  if ((plan.new_user && !plan.new_mount) || (joins_user && !plan.new_mount && !joins_mount))
    return sys::user_error(
        "config.json: linux.namespaces: a user namespace needs a mount namespace it may mount in: a new one, "
        "or one joined together with the user namespace that owns it");
  if ((joins_user || plan.late_user) && (plan.clone_flags & CLONE_NEWPID))
    return sys::user_error(
        "config.json: linux.namespaces: a new pid namespace together with a joined user namespace, or with a "
        "new user namespace and a joined namespace, is not supported: the pid namespace would belong to the "
        "host's user namespace and /proc could not be mounted");
  return Ok();
}

NamespacePlan plan_namespaces(const oci::Spec& spec) {
  NamespacePlan plan;
  if (!spec.linux) return plan;
  bool joins_other = false;
  for (const auto& ns : spec.linux->namespaces) {
    bool is_new = ns.path.empty();
    switch (ns.type) {
      case NamespaceType::kPid:
        if (is_new) plan.clone_flags |= CLONE_NEWPID;
        else plan.join_pid = ns.path;
        break;
      case NamespaceType::kTime:
        if (is_new) plan.new_time = true;
        else plan.join_time = ns.path;
        break;
      case NamespaceType::kCgroup:
        if (is_new) plan.new_cgroup = true;
        else plan.child_joins.push_back({ns.type, ns.path});
        break;
      case NamespaceType::kUser:
        if (is_new) plan.new_user = true;
        else plan.child_joins.insert(plan.child_joins.begin(), {ns.type, ns.path});
        break;
      default:
        if (ns.type == NamespaceType::kMount && is_new) plan.new_mount = true;
        if (is_new) plan.late_flags |= clone_flag(ns.type);
        else {
          plan.child_joins.push_back({ns.type, ns.path});
          joins_other = true;
        }
    }
  }
  bool joins_user = !plan.new_user && spec.find_namespace(NamespaceType::kUser) != nullptr;
  if (joins_user) {
    // The joined user namespace must own every namespace made for the container, so
    // the child joins it first and only then unshares the rest.
  } else if (plan.new_user && joins_other) {
    plan.late_user = true;  // join first, then unshare user, then the rest
  } else {
    // clone3 makes only what must exist at birth (the pid namespace, and a user
    // namespace to own it); the child unshares the rest, owned by that user namespace,
    // while the runtime works on the cgroup. A network namespace alone is half a
    // millisecond of clone3 here, and a mount namespace copies the host's mount table.
    plan.clone_flags |= plan.new_user ? CLONE_NEWUSER : 0;
  }
  return plan;
}

static Result<void> setns_path(const std::string& path, int nstype, const char* what) {
  sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys::sys_error(std::string("open ") + what + " namespace", path);
  if (::setns(fd.get(), nstype) < 0) return sys::sys_error(std::string("join ") + what + " namespace", path);
  return Ok();
}

Result<ChildNamespaceScope> ChildNamespaceScope::enter(const NamespacePlan& plan, const oci::Spec& spec) {
  ChildNamespaceScope scope;
  if (!plan.join_pid.empty()) {
    scope.own_pid_.reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    GUISE_TRY(setns_path(plan.join_pid, CLONE_NEWPID, "pid"), "linux.namespaces");
  }
  if (!plan.join_time.empty() || plan.new_time) {
    scope.own_time_.reset(::open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC));
    if (!plan.join_time.empty()) {
      GUISE_TRY(setns_path(plan.join_time, CLONE_NEWTIME, "time"), "linux.namespaces");
    } else {
      // Offsets can only be written before any process enters the namespace, so it is
      // made for the parent's children and the offsets set before the clone.
      if (::unshare(CLONE_NEWTIME) < 0) return sys::sys_error("unshare time namespace");
      std::string offsets;
      for (const auto& [clock, off] : spec.linux->time_offsets)
        offsets += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
      if (!offsets.empty())
        GUISE_TRY(sys::write_file("/proc/self/timens_offsets", offsets), "linux.timeOffsets");
    }
  }
  return scope;
}

Result<ChildNamespaceScope> ChildNamespaceScope::join_process(int pidfd, uint64_t flags) {
  ChildNamespaceScope scope;
  if (flags & CLONE_NEWPID) scope.own_pid_.reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
  if (flags & CLONE_NEWTIME) scope.own_time_.reset(::open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC));
  uint64_t f = flags & (CLONE_NEWPID | CLONE_NEWTIME);
  if (f && ::setns(pidfd, static_cast<int>(f)) < 0) return sys::sys_error("join the container's pid namespace");
  return scope;
}

ChildNamespaceScope::~ChildNamespaceScope() {
  if (own_pid_.valid()) (void)::setns(own_pid_.get(), CLONE_NEWPID);
  if (own_time_.valid()) (void)::setns(own_time_.get(), CLONE_NEWTIME);
}

Result<void> join_namespaces(const std::vector<Join>& joins) {
  for (const auto& j : joins)
    GUISE_TRY(setns_path(j.path, static_cast<int>(clone_flag(j.type)), oci::namespace_type_name(j.type)),
              "linux.namespaces");
  return Ok();
}

}  // namespace guise::linux
