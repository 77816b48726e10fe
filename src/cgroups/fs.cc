#include "cgroups/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include "sys/fd.h"
#include "sys/syscalls.h"

namespace guise::cgroups::fs {

namespace {

std::string join(const std::string& dir, std::string_view file) { return dir + "/" + std::string(file); }

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Subdirectories of a cgroup are its child cgroups (cgroupfs holds nothing else).
Result<std::vector<std::string>> child_dirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys::sys_error("opendir", dir);
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (e->d_type == DT_DIR && name != "." && name != "..") out.push_back(join(dir, name));
  }
  ::closedir(d);
  return out;
}

Result<void> rmdir_patiently(const std::string& dir, std::chrono::steady_clock::time_point deadline) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok();
    if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline) return sys::sys_error("rmdir", dir);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

Result<void> remove_tree_until(const std::string& dir, std::chrono::steady_clock::time_point deadline) {
  // Usually a leaf whose tasks are gone: one rmdir, no listing.
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok();
  auto children = child_dirs(dir);
  if (!children.ok()) return children.error().errnum == ENOENT ? Ok() : Result<void>(children.error());
  for (const auto& child : *children) GUISE_TRY(remove_tree_until(child, deadline));
  return rmdir_patiently(dir, deadline);
}

}  // namespace

Result<void> write(const std::string& dir, std::string_view file, std::string_view value, std::string_view field) {
  std::string path = join(dir, file);
  sys::Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  ssize_t n = -1;
  if (fd.valid()) {
    do n = ::write(fd.get(), value.data(), value.size());
    while (n < 0 && errno == EINTR);
  }
  if (n < 0) return sys::sys_error("write " + std::string(value) + " to", path).with_context(std::string(field));
  return Ok();
}

bool exists(const std::string& dir, std::string_view file) { return ::access(join(dir, file).c_str(), F_OK) == 0; }

Result<std::string> read(const std::string& dir, std::string_view file) {
  return trim(GUISE_TRY(sys::read_file(join(dir, file))));
}

Result<uint64_t> read_u64(const std::string& dir, std::string_view file) {
  std::string text = GUISE_TRY(read(dir, file));
  if (text == "max") return UINT64_MAX;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0)
    return sys::user_error("not a number in " + join(dir, file) + ": \"" + text + "\"");
  return static_cast<uint64_t>(v);
}

std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto space = line.find(' ');
    if (space == std::string_view::npos) continue;
    std::string value(line.substr(space + 1));
    char* end = nullptr;
    unsigned long long v = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0') continue;
    out[std::string(line.substr(0, space))] = v;
  }
  return out;
}

Result<std::map<std::string, uint64_t>> read_flat_keyed(const std::string& dir, std::string_view file) {
  return parse_flat_keyed(GUISE_TRY(read(dir, file)));
}

// mkdir first, parents only when it says ENOENT: a cgroup directory is usually one
// mkdir away, and every stat of a deep cgroupfs path walks it again.
Result<void> make_dirs(const std::string& path, std::vector<std::string>& made) {
  if (path.empty() || path == "/") return Ok();
  if (::mkdir(path.c_str(), 0755) == 0) {
    made.push_back(path);
    return Ok();
  }
  if (errno == EEXIST) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Ok();
    return sys::sys_error_n(ENOTDIR, "mkdir", path);
  }
  if (errno != ENOENT) return sys::sys_error("mkdir", path);
  auto slash = path.find_last_of('/');
  GUISE_TRY(make_dirs(path.substr(0, slash == 0 ? 1 : slash), made));
  if (::mkdir(path.c_str(), 0755) == 0) {
    made.push_back(path);
  } else if (errno != EEXIST) {
    return sys::sys_error("mkdir", path);
  }
  return Ok();
}

Result<void> remove_tree(const std::string& dir, std::chrono::milliseconds patience) {
  return remove_tree_until(dir, std::chrono::steady_clock::now() + patience);
}

void remove_made(const std::vector<std::string>& made) {
  for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
}

Result<std::vector<std::string>> file_names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys::sys_error("opendir", dir);
  while (struct dirent* e = ::readdir(d))
    if (e->d_type == DT_REG) out.emplace_back(e->d_name);
  ::closedir(d);
  return out;
}

Result<std::vector<pid_t>> procs_below(const std::string& dir) {
  std::vector<pid_t> pids;
  std::string text = GUISE_TRY(read(dir, "cgroup.procs"));
  for (char* p = text.data(); *p;) {
    char* end = nullptr;
    long pid = std::strtol(p, &end, 10);
    if (end == p) break;
    pids.push_back(static_cast<pid_t>(pid));
    p = end;
    while (*p == '\n') ++p;
  }
  for (const auto& child : GUISE_TRY(child_dirs(dir))) {
    auto more = procs_below(child);
    if (!more.ok()) {
      if (more.error().errnum == ENOENT) continue;  // removed while we walked
      return more.error();
    }
    pids.insert(pids.end(), more->begin(), more->end());
  }
  return pids;
}

Result<void> check_cgroupfs(int fd, const std::string& path, bool v2) {
  struct statfs st {};
  if (::fstatfs(fd, &st) < 0) return sys::sys_error("fstatfs", path);
  unsigned long want = v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;
  if (static_cast<unsigned long>(st.f_type) == want) return Ok();
  return sys::user_error(path + " is not on a " + (v2 ? "cgroup2" : "cgroup") +
                         " filesystem (something else is mounted over the cgroup mount)");
}

Result<void> wait_for(const std::function<Result<bool>()>& reached, std::string_view what,
                      std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    if (GUISE_TRY(reached())) return Ok();
    if (std::chrono::steady_clock::now() >= deadline)
      return sys::sys_error_n(ETIMEDOUT, std::string(what) + " (waited " + std::to_string(timeout.count()) + " ms)");
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
}

}  // namespace guise::cgroups::fs
