// guise-monitor --store ROOT --id ID --sync-fd N
// Started by the CLI; detaches (the CLI may die without taking it), then monitors the
// container ID of the store at ROOT (src/engine/monitor.h). One JSON line on fd N says
// how the start went: {"pid":N} or {"error":"..."}.
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/monitor.h"

namespace {

int usage() {
  std::fprintf(stderr, "usage: guise-monitor --store ROOT --id ID --sync-fd N\n");
  return 2;
}

void close_all_but(int keep) {
  if (keep > 3) ::syscall(SYS_close_range, 3, keep - 1, 0);
  ::syscall(SYS_close_range, keep + 1 > 3 ? keep + 1 : 3, ~0U, 0);
}

// What the CLI gave us that a container must not inherit: its signal mask and
// dispositions, its stdio, its other fds.
void clean_slate(int sync_fd) {
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
  int null = ::open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; ++fd)
    if (null >= 0 && fd != null) ::dup2(null, fd);
  if (null > 2) ::close(null);
  close_all_but(sync_fd);
  ::fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
}

}  // namespace

int main(int argc, char** argv) {
  guise::engine::MonitorArgs a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--store") a.store_root = argv[++i];
    else if (arg == "--id") a.id = argv[++i];
    else if (arg == "--sync-fd") a.sync_fd = std::atoi(argv[++i]);
    else return usage();
  }
  if (a.store_root.empty() || a.id.empty() || a.sync_fd < 0 || ::fcntl(a.sync_fd, F_GETFD) < 0) return usage();
  // A sync fd among 0-2 (the CLI passes its pipe as stdout) must survive stdio going to /dev/null.
  if (a.sync_fd < 3) {
    int moved = ::fcntl(a.sync_fd, F_DUPFD_CLOEXEC, 10);
    if (moved < 0) return usage();
    a.sync_fd = moved;
  }

  // Double fork: the first child leads a new session and exits, so the monitor has no
  // terminal, no process group of the CLI's, and init (or a subreaper) as its parent.
  pid_t first = ::fork();
  if (first < 0) {
    std::perror("guise-monitor: fork");
    return 1;
  }
  if (first > 0) {
    ::close(a.sync_fd);
    int status = 0;
    while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  ::setsid();
  pid_t second = ::fork();
  if (second < 0) ::_exit(1);
  if (second > 0) ::_exit(0);

  clean_slate(a.sync_fd);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (::chdir("/") < 0) return 1;
  return guise::engine::run_monitor(a);
}
