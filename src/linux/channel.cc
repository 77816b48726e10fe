#include "linux/channel.h"

#include <sys/socket.h>

#include <cstring>

namespace guise::linux {

namespace {

constexpr size_t kMaxFrame = 64 * 1024;
constexpr size_t kMaxFds = 64;  // a v1 host's tasks files: one per hierarchy

// Frame encoding: type(1) errnum(4) kind(1) then four length-prefixed strings:
// op, path, context joined by '\n', text. A kLog frame's text is its level (one byte)
// and the message.
void put_string(std::string& out, const std::string& s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out += s;
}

bool get_string(const char*& p, const char* end, std::string& s) {
  uint32_t n;
  if (static_cast<size_t>(end - p) < sizeof n) return false;
  std::memcpy(&n, p, sizeof n);
  p += sizeof n;
  if (static_cast<size_t>(end - p) < n) return false;
  s.assign(p, n);
  p += n;
  return true;
}

Channel* g_log_channel = nullptr;
sys::LogSink g_fallback_sink = nullptr;

void channel_sink(sys::LogLevel level, std::string_view message) {
  if (g_log_channel && g_log_channel->fd() >= 0 && g_log_channel->send_log(level, message).ok()) return;
  if (g_fallback_sink) g_fallback_sink(level, message);
}

}  // namespace

void route_log_to(Channel& parent) {
  if (sys::log_sink() != channel_sink) g_fallback_sink = sys::log_sink();
  g_log_channel = &parent;
  sys::set_log_sink(channel_sink, sys::log_enabled(sys::LogLevel::kDebug) ? sys::LogLevel::kDebug : sys::LogLevel::kInfo);
}

const char* msg_name(Msg m) {
  switch (m) {
    case Msg::kIdsMapped: return "ids-mapped";
    case Msg::kMapIds: return "map-ids";
    case Msg::kRunHooks: return "run-hooks";
    case Msg::kHooksDone: return "hooks-done";
    case Msg::kPtyMaster: return "pty-master";
    case Msg::kReady: return "ready";
    case Msg::kError: return "error";
    case Msg::kExecPid: return "exec-pid";
    case Msg::kCgroup: return "cgroup";
    case Msg::kGo: return "go";
    case Msg::kExecReport: return "exec-report";
    case Msg::kLog: return "log";
    case Msg::kMountSource: return "mount-source";
    case Msg::kRootfsMount: return "rootfs-mount";
  }
  return "?";
}

Result<std::pair<Channel, Channel>> Channel::pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return sys::sys_error("socketpair");
  return std::pair<Channel, Channel>(Channel(sys::Fd(sv[0])), Channel(sys::Fd(sv[1])));
}

static Result<void> send_frame(int sock, Msg type, const Error* err, const std::string& text,
                               const std::vector<int>& fds) {
  std::string buf;
  buf.push_back(static_cast<char>(type));
  int32_t errnum = err ? err->errnum : 0;
  buf.append(reinterpret_cast<const char*>(&errnum), sizeof errnum);
  buf.push_back(static_cast<char>(err ? err->kind : sys::ErrorKind::kSystem));
  std::string context;
  if (err) {
    for (size_t i = 0; i < err->context.size(); ++i) {
      if (i) context += '\n';
      context += err->context[i];
    }
  }
  put_string(buf, err ? err->op : std::string());
  put_string(buf, err ? err->path : std::string());
  put_string(buf, context);
  put_string(buf, text);
  if (buf.size() > kMaxFrame || fds.size() > kMaxFds)
    return sys::user_error(std::string("protocol: ") + msg_name(type) + " frame too large");

  struct iovec iov {buf.data(), buf.size()};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sys::sys_error("send to container init", msg_name(type));
  return Ok();
}

Result<void> Channel::send(Msg type, std::string text, const std::vector<int>& fds) {
  auto sent = send_frame(fd_.get(), type, nullptr, text, fds);
  if (sent.ok() || (sent.error().errnum != EPIPE && sent.error().errnum != ECONNRESET)) return sent;
  // The peer is gone; if it failed first, its error is waiting here and says more.
  auto f = recv_or_end();
  if (f.ok() && *f && (*f)->type == Msg::kError) return std::move((*f)->error);
  return sent;
}

Result<void> Channel::send_error(const Error& e) {
  return send_frame(fd_.get(), Msg::kError, &e, {}, {});
}

Result<Frame> Channel::recv() {
  auto f = GUISE_TRY(recv_or_end());
  if (!f) return sys::user_error("container init exited before it was ready");
  return std::move(*f);
}

Result<void> Channel::wait_closed() {
  auto f = GUISE_TRY(recv_or_end());
  if (!f) return Ok();
  if (f->type == Msg::kError) return std::move(f->error);
  return sys::user_error(std::string("protocol: unexpected ") + msg_name(f->type) + " from container init");
}

Result<void> Channel::send_log(sys::LogLevel level, std::string_view message) {
  std::string text(1, static_cast<char>(level));
  text.append(message.substr(0, kMaxFrame - 256));
  return send_frame(fd_.get(), Msg::kLog, nullptr, text, {});
}

Result<std::optional<Frame>> Channel::recv_or_end() {
  for (;;) {
    auto f = GUISE_TRY(recv_frame());
    // The peer's log lines go to this process's sink wherever they come in the protocol.
    if (!f || f->type != Msg::kLog) return f;
    if (!f->text.empty())
      sys::log(static_cast<sys::LogLevel>(f->text[0]), std::string_view(f->text).substr(1));
  }
}

Result<std::optional<Frame>> Channel::recv_frame() {
  // Not a fresh zeroed 64 KiB string per frame: that was the largest user-space cost
  // of a container start. Each process (runtime, init) has its own copy.
  static char buf[kMaxFrame];
  struct iovec iov {buf, sizeof buf};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  bool reset_seen = false;
  for (;;) {
    n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0 || errno == EINTR) {
      if (n >= 0) break;
      continue;
    }
    // A peer that exits with a frame of ours unread resets the connection, and the kernel
    // reports that before the frames the peer sent us (its error, say): they are still
    // queued, and the next call returns them.
    if (errno == ECONNRESET && !reset_seen) {
      reset_seen = true;
      continue;
    }
    return sys::sys_error("receive from container init");
  }

  Frame f;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      f.fds.emplace_back(fd);
    }
  }
  if (n == 0) return std::optional<Frame>();
  const char* p = buf;
  const char* end = p + n;
  if (n < 6) return sys::user_error("short frame from container init");
  f.type = static_cast<Msg>(*p++);
  int32_t errnum;
  std::memcpy(&errnum, p, sizeof errnum);
  p += sizeof errnum;
  f.error.kind = static_cast<sys::ErrorKind>(*p++);
  std::string context;
  if (!get_string(p, end, f.error.op) || !get_string(p, end, f.error.path) ||
      !get_string(p, end, context) || !get_string(p, end, f.text))
    return sys::user_error("malformed frame from container init");
  f.error.errnum = errnum;
  size_t start = 0;
  while (!context.empty() && start <= context.size()) {
    size_t nl = context.find('\n', start);
    if (nl == std::string::npos) nl = context.size();
    f.error.context.push_back(context.substr(start, nl - start));
    start = nl + 1;
  }
  return std::optional<Frame>(std::move(f));
}

Result<Frame> Channel::expect(Msg want) {
  auto f = GUISE_TRY(recv());
  if (f.type == Msg::kError) return std::move(f.error);
  if (f.type != want)
    return sys::user_error(std::string("protocol: expected ") + msg_name(want) + " from container init, got " +
                           msg_name(f.type));
  return f;
}

}  // namespace guise::linux
