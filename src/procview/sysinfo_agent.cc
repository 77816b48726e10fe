#include "procview/sysinfo_agent.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "sys/fd.h"

namespace guise::procview {

namespace {

struct Sizes {
  size_t notif = sizeof(seccomp_notif), resp = sizeof(seccomp_notif_resp);
};

const Sizes& sizes() {
  static const Sizes s = [] {
    Sizes out;
    seccomp_notif_sizes k {};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &k) == 0) {
      out.notif = std::max<size_t>(out.notif, k.seccomp_notif);
      out.resp = std::max<size_t>(out.resp, k.seccomp_notif_resp);
    }
    return out;
  }();
  return s;
}

// Writes the struct into the caller, having checked (after opening its memory) that
// the notification is still live, so a recycled pid never gets it.
int write_sysinfo(int notify_fd, const seccomp_notif& req, const struct sysinfo& si) {
  std::string mem = "/proc/" + std::to_string(req.pid) + "/mem";
  sys::Fd fd(::open(mem.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return -1;
  uint64_t id = req.id;
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) return -1;
  ssize_t n = ::pwrite(fd.get(), &si, sizeof si, static_cast<off_t>(req.data.args[0]));
  return n == static_cast<ssize_t>(sizeof si) ? 0 : EFAULT;
}

}  // namespace

Result<void> answer_notification(int notify_fd, const SysinfoSource& source) {
  std::vector<char> req_buf(sizes().notif, 0), resp_buf(sizes().resp, 0);
  auto* req = reinterpret_cast<seccomp_notif*>(req_buf.data());
  auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf.data());
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
    if (errno == EINTR || errno == ENOENT) return Ok();  // ENOENT: the caller died meanwhile
    return sys::sys_error("receive a seccomp notification");
  }
  resp->id = req->id;
  bool ours = source && req->data.nr == SYS_sysinfo && req->data.arch == AUDIT_ARCH_X86_64;
  int err = ours ? write_sysinfo(notify_fd, *req, source()) : -1;
  if (err < 0) {
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;  // the kernel's own answer
  } else {
    resp->error = -err;
    resp->val = 0;
  }
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
    return sys::sys_error("answer a seccomp notification");
  return Ok();
}

}  // namespace guise::procview
