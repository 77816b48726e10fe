#include "linux/idmap.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/syscalls.h"

namespace guise::linux {

namespace {
std::string format(const std::vector<oci::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  return out;
}
}  // namespace

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
  hold_read.reset();
  auto reap = [&] {
    hold_write.reset();
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  };
  std::string proc = "/proc/" + std::to_string(pid);
  auto uid = sys::write_file(proc + "/uid_map", format(uids));
  auto gid = uid.ok() ? sys::write_file(proc + "/gid_map", format(gids)) : Result<void>(uid.error());
  sys::Fd ns(::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  int open_errno = errno;
  reap();
  if (!uid.ok()) return std::move(uid.error()).with_context("uidMappings");
  if (!gid.ok()) return std::move(gid.error()).with_context("gidMappings");
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
