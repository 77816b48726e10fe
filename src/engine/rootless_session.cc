#include "engine/rootless_session.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "engine/container.h"
#include "engine/subid.h"
#include "linux/idmap.h"
#include "linux/userns.h"
#include "sys/fd.h"
#include "sys/file_lock.h"
#include "sys/syscalls.h"

namespace guise::engine {

namespace {

constexpr const char* kPauseName = "guise-pause";

std::string pid_file(const std::string& run_dir) { return run_dir + "/pause.pid"; }

bool write_all(int fd, char c) { return ::write(fd, &c, 1) == 1; }
bool read_one(int fd, char& c) {
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// The pause process itself: makes the namespaces, then waits to be told to end. Every
// descriptor it inherited is closed, or a caller reading our output to its end (a test's
// pipe, `$(guise ...)`) would wait for it forever.
[[noreturn]] void pause_child(int from_parent, int to_parent) {
  auto fail = [&](char code) {
    int e = errno;
    (void)!::write(to_parent, &code, 1);
    (void)!::write(to_parent, &e, sizeof e);
    ::_exit(1);
  };
  if (::unshare(CLONE_NEWUSER) < 0) fail('U');
  if (!write_all(to_parent, 'u')) ::_exit(1);
  char c = 0;
  if (!read_one(from_parent, c) || c != 'm') ::_exit(1);  // the maps were not written
  if (::unshare(CLONE_NEWNS) < 0) fail('N');
  // Mounts made here (the containers' overlays) stay here; the host's still show.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) fail('S');
  ::setsid();
  (void)!::chdir("/");
  ::prctl(PR_SET_NAME, kPauseName);
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  if (!write_all(to_parent, 'n')) ::_exit(1);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; ++fd) ::dup3(null, fd, 0);
  ::syscall(SYS_close_range, 3, ~0U, 0);
  int sig = 0;
  ::sigwait(&set, &sig);
  ::_exit(0);
}

Result<void> join(pid_t pid) {
  std::string proc = "/proc/" + std::to_string(pid) + "/ns/";
  sys::Fd user(::open((proc + "user").c_str(), O_RDONLY | O_CLOEXEC));
  sys::Fd mnt(::open((proc + "mnt").c_str(), O_RDONLY | O_CLOEXEC));
  if (!user.valid() || !mnt.valid()) return sys::sys_error("open the namespaces of guise-pause", proc);
  char cwd[PATH_MAX];
  bool have_cwd = ::getcwd(cwd, sizeof cwd) != nullptr;
  if (::setns(user.get(), CLONE_NEWUSER) < 0) return sys::sys_error("join the rootless user namespace", proc + "user");
  if (::setns(mnt.get(), CLONE_NEWNS) < 0) return sys::sys_error("join the rootless mount namespace", proc + "mnt");
  if (!have_cwd || ::chdir(cwd) < 0) (void)!::chdir("/");
  return Ok();
}

Result<pid_t> start_pause() {
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  auto uids = read_subids("/etc/subuid", uid), gids = read_subids("/etc/subgid", uid);
  if (uids.empty() || gids.empty()) {
    std::string file = uids.empty() ? "/etc/subuid" : "/etc/subgid";
    const passwd* pw = ::getpwuid(uid);
    std::string name = pw ? pw->pw_name : std::to_string(uid);
    return sys::user_error("rootless: " + file + " has no range for user " + name + " (uid " + std::to_string(uid) +
                           "); as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + name);
  }
  int down[2], up[2];
  if (::pipe2(down, O_CLOEXEC) < 0 || ::pipe2(up, O_CLOEXEC) < 0) return sys::sys_error("pipe");
  sys::Fd down_r(down[0]), down_w(down[1]), up_r(up[0]), up_w(up[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys::sys_error("fork guise-pause");
  if (pid == 0) pause_child(down_r.get(), up_w.get());
  up_w.reset();
  down_r.reset();
  auto child_error = [&](char code) -> Error {
    int e = 0;
    (void)!::read(up_r.get(), &e, sizeof e);
    ::waitpid(pid, nullptr, 0);
    const char* what = code == 'U' ? "make a user namespace" : code == 'N' ? "make a mount namespace"
                                                                           : "make the mounts private";
    Error err = sys::sys_error_n(e, std::string("rootless: ") + what);
    if (code == 'U') err.op += " (user namespaces may be off: see `guise doctor`)";
    return err;
  };
  char c = 0;
  if (!read_one(up_r.get(), c) || c != 'u') {
    if (c == 'U') return child_error(c);
    ::waitpid(pid, nullptr, 0);
    return sys::user_error("rootless: guise-pause ended before its user namespace was made");
  }
  auto mapped = linux::write_id_mappings(pid, rootless_id_map(uid, uids), rootless_id_map(gid, gids), "rootless ");
  if (!mapped) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return mapped.error();
  }
  c = 0;
  if (!write_all(down_w.get(), 'm') || !read_one(up_r.get(), c) || c != 'n') {
    if (c == 'N' || c == 'S') return child_error(c);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return sys::user_error("rootless: guise-pause ended before its mount namespace was made");
  }
  return pid;
}

}  // namespace

bool needs_rootless_namespaces() { return ::geteuid() != 0; }

Result<std::string> rootless_run_dir() {
  // One place per user whatever the session: a cron job without XDG_RUNTIME_DIR must find
  // the pause process a desktop session started (else it would start a second namespace,
  // where the first one's containers are not mounted). logind's /run/user/UID first.
  std::string uid = std::to_string(::getuid());
  std::string logind = "/run/user/" + uid;
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  struct stat home {};
  std::string base;
  if (::stat(logind.c_str(), &home) == 0 && home.st_uid == ::getuid() && ::access(logind.c_str(), W_OK) == 0)
    base = logind;
  else if (xdg && *xdg == '/' && ::access(xdg, W_OK) == 0)
    base = xdg;
  std::string dir = base.empty() ? "/tmp/guise-" + uid : base + "/guise";
  if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error("mkdir", dir);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) < 0) return sys::sys_error("stat", dir);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 077))
    return sys::user_error("rootless: " + dir + " is not a directory of uid " + std::to_string(::getuid()) +
                           " only it can write; remove it or set XDG_RUNTIME_DIR");
  return dir;
}

pid_t running_pause_pid(const std::string& run_dir) {
  auto text = sys::read_file(pid_file(run_dir));
  if (!text) return 0;
  pid_t pid = static_cast<pid_t>(std::atoi(text->c_str()));
  if (pid <= 0) return 0;
  std::string proc = "/proc/" + std::to_string(pid);
  auto comm = sys::read_file(proc + "/comm");
  struct stat st {};
  if (!comm || *comm != std::string(kPauseName) + "\n" || ::stat(proc.c_str(), &st) < 0 || st.st_uid != ::getuid())
    return 0;
  return pid;
}

Result<void> enter_rootless_namespaces() {
  std::string dir = GUISE_TRY(rootless_run_dir());
  // Two commands at once must not make two pause processes.
  auto lock = GUISE_TRY(sys::FileLock::acquire(dir + "/pause.lock"));
  pid_t pid = running_pause_pid(dir);
  if (pid == 0) {
    pid = GUISE_TRY(start_pause());
    auto written = write_file_atomic(pid_file(dir), std::to_string(pid) + "\n", Sync::kVolatile);
    if (!written) {
      ::kill(pid, SIGKILL);  // no later command could find it
      return written.error();
    }
  }
  GUISE_TRY(join(pid));
  linux::mark_rootless_session();
  return Ok();
}

Result<bool> stop_pause_process(const std::string& run_dir) {
  // Under the lock a command holds while it starts or joins guise-pause: none starts a new
  // one whose pid file this would then remove.
  auto lock = GUISE_TRY(sys::FileLock::acquire(run_dir + "/pause.lock"));
  pid_t pid = running_pause_pid(run_dir);
  if (pid == 0) {
    ::unlink(pid_file(run_dir).c_str());  // stale, if any
    return false;
  }
  // Signalled through a pidfd opened and then checked again: never another process that
  // was given the pid meanwhile. Waited for through it too (a zombie counts as gone).
  auto pidfd = GUISE_TRY(sys::pidfd_open(pid), "guise-pause");
  if (running_pause_pid(run_dir) != pid) return false;
  for (int sig : {SIGTERM, SIGKILL}) {
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) < 0 && errno != ESRCH)
      return sys::sys_error("signal guise-pause");
    pollfd w{pidfd.get(), POLLIN, 0};
    if (::poll(&w, 1, 2000) > 0) break;
  }
  ::unlink(pid_file(run_dir).c_str());
  return true;
}

}  // namespace guise::engine
