#include "procview/trees.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "procview/files.h"
#include "procview/wire.h"

namespace guise::procview {

namespace {

Result<std::vector<sys::Fd>> clone_at(int dirfd, const std::string& prefix) {
  std::vector<sys::Fd> out;
  for (const auto& e : kFiles) {
    std::string path = prefix + e.name;
    sys::Fd t(::open_tree(dirfd, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!t.valid()) return sys::sys_error("bind the /proc view's file", e.name);
    out.push_back(std::move(t));
  }
  return out;
}

// In the helper: a private copy of the mount table, gone when the helper ends, with
// the view attached on /tmp only there.
[[noreturn]] void clone_in_private_namespace(int mnt, int reply) {
  auto fail = [reply](const std::string& why) {
    (void)send_message(reply, "error " + why);
    ::_exit(1);
  };
  if (::unshare(CLONE_NEWNS) < 0) fail("unshare a mount namespace");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) fail("make / private");
  if (::move_mount(mnt, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0) fail("attach the view");
  auto trees = clone_at(AT_FDCWD, "/tmp/");
  if (!trees.ok()) fail(trees.error().message());
  std::vector<int> fds;
  for (const auto& t : trees.value()) fds.push_back(t.get());
  ::_exit(send_message(reply, "trees", fds).ok() ? 0 : 1);
}

}  // namespace

Result<sys::Fd> mount_fuse(int fuse) {
  sys::Fd fs(::fsopen("fuse", FSOPEN_CLOEXEC));
  if (!fs.valid()) return sys::sys_error("open filesystem type fuse");
  std::string fd_text = std::to_string(fuse);
  auto set = [&](const char* key, const char* value) -> Result<void> {
    int r = value ? ::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value, 0)
                  : ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, key, nullptr, 0);
    if (r < 0) return sys::sys_error(std::string("fuse option ") + key);
    return Ok();
  };
  GUISE_TRY(set("source", "guise-procview"));
  GUISE_TRY(set("fd", fd_text.c_str()));
  GUISE_TRY(set("rootmode", "40555"));
  GUISE_TRY(set("user_id", "0"));
  GUISE_TRY(set("group_id", "0"));
  GUISE_TRY(set("allow_other", nullptr));          // the container's users are not the mounter
  GUISE_TRY(set("default_permissions", nullptr));  // the kernel checks the modes
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return sys::sys_error("create fuse mount");
  sys::Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC,
                        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mnt.valid()) return sys::sys_error("fsmount fuse");
  return mnt;
}

Result<std::vector<sys::Fd>> file_trees(int mnt) {
  auto direct = clone_at(mnt, "");
  if (direct.ok() || direct.error().errnum != EINVAL) return direct;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return sys::sys_error("socketpair");
  sys::Fd mine(sv[0]), theirs(sv[1]);
  pid_t helper = ::fork();
  if (helper < 0) return sys::sys_error("fork");
  if (helper == 0) {
    mine.reset();
    clone_in_private_namespace(mnt, theirs.get());
  }
  theirs.reset();
  auto m = recv_message(mine.get());
  int status = 0;
  ::waitpid(helper, &status, 0);
  if (!m.ok()) return std::move(m.error());
  if (m->text.rfind("error ", 0) == 0) return sys::user_error("/proc view: " + m->text.substr(6));
  if (m->fds.size() != std::size(kFiles)) return sys::user_error("/proc view: the helper sent no binds");
  return std::move(m->fds);
}

}  // namespace guise::procview
