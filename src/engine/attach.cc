#include "engine/attach.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "sys/child_process.h"
#include "sys/syscalls.h"

namespace guise::engine {

namespace {

std::string beside_self(const char* name, const char* env) {
  if (const char* e = std::getenv(env); e && *e) return e;
  std::string self = self_binary();
  if (!self.empty()) {
    std::string dir = self.substr(0, self.rfind('/'));
    std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return std::string("/usr/local/bin/") + name;
}

}  // namespace

std::string self_binary() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  return n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string();
}

std::string monitor_binary() { return beside_self("guise-monitor", "GUISE_MONITOR"); }
std::string init_binary() { return beside_self("guise-init", "GUISE_INIT"); }
std::string full_binary() { return beside_self("guise-full", "GUISE_FULL"); }

Result<pid_t> start_monitor(const std::string& store_root, const std::string& id,
                            const std::function<void()>& on_listening) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return sys::sys_error("pipe");
  sys::Fd read_end(p[0]), write_end(p[1]);
  sys::Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  sys::SpawnOptions o;
  o.stdin_fd = null.get();
  o.stdout_fd = write_end.get();
  std::string bin = monitor_binary();
  auto child = GUISE_TRY(sys::spawn(bin, {bin, "--store", store_root, "--id", id, "--sync-fd", "1"}, o),
                         "starting the container's monitor");
  write_end.reset();
  std::string pending;
  nlohmann::json j;
  char buf[4096];
  for (;;) {
    size_t nl = pending.find('\n');
    if (nl != std::string::npos) {
      j = nlohmann::json::parse(pending.substr(0, nl), nullptr, false);
      pending.erase(0, nl + 1);
      if (j.is_object() && j.contains("listening")) {
        if (on_listening) on_listening();
        continue;
      }
      break;
    }
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      j = nlohmann::json::parse(pending, nullptr, false);
      break;
    }
    pending.append(buf, static_cast<size_t>(n));
  }
  // The first process exits once it has forked the monitor proper.
  (void)child.wait();
  if (!j.is_object()) {
    return sys::Error{0, "the container's monitor (" + bin + ") ended without a word" +
                             (pending.empty() ? std::string() : ": " + pending.substr(0, 200)),
                      {}, {}, sys::ErrorKind::kSystem, {}};
  }
  if (j.contains("error")) return sys::user_error(j["error"].get<std::string>());
  return j.value("pid", 0);
}

Result<AttachClient> AttachClient::connect(const std::string& path, int wait_ms) {
  // Through the directory's fd: a store path longer than sun_path still works.
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  sys::Fd dfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid()) return sys::sys_error("open", dir);
  std::string via = "/proc/self/fd/" + std::to_string(dfd.get()) + "/" + path.substr(slash + 1);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, via.c_str(), via.size() + 1);
  for (int waited = 0;; waited += 10) {
    sys::Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return sys::sys_error("socket");
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return AttachClient(std::move(fd));
    if ((errno != ENOENT && errno != ECONNREFUSED) || waited >= wait_ms) return sys::sys_error("connect", path);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<void> AttachClient::send(AttachFrame kind, std::string_view data) const {
  std::string frame(1, static_cast<char>(kind));
  frame.append(data);
  if (::send(fd_.get(), frame.data(), frame.size(), MSG_NOSIGNAL) < 0) return sys::sys_error("send to monitor");
  return Ok();
}

Result<std::optional<std::pair<AttachFrame, std::string>>> AttachClient::receive() const {
  std::string buf(1 << 17, '\0');
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::sys_error("receive from monitor");
    if (n == 0) return std::optional<std::pair<AttachFrame, std::string>>();
    buf.resize(static_cast<size_t>(n));
    return std::optional(std::make_pair(static_cast<AttachFrame>(buf[0]), buf.substr(1)));
  }
}

}  // namespace guise::engine
