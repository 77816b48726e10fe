/*
 * floor: the kernel work of starting runc's default container, and nothing else.
 *
 *   floor [-U] [-S FILTER.bpf] [-c CGROUP] ROOTFS CMD [ARG...]
 *
 * What a runtime must ask of the kernel for the default config.json, in the order runtimes
 * do it, with no JSON, no state directory, no locks, no re-exec, no sync protocol beyond one
 * pipe byte:
 *
 *   parent: mkdir a cgroup in every v1 hierarchy (cpuset.cpus/mems copied from the parent,
 *           as the kernel requires before a task may join) -> clone(NEWPID|NEWNET|NEWIPC|
 *           NEWUTS|NEWNS [|NEWUSER]) -> uid/gid maps (-U) -> child pid into every cgroup ->
 *           one byte to the child -> waitpid -> rmdir the cgroups -> exit with its status
 *   child:  setresuid/gid(0) in the user ns (-U) -> make / private -> bind the rootfs ->
 *           proc, /dev tmpfs, devpts, /dev/shm, mqueue, sysfs (ro) -> /sys/fs/cgroup as runc
 *           builds it on cgroup v1 (a tmpfs, and in it a read-only bind of the container's own
 *           cgroup of each hierarchy) -> six device nodes (mknod, or bind mounts of the host's
 *           in a user ns) and the /dev symlinks -> pivot_root ->
 *           maskedPaths and readonlyPaths -> remount / read-only -> sethostname ->
 *           RLIMIT_NOFILE -> drop to the three default capabilities (bounding, ambient) ->
 *           no_new_privs -> seccomp filter (-S, a precompiled BPF program: compiling a
 *           profile is runtime logic) -> execve
 *
 * Left out: the devices cgroup's deny-all rule, and everything that is runtime logic.
 *
 * CGROUP: absolute (the same path in every hierarchy, as an OCI cgroupsPath) or relative to
 * this process's own cgroup in each hierarchy (from /proc/self/cgroup).  Either way it must
 * end up below our own cgroup: the machine's sandbox owns the cgroups above us.
 *
 * Build: gcc -O2 -static -o floor floor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CG 32

static void die(const char *fmt, ...) {
  int e = errno;
  va_list ap;
  va_start(ap, fmt);
  fputs("floor: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, ": %s\n", strerror(e));
  _exit(125);
}

/* ---------------------------------------------------------------- cgroups (parent) */

static char *cg_dirs[MAX_CG];
static int cg_n;
/* Directories this run created, deepest last, so they are removed deepest first. */
static char *cg_made[MAX_CG * 8];
static int cg_made_n;

static int read_small(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return (int)n;
}

static int write_str(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, s, strlen(s));
  int e = errno;
  close(fd);
  errno = e;
  return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* mkdir -p below `base` (which exists); new cpuset levels get their parent's cpus and mems. */
static void cg_mkdir_p(const char *base, const char *rel, int is_cpuset) {
  char path[4096], parent[4096], buf[4096];
  snprintf(path, sizeof path, "%s", base);
  const char *p = rel;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    snprintf(parent, sizeof parent, "%s", path);
    size_t cur = strlen(path);
    snprintf(path + cur, sizeof path - cur, "/%.*s", (int)len, p);
    p += len;
    if (mkdir(path, 0755) == 0) {
      cg_made[cg_made_n++] = strdup(path);
      if (is_cpuset) {
        const char *files[] = {"cpuset.cpus", "cpuset.mems"};
        for (int i = 0; i < 2; i++) {
          char src[4200], dst[4200];
          snprintf(src, sizeof src, "%s/%s", parent, files[i]);
          snprintf(dst, sizeof dst, "%s/%s", path, files[i]);
          if (read_small(src, buf, sizeof buf) < 0) die("read %s", src);
          if (write_str(dst, buf) < 0) die("write %s", dst);
        }
      }
    } else if (errno != EEXIST) {
      die("mkdir %s", path);
    }
  }
  cg_dirs[cg_n++] = strdup(path);
}

/* One directory per v1 hierarchy in /proc/self/cgroup ("ID:controllers:path"). */
static void cg_create(const char *cgpath) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f) die("open /proc/self/cgroup");
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *c1 = strchr(line, ':');
    if (!c1) continue;
    char *c2 = strchr(c1 + 1, ':');
    if (!c2) continue;
    *c2 = 0;
    const char *ctrl = c1 + 1, *own = c2 + 1;
    if (!*ctrl) continue; /* the cgroup2 line: no controllers here, and unmounted by the harness */
    const char *name = strncmp(ctrl, "name=", 5) == 0 ? ctrl + 5 : ctrl;
    char mnt[512];
    snprintf(mnt, sizeof mnt, "/sys/fs/cgroup/%s", name);
    struct stat st;
    if (stat(mnt, &st) < 0) continue; /* a hierarchy not mounted at the usual place */
    char rel[4096];
    if (cgpath[0] == '/') {
      size_t ol = strlen(own);
      int below = strcmp(own, "/") == 0 ||
                  (strncmp(cgpath, own, ol) == 0 && cgpath[ol] == '/');
      if (!below) {
        errno = EINVAL;
        die("%s is not below our own cgroup %s in %s", cgpath, own, ctrl);
      }
      snprintf(rel, sizeof rel, "%s", cgpath);
    } else {
      snprintf(rel, sizeof rel, "%s/%s", own, cgpath);
    }
    if (cg_n == MAX_CG) break;
    cg_mkdir_p(mnt, rel, strcmp(name, "cpuset") == 0);
  }
  fclose(f);
}

static void cg_join(pid_t pid) {
  char path[4200], s[32];
  snprintf(s, sizeof s, "%d", pid);
  for (int i = 0; i < cg_n; i++) {
    snprintf(path, sizeof path, "%s/cgroup.procs", cg_dirs[i]);
    if (write_str(path, s) < 0) die("write %s", path);
  }
}

static void cg_remove(void) {
  for (int i = cg_made_n - 1; i >= 0; i--) {
    /* The last task leaves a v1 cgroup asynchronously after it is reaped: retry EBUSY. */
    for (int t = 0; t < 1000 && rmdir(cg_made[i]) < 0 && errno == EBUSY; t++) usleep(100);
  }
}

/* ---------------------------------------------------------------- container side (child) */

static void xmount(const char *src, const char *dst, const char *type, unsigned long flags,
                   const char *data) {
  if (mount(src, dst, type, flags, data) < 0) die("mount %s on %s", type ? type : src, dst);
}

static const char *masked[] = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                               "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                               "/proc/sched_debug", "/sys/firmware", "/proc/scsi", NULL};
static const char *readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                 "/proc/sysrq-trigger", NULL};

/* runc's v1 /sys/fs/cgroup: tmpfs, one read-only bind per hierarchy of the container's own
 * cgroup directory, then the tmpfs read-only too. */
static void mount_cgroupfs(void) {
  const unsigned long ro = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  xmount("tmpfs", "sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
  for (int i = 0; i < cg_n; i++) {
    /* cg_dirs[i] = /sys/fs/cgroup/NAME/...; NAME is the mount point inside too */
    const char *name = cg_dirs[i] + strlen("/sys/fs/cgroup/");
    char dst[512];
    snprintf(dst, sizeof dst, "sys/fs/cgroup/%.*s", (int)strcspn(name, "/"), name);
    if (mkdir(dst, 0755) < 0 && errno != EEXIST) die("mkdir %s", dst);
    xmount(cg_dirs[i], dst, NULL, MS_BIND | MS_REC, NULL);
    xmount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | ro, NULL);
  }
  xmount(NULL, "sys/fs/cgroup", NULL, MS_REMOUNT | ro, "mode=755");
}

static void make_devices(int userns) {
  static const struct { const char *name; unsigned maj, min; } devs[] = {
      {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
      {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  char path[64], host[64];
  for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
    snprintf(path, sizeof path, "dev/%s", devs[i].name);
    if (!userns) {
      if (mknod(path, S_IFCHR | 0666, makedev(devs[i].maj, devs[i].min)) < 0) die("mknod %s", path);
      if (chmod(path, 0666) < 0) die("chmod %s", path); /* umask */
    } else {
      /* mknod is refused in a user namespace: bind the host's node, as runtimes do. */
      int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
      if (fd < 0) die("create %s", path);
      close(fd);
      snprintf(host, sizeof host, "/dev/%s", devs[i].name);
      xmount(host, path, NULL, MS_BIND, NULL);
    }
  }
  static const char *links[][2] = {{"/proc/self/fd", "dev/fd"}, {"/proc/self/fd/0", "dev/stdin"},
                                   {"/proc/self/fd/1", "dev/stdout"},
                                   {"/proc/self/fd/2", "dev/stderr"}, {"pts/ptmx", "dev/ptmx"}};
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    if (symlink(links[i][0], links[i][1]) < 0) die("symlink %s", links[i][1]);
}

static void mask_and_readonly(void) {
  struct stat st;
  for (int i = 0; masked[i]; i++) {
    if (stat(masked[i], &st) < 0) continue;
    if (S_ISDIR(st.st_mode))
      xmount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL);
    else
      xmount("/dev/null", masked[i], NULL, MS_BIND, NULL);
  }
  for (int i = 0; readonly[i]; i++) {
    if (stat(readonly[i], &st) < 0) continue;
    xmount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL);
    struct statvfs sv;
    if (statvfs(readonly[i], &sv) < 0) die("statvfs %s", readonly[i]);
    unsigned long keep = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    xmount(NULL, readonly[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL);
  }
}

static void drop_caps(void) {
  static const int keep[] = {CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE};
  uint64_t mask = 0;
  for (size_t i = 0; i < 3; i++) mask |= 1ULL << keep[i];
  for (int c = 0; c < 64; c++) {
    if (mask & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past CAP_LAST_CAP */
      die("PR_CAPBSET_DROP %d", c);
    }
  }
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int i = 0; i < 2; i++) {
    uint32_t m = (uint32_t)(mask >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = m;
  }
  if (syscall(SYS_capset, &hdr, data) < 0) die("capset");
  for (size_t i = 0; i < 3; i++)
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, keep[i], 0, 0) < 0) die("ambient raise");
}

struct child_args {
  int sync_fd;
  int userns;
  const char *rootfs;
  char **argv;
  struct sock_fprog *filter;
};

static int child_main(struct child_args *a) {
  char byte;
  if (read(a->sync_fd, &byte, 1) != 1) die("waiting for the parent");
  close(a->sync_fd);

  if (a->userns) {
    if (setresgid(0, 0, 0) < 0) die("setresgid");
    if (setresuid(0, 0, 0) < 0) die("setresuid");
  }
  xmount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  xmount(a->rootfs, a->rootfs, NULL, MS_BIND | MS_REC, NULL);
  if (chdir(a->rootfs) < 0) die("chdir %s", a->rootfs);

  xmount("proc", "proc", "proc", 0, NULL);
  xmount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  mkdir("dev/pts", 0755);
  xmount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
         "newinstance,ptmxmode=0666,mode=0620,gid=5");
  mkdir("dev/shm", 0755);
  xmount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k");
  mkdir("dev/mqueue", 0755);
  xmount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
  xmount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL);
  if (cg_n) mount_cgroupfs();
  make_devices(a->userns);

  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
  if (umount2(".", MNT_DETACH) < 0) die("umount old root");
  if (chdir("/") < 0) die("chdir /");

  mask_and_readonly();
  struct statvfs sv;
  if (statvfs("/", &sv) < 0) die("statvfs /");
  unsigned long keep = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  xmount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL);

  if (sethostname("runc", 4) < 0) die("sethostname");
  struct rlimit rl = {1024, 1024};
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die("setrlimit");
  drop_caps();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("no_new_privs");
  if (a->filter && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, a->filter) < 0) die("seccomp");

  char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "TERM=xterm", "HOME=/root", NULL};
  execve(a->argv[0], a->argv, envp);
  die("exec %s", a->argv[0]);
  return 127;
}

/* ---------------------------------------------------------------- main */

static struct sock_fprog *load_filter(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0) die("stat %s", path);
  if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0) {
    errno = EINVAL;
    die("%s is not a BPF program", path);
  }
  struct sock_filter *insns = malloc(st.st_size);
  if (!insns || read(fd, insns, st.st_size) != st.st_size) die("read %s", path);
  close(fd);
  struct sock_fprog *prog = malloc(sizeof *prog);
  prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
  prog->filter = insns;
  return prog;
}

int main(int argc, char **argv) {
  int userns = 0, opt;
  const char *cgpath = NULL, *filter_path = NULL;
  while ((opt = getopt(argc, argv, "+US:c:")) != -1) {
    switch (opt) {
      case 'U': userns = 1; break;
      case 'S': filter_path = optarg; break;
      case 'c': cgpath = optarg; break;
      default:
        fprintf(stderr, "usage: floor [-U] [-S FILTER.bpf] [-c CGROUP] ROOTFS CMD [ARG...]\n");
        return 2;
    }
  }
  if (argc - optind < 2) {
    fprintf(stderr, "usage: floor [-U] [-S FILTER.bpf] [-c CGROUP] ROOTFS CMD [ARG...]\n");
    return 2;
  }
  struct child_args a = {.userns = userns, .rootfs = argv[optind], .argv = argv + optind + 1};
  if (filter_path) a.filter = load_filter(filter_path);

  if (cgpath) cg_create(cgpath);

  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0) die("pipe");
  unsigned long flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS;
  if (userns) flags |= CLONE_NEWUSER;
  /* fork-like clone: the child runs on a copy of this stack. */
  pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) {
    cg_remove();
    die("clone");
  }
  if (pid == 0) {
    close(sync[1]);
    a.sync_fd = sync[0];
    _exit(child_main(&a));
  }
  close(sync[0]);

  if (userns) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    if (write_str(path, "0 100000 65536") < 0) die("write %s", path);
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    if (write_str(path, "0 100000 65536") < 0) die("write %s", path);
  }
  cg_join(pid);
  if (write(sync[1], "x", 1) != 1) die("signal the child");
  close(sync[1]);

  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
  cg_remove();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
