#include "linux/idmap.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/userns.h"
#include "sys/child_process.h"
#include "sys/syscalls.h"

namespace guise::linux {

namespace {

std::string format(const std::vector<oci::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  return out;
}

bool own_id_only(const std::vector<oci::IdMapping>& maps, uint32_t own) {
  return maps.size() == 1 && maps[0].host_id == own && maps[0].size == 1;
}

// newuidmap/newgidmap: setuid helpers that check the ranges in /etc/subuid, /etc/subgid.
Result<void> run_map_helper(const char* helper, pid_t pid, const std::vector<oci::IdMapping>& maps, const char* field,
                            const char* subid_file) {
  std::vector<std::string> args = {helper, std::to_string(pid)};
  for (const auto& m : maps) {
    args.push_back(std::to_string(m.container_id));
    args.push_back(std::to_string(m.host_id));
    args.push_back(std::to_string(m.size));
  }
  sys::SpawnOptions o;
  o.search_path = true;
  sys::ChildProcess child = GUISE_TRY(sys::spawn(helper, args, o), field);
  int status = GUISE_TRY(child.wait(), field);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return sys::user_error(std::string(field) + ": mapping more than your own id needs " + helper +
                           " (Debian package uidmap) and ranges in " + subid_file);
  return sys::user_error(std::string(field) + ": " + helper + " refused the mapping (exit " +
                         std::to_string(sys::exit_code(status)) + "); check " + subid_file);
}

}  // namespace

Result<void> write_id_mappings(pid_t pid, const std::vector<oci::IdMapping>& uids,
                               const std::vector<oci::IdMapping>& gids, const std::string& field_prefix) {
  const std::string uid_field = field_prefix + "uidMappings", gid_field = field_prefix + "gidMappings";
  std::string proc = "/proc/" + std::to_string(pid);
  if (::geteuid() == 0 && !in_user_namespace()) {
    if (!uids.empty()) GUISE_TRY(sys::write_file(proc + "/uid_map", format(uids)), uid_field);
    if (!gids.empty()) GUISE_TRY(sys::write_file(proc + "/gid_map", format(gids)), gid_field);
    return Ok();
  }
  if (own_id_only(uids, ::geteuid()))
    GUISE_TRY(sys::write_file(proc + "/uid_map", format(uids)), uid_field);
  else
    GUISE_TRY(run_map_helper("newuidmap", pid, uids, uid_field.c_str(), "/etc/subuid"));
  if (own_id_only(gids, ::getegid())) {
    // Without privilege the kernel takes a gid map only once setgroups is denied.
    GUISE_TRY(sys::write_file(proc + "/setgroups", "deny"), gid_field);
    GUISE_TRY(sys::write_file(proc + "/gid_map", format(gids)), gid_field);
  } else {
    GUISE_TRY(run_map_helper("newgidmap", pid, gids, gid_field.c_str(), "/etc/subgid"));
  }
  return Ok();
}

Result<sys::Fd> make_userns_fd(const std::vector<oci::IdMapping>& uids, const std::vector<oci::IdMapping>& gids) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys::sys_error("pipe");
  sys::Fd hold_read(fds[0]), hold_write(fds[1]);
  sys::CloneArgs args;
  args.flags = CLONE_NEWUSER;
  pid_t pid = GUISE_TRY(sys::clone3(args), "making a user namespace for an idmapped mount");
  if (pid == 0) {
    // Holds the namespace open until the parent has written the maps and opened it.
    hold_write.reset();
    char c;
    (void)!::read(hold_read.get(), &c, 1);
    ::_exit(0);
  }
  sys::ChildProcess holder(pid, sys::Fd());  // killed and reaped on every way out
  hold_read.reset();
  std::string proc = "/proc/" + std::to_string(pid);
  auto mapped = write_id_mappings(pid, uids, gids, "");
  sys::Fd ns(::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  int open_errno = errno;
  hold_write.reset();  // lets the holder exit by itself
  (void)holder.wait();
  if (!mapped.ok()) return std::move(mapped.error());
  if (!ns.valid()) return sys::sys_error_n(open_errno, "open user namespace", proc + "/ns/user");
  return ns;
}

Result<sys::Fd> make_idmapped_tree(const std::string& source, bool recursive, const std::vector<oci::IdMapping>& uids,
                                   const std::vector<oci::IdMapping>& gids) {
  sys::Fd userns = GUISE_TRY(make_userns_fd(uids, gids));
  sys::Fd tree(::open_tree(AT_FDCWD, source.c_str(),
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0)));
  if (!tree.valid()) return sys::sys_error("bind", source);
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns.get());
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    return sys::sys_error("idmap mount of", source);
  return tree;
}

}  // namespace guise::linux
