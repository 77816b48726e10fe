#include "engine/kernel_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace guise::engine {

namespace {

// The value of "key=" in a line of key=value words (",", " " or end after it).
std::optional<std::string_view> field(std::string_view line, std::string_view key) {
  for (size_t at = line.find(key); at != std::string_view::npos; at = line.find(key, at + 1)) {
    if (at > 0 && line[at - 1] != ' ' && line[at - 1] != ',' && line[at - 1] != ':') continue;
    size_t start = at + key.size();
    size_t end = line.find_first_of(", ", start);
    return line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  }
  return std::nullopt;
}

std::optional<long> number(std::optional<std::string_view> v) {
  if (!v || v->empty()) return std::nullopt;
  std::string s(*v);
  char* end = nullptr;
  long n = std::strtol(s.c_str(), &end, 10);
  if (*end) return std::nullopt;
  return n;
}

}  // namespace

std::optional<OomKillRecord> parse_oom_kill(std::string_view m) {
  if (m.rfind("oom-kill:", 0) != 0) return std::nullopt;
  auto pid = number(field(m, "pid="));
  auto memcg = field(m, "task_memcg=");
  if (!pid || !memcg) return std::nullopt;
  OomKillRecord r;
  r.pid = pid_t(*pid);
  r.task_memcg = std::string(*memcg);
  if (auto t = field(m, "task=")) r.task = std::string(*t);
  return r;
}

std::optional<SeccompRecord> parse_seccomp_audit(std::string_view m) {
  if (m.find("type=1326") == std::string_view::npos) return std::nullopt;
  auto pid = number(field(m, "pid="));
  auto sig = number(field(m, "sig="));
  auto nr = number(field(m, "syscall="));
  if (!pid || !nr) return std::nullopt;
  return SeccompRecord{pid_t(*pid), int(sig.value_or(0)), int(*nr)};
}

bool memcg_within(const std::string& dir, const std::string& memcg) {
  if (memcg.empty() || memcg[0] != '/') return false;
  // `dir` is the mount point followed by the cgroup's path: one of its suffixes that start
  // at a '/' is that path.
  for (size_t i = 0; i < dir.size(); ++i) {
    if (dir[i] != '/') continue;
    std::string_view suffix(dir.data() + i, dir.size() - i);
    if (suffix.size() < 2) continue;
    if (memcg == suffix || (memcg.size() > suffix.size() && memcg.compare(0, suffix.size(), suffix) == 0 &&
                            memcg[suffix.size()] == '/'))
      return true;
  }
  return false;
}

KernelLog KernelLog::open() {
  KernelLog k;
  k.fd_.reset(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (k.fd_.valid() && ::lseek(k.fd_.get(), 0, SEEK_END) < 0) k.fd_.reset();
  return k;
}

std::vector<std::string> KernelLog::read_new(size_t max) {
  std::vector<std::string> out;
  if (!fd_.valid()) return out;
  char buf[8192];
  while (out.size() < max) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf - 1);
    if (n < 0 && errno == EPIPE) continue;  // records overwritten before they were read
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string_view rec(buf, size_t(n));
    // "PRI,SEQ,TS,FLAGS;MESSAGE\n" then " KEY=VALUE" lines.
    size_t semi = rec.find(';');
    if (semi == std::string_view::npos) continue;
    std::string_view msg = rec.substr(semi + 1);
    msg = msg.substr(0, msg.find('\n'));
    out.emplace_back(msg);
  }
  return out;
}

}  // namespace guise::engine
