/* console-receiver SOCKET OUTFILE: the other end of a runtime's --console-socket, for
 * the VM's shell scripts (no Python there). Takes one terminal master over SOCKET and
 * appends everything read from it to OUTFILE until the terminal's last peer is gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(const char *what) {
  fprintf(stderr, "console-receiver: %s: %s\n", what, strerror(errno));
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: console-receiver SOCKET OUTFILE\n");
    return 2;
  }
  int out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return fail(argv[2]);
  int sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(argv[1]) >= sizeof addr.sun_path) return fail("socket path too long");
  strcpy(addr.sun_path, argv[1]);
  if (sk < 0 || bind(sk, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(sk, 1) < 0) return fail(argv[1]);
  int conn = accept4(sk, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) return fail("accept");
  char name[256], control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0) return fail("recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "console-receiver: no fd received\n");
    return 1;
  }
  int master;
  memcpy(&master, CMSG_DATA(c), sizeof master);
  close(conn);
  close(sk);
  unlink(argv[1]);
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* EIO: no peer is left */
    if (write(out, buf, n) != n) return fail("write");
  }
  return 0;
}
