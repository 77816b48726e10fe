/*
 * seccomp-agent: a small seccomp user-notification agent for
 * linux.seccomp.listenerPath (SCMP_ACT_NOTIFY).
 *
 *   seccomp-agent SOCKET [LOG]
 *
 * Listens on the unix socket SOCKET.  For every container process that
 * installs a filter with SCMP_ACT_NOTIFY rules, the runtime connects and sends
 * the container process state (runtime-spec runtime.md) with the filter's
 * notify fd by SCM_RIGHTS:
 *
 *   {"ociVersion": "...", "fds": ["seccompFd"], "pid": 1234,
 *    "metadata": "...", "state": {"id": "...", "status": "...", ...}}
 *
 * The agent appends that JSON as one line to LOG (default: stderr), then
 * answers the notifications:
 *
 *   mkdir, mkdirat  a path under /fake succeeds without anything being made;
 *                   any other path fails with the errno that the metadata names
 *                   ("mkdir-errno=N"), EPERM when it names none
 *   anything else   let through (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
 *
 * and logs each decision ("mkdir /fake/x -> 0", "mkdir /tmp/y -> errno 30").
 * One thread: poll() over the listening socket and every notify fd.  SIGTERM
 * or SIGINT ends it and removes SOCKET.
 *
 * Build: cc -O2 -Wall -o seccomp-agent agent.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_LISTENERS 64

struct listener {
  int fd;
  int mkdir_errno; /* from the metadata */
};

static struct listener listeners[MAX_LISTENERS];
static int nlisteners;
static FILE *logf;
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* The value of "key": "..." in a flat JSON object (no unescaping beyond \"). */
static void json_string(const char *json, const char *key, char *out, size_t size) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  out[0] = '\0';
  const char *p = strstr(json, pattern);
  if (!p) return;
  p += strlen(pattern);
  size_t n = 0;
  while (*p && *p != '"' && n + 1 < size) {
    if (*p == '\\' && p[1]) p++;
    out[n++] = *p++;
  }
  out[n] = '\0';
}

/* Whether buf holds one whole JSON object: runtimes need not close the connection
 * after sending (runc keeps it open), so the end of the object ends the message. */
static int json_complete(const char *buf, size_t len) {
  int depth = 0, in_string = 0;
  for (size_t i = 0; i < len; i++) {
    char c = buf[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = 0;
      continue;
    }
    if (c == '"') in_string = 1;
    else if (c == '{') depth++;
    else if (c == '}' && --depth == 0) return 1;
  }
  return 0;
}

/* Receives the state and the notify fd from one runtime connection. */
static void accept_container(int server) {
  int conn = accept4(server, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) return;
  char buf[65536];
  size_t len = 0;
  int notify_fd = -1;
  for (;;) {
    char control[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = {buf + len, sizeof buf - 1 - len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof control};
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) break;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      for (int i = 0; i < count; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (notify_fd < 0) notify_fd = fd; else close(fd);
      }
    }
    len += (size_t)n;
    if (len >= sizeof buf - 1 || json_complete(buf, len)) break;
  }
  close(conn);
  buf[len] = '\0';
  fprintf(logf, "%s\n", buf);
  if (notify_fd < 0) {
    fprintf(logf, "no notify fd received\n");
    return;
  }
  if (nlisteners == MAX_LISTENERS) {
    close(notify_fd);
    return;
  }
  char metadata[256];
  json_string(buf, "metadata", metadata, sizeof metadata);
  int err = EPERM;
  const char *m = strstr(metadata, "mkdir-errno=");
  if (m) err = atoi(m + strlen("mkdir-errno="));
  listeners[nlisteners++] = (struct listener){notify_fd, err};
}

/* Reads a NUL-terminated string from the notifying process, then checks that the
 * notification is still live (the pid was not reused while we read). */
static int read_path(int notify_fd, __u64 id, pid_t pid, __u64 addr, char *out, size_t size) {
  char mem[64];
  snprintf(mem, sizeof mem, "/proc/%d/mem", pid);
  int fd = open(mem, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = pread(fd, out, size - 1, (off_t)addr);
  close(fd);
  if (n <= 0) return -1;
  out[n] = '\0';
  out[strnlen(out, (size_t)n)] = '\0';
  if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) return -1;
  return 0;
}

static void answer(struct listener *l, struct seccomp_notif *req, struct seccomp_notif_resp *resp) {
  memset(resp, 0, sizeof *resp);
  resp->id = req->id;
  int nr = req->data.nr;
  if (nr != SYS_mkdir && nr != SYS_mkdirat) {
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    return;
  }
  __u64 addr = nr == SYS_mkdir ? req->data.args[0] : req->data.args[1];
  char path[4096];
  if (read_path(l->fd, req->id, (pid_t)req->pid, addr, path, sizeof path) < 0) {
    resp->error = -EPERM;
    return;
  }
  if (strncmp(path, "/fake/", 6) == 0 || strcmp(path, "/fake") == 0) {
    resp->val = 0;
    fprintf(logf, "mkdir %s -> 0\n", path);
  } else {
    resp->error = -l->mkdir_errno;
    fprintf(logf, "mkdir %s -> errno %d\n", path, l->mkdir_errno);
  }
}

static void serve_notification(struct listener *l, struct seccomp_notif *req, struct seccomp_notif_resp *resp,
                               size_t req_size, size_t resp_size) {
  memset(req, 0, req_size);
  if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) return; /* the process went away */
  answer(l, req, resp);
  (void)resp_size;
  ioctl(l->fd, SECCOMP_IOCTL_NOTIF_SEND, resp); /* ENOENT: it went away meanwhile */
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s SOCKET [LOG]\n", argv[0]);
    return 2;
  }
  const char *path = argv[1];
  logf = argc == 3 ? fopen(argv[2], "a") : stderr;
  if (!logf) {
    perror(argv[2]);
    return 1;
  }
  setvbuf(logf, NULL, _IOLBF, 0);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
    perror("seccomp(SECCOMP_GET_NOTIF_SIZES)");
    return 1;
  }
  size_t req_size = sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif
                                                                        : sizeof(struct seccomp_notif);
  size_t resp_size = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
                         ? sizes.seccomp_notif_resp
                         : sizeof(struct seccomp_notif_resp);
  struct seccomp_notif *req = calloc(1, req_size);
  struct seccomp_notif_resp *resp = calloc(1, resp_size);

  int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    fprintf(stderr, "%s: path too long\n", path);
    return 1;
  }
  strcpy(addr.sun_path, path);
  unlink(path);
  if (server < 0 || bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, 16) < 0) {
    perror(path);
    return 1;
  }
  fprintf(logf, "listening on %s\n", path);

  while (!stop) {
    struct pollfd pfds[MAX_LISTENERS + 1];
    pfds[0] = (struct pollfd){server, POLLIN, 0};
    for (int i = 0; i < nlisteners; i++) pfds[i + 1] = (struct pollfd){listeners[i].fd, POLLIN, 0};
    int n = poll(pfds, (nfds_t)nlisteners + 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("poll");
      break;
    }
    if (pfds[0].revents & POLLIN) accept_container(server);
    for (int i = nlisteners - 1; i >= 0; i--) {
      short ev = pfds[i + 1].revents;
      if (ev & POLLIN) serve_notification(&listeners[i], req, resp, req_size, resp_size);
      if (ev & (POLLHUP | POLLERR | POLLNVAL)) {
        /* every process that could notify is gone */
        close(listeners[i].fd);
        listeners[i] = listeners[--nlisteners];
      }
    }
  }
  unlink(path);
  return 0;
}
