/*
 * maxrss OUT CMD [ARG...]: runs CMD, waits for it, writes "STATUS MAXRSS_KB" to OUT and
 * exits with CMD's exit status.
 *
 * Why not wait4 from the driver directly: the driver is a Python process of ~14 MB, and a
 * child spawned from it (fork or vfork alike) carries the parent's resident set up to its
 * execve, where the kernel folds that high-water mark into the child's ru_maxrss.  Spawned
 * from this static program instead, the pre-exec mark is this program's (~100 KB), so the
 * number is the runtime's: the largest RSS of the runtime process or of any descendant it
 * waited for (for `run`, the container's init before it exec'd /bin/true).
 *
 * Build: gcc -O2 -static -o maxrss maxrss.c
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: maxrss OUT CMD [ARG...]\n");
    return 2;
  }
  pid_t pid = vfork();
  if (pid < 0) { perror("maxrss: vfork"); return 125; }
  if (pid == 0) {
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) { perror("maxrss: wait4"); return 125; }
  FILE *f = fopen(argv[1], "w");
  if (!f) { perror(argv[1]); return 125; }
  fprintf(f, "%d %ld\n", status, ru.ru_maxrss);
  fclose(f);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
