// guise-init: the container's PID 1 under `guise run --init`, bind-mounted read-only at
// /run/guise-init and started as `/run/guise-init [-g] -- CMD ARGS...`.
//
// It does what catatonit does: every signal but the kernel's faults is blocked and read
// from one signalfd; the child runs CMD with the original mask in its own process group
// (the terminal's foreground group when stdin is a tty); SIGCHLD reaps every zombie, ours
// or an orphan's; TSTP/TTIN/TTOU are dropped; anything else goes on to the child (its
// group with -g). When the child exits, so does the init, with its code or 128+signal.
//
// -P (--pause), as catatonit -P: no command. It is the infra process of a pod, the PID 1
// that holds the pod's namespaces while its containers come and go: it reaps whatever is
// orphaned to it, ignores every signal but SIGTERM and SIGINT, and exits 0 on either.
//
// fd 3, when open, is a pipe to the container's monitor: one line "PID SIGNAL\n" for each
// reaped process that a signal killed, so a process the OOM killer took while PID 1 lives
// on is known. The PIDs are as this pid namespace sees them.
//
// Plain C-style on purpose: no stdio, no iostreams, no allocation, so the static binary
// stays small (it is mapped into every container started with --init).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef GUISE_VERSION
#define GUISE_VERSION "unknown"
#endif

namespace {

constexpr int kMonitorFd = 3;
constexpr int kInitFailed = 125;  // docker's code for the engine's own failures
constexpr int kCannotInvoke = 126;
constexpr int kNotFound = 127;

// Writes the parts as one line on stderr, in one write so lines from two processes never
// interleave.
void say(const char* a, const char* b = "", const char* c = "", const char* d = "") {
  const char* parts[] = {"guise-init: ", a, b, c, d, "\n"};
  iovec iov[6];
  for (int i = 0; i < 6; ++i) iov[i] = {const_cast<char*>(parts[i]), strlen(parts[i])};
  while (writev(STDERR_FILENO, iov, 6) < 0 && errno == EINTR) {
  }
}

// Appends the decimal digits of n (>= 0) at out; returns the end.
char* put_decimal(char* out, long n) {
  char digits[24];
  int len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (len > 0) *out++ = digits[--len];
  return out;
}

bool is_fault(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGABRT ||
         sig == SIGTRAP || sig == SIGSYS;
}

struct Options {
  bool group = false;  // -g: signals go to the child's process group
  bool pause = false;  // -P: no child; wait for SIGTERM or SIGINT
  char** command = nullptr;
};

// [-g] [--] CMD ARGS...; --version, -h. Returns -1 to go on, else the exit code.
int parse_args(int argc, char** argv, Options& opts) {
  int i = 1;
  for (; i < argc; ++i) {
    const char* a = argv[i];
    if (strcmp(a, "--") == 0) {
      ++i;
      break;
    }
    if (a[0] != '-') break;
    if (strcmp(a, "-g") == 0) {
      opts.group = true;
    } else if (strcmp(a, "-P") == 0 || strcmp(a, "--pause") == 0) {
      opts.pause = true;
    } else if (strcmp(a, "--version") == 0) {
      const char line[] = "guise-init version " GUISE_VERSION "\n";
      return write(STDOUT_FILENO, line, sizeof line - 1) < 0 ? 1 : 0;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      const char usage[] = "usage: guise-init [-g] -- COMMAND [ARG...]\n       guise-init -P\n";
      return write(STDOUT_FILENO, usage, sizeof usage - 1) < 0 ? 1 : 0;
    } else {
      say("unknown option ", a, " (usage: guise-init [-g] -- COMMAND [ARG...])");
      return kInitFailed;
    }
  }
  if (opts.pause) {
    if (i < argc) {
      say("-P takes no command");
      return kInitFailed;
    }
    return -1;
  }
  if (i >= argc) {
    say("no command (usage: guise-init [-g] -- COMMAND [ARG...])");
    return kInitFailed;
  }
  opts.command = argv + i;
  return -1;
}

// fd 3 is optional: keep it only when it is open, and never let the child inherit it.
// Non-blocking, so a monitor that stops reading costs lines, never a stuck PID 1.
bool open_monitor_fd() {
  int flags = fcntl(kMonitorFd, F_GETFD);
  if (flags < 0) return false;
  fcntl(kMonitorFd, F_SETFD, flags | FD_CLOEXEC);
  int status = fcntl(kMonitorFd, F_GETFL);
  if (status >= 0) fcntl(kMonitorFd, F_SETFL, status | O_NONBLOCK);
  return true;
}

// "PID SIGNAL\n" to the monitor. A pipe whose reader is gone answers EPIPE and raises a
// SIGPIPE at this thread: that one is taken off here, before the loop would forward it.
void report_signal_death(bool& monitor_open, pid_t pid, int sig) {
  if (!monitor_open) return;
  char line[48];
  char* end = put_decimal(line, pid);
  *end++ = ' ';
  end = put_decimal(end, sig);
  *end++ = '\n';
  ssize_t n;
  do {
    n = write(kMonitorFd, line, static_cast<size_t>(end - line));
  } while (n < 0 && errno == EINTR);
  if (n >= 0 || errno == EAGAIN) return;  // a full pipe loses this line, nothing more
  if (errno == EPIPE) {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    timespec now = {0, 0};
    sigtimedwait(&pipe_only, nullptr, &now);
  }
  close(kMonitorFd);  // EPIPE, EBADF or worse: the monitor hears no more
  monitor_open = false;
}

// In the child, before exec: its own process group, in front on the terminal, the
// signal mask as the init found it, and CMD. Only _exit leaves.
[[noreturn]] void exec_child(char** command, const sigset_t& original_mask) {
  close(kMonitorFd);
  if (setpgid(0, 0) < 0) {
    say("setpgid: ", strerror(errno));
    _exit(kInitFailed);
  }
  // SIGTTOU, which tcsetpgrp raises in a background group, is still blocked here.
  if (isatty(STDIN_FILENO) && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY &&
      errno != ENXIO) {
    say("tcsetpgrp: ", strerror(errno));
    _exit(kInitFailed);
  }
  if (sigprocmask(SIG_SETMASK, &original_mask, nullptr) < 0) {
    say("sigprocmask: ", strerror(errno));
    _exit(kInitFailed);
  }
  execvp(command[0], command);
  int err = errno;
  say("exec ", command[0], ": ", strerror(err));
  _exit(err == ENOENT ? kNotFound : kCannotInvoke);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kInitFailed;
}

// Reaps every zombie there is. Returns the child's exit code once it is among them, else -1.
int reap_zombies(pid_t child, bool& monitor_open) {
  int child_code = -1;
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break;  // 0: none left to reap now; ECHILD: no children at all
    if (WIFSIGNALED(status)) report_signal_death(monitor_open, pid, WTERMSIG(status));
    if (pid == child) child_code = exit_code_of(status);
  }
  return child_code;
}

void forward(int sig, pid_t child, bool group) {
  // ESRCH: the child is gone and its SIGCHLD is on the way.
  kill(group ? -child : child, sig);
}

// The next signal from the signalfd; 0 when it could not be read (said).
int next_signal(int sfd) {
  for (;;) {
    signalfd_siginfo si;
    ssize_t n = read(sfd, &si, sizeof si);
    if (n < 0 && errno == EINTR) continue;
    if (n == static_cast<ssize_t>(sizeof si)) return static_cast<int>(si.ssi_signo);
    say("read signalfd: ", n < 0 ? strerror(errno) : "short read");
    return 0;
  }
}

// -P: reap until told to stop. Exit 0, as a stop of the pod is its normal end.
int pause_loop(int sfd, bool& monitor_open) {
  for (;;) {
    int sig = next_signal(sfd);
    if (sig == 0) return kInitFailed;
    if (sig == SIGTERM || sig == SIGINT) return 0;
    if (sig == SIGCHLD) reap_zombies(0, monitor_open);
  }
}

int run(const Options& opts) {
  sigset_t all, original_mask;
  sigfillset(&all);
  for (int sig = 1; sig < NSIG; ++sig)
    if (is_fault(sig)) sigdelset(&all, sig);
  if (sigprocmask(SIG_SETMASK, &all, &original_mask) < 0) {
    say("sigprocmask: ", strerror(errno));
    return kInitFailed;
  }
  // Before any fd is made: a closed fd 3 would otherwise be taken by the signalfd.
  bool monitor_open = open_monitor_fd();
  int sfd = signalfd(-1, &all, SFD_CLOEXEC);
  if (sfd < 0) {
    say("signalfd: ", strerror(errno));
    return kInitFailed;
  }
  // Orphans below us are ours to reap even when we are not the namespace's PID 1.
  if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
    say("prctl PR_SET_CHILD_SUBREAPER: ", strerror(errno));
    return kInitFailed;
  }

  if (opts.pause) return pause_loop(sfd, monitor_open);

  pid_t child = fork();
  if (child < 0) {
    say("fork: ", strerror(errno));
    return kInitFailed;
  }
  if (child == 0) exec_child(opts.command, original_mask);
  // Also from this side, so a signal forwarded to the group before the child ran finds it.
  setpgid(child, child);

  for (;;) {
    int sig = next_signal(sfd);
    if (sig == 0) {
      kill(opts.group ? -child : child, SIGKILL);
      return kInitFailed;
    }
    switch (sig) {
      case SIGCHLD: {
        int code = reap_zombies(child, monitor_open);
        if (code >= 0) return code;
        break;
      }
      case SIGTSTP:
      case SIGTTIN:
      case SIGTTOU:
        break;  // a PID 1 that stopped would stop the container
      default:
        forward(sig, child, opts.group);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  int code = parse_args(argc, argv, opts);
  if (code >= 0) return code;
  return run(opts);
}
