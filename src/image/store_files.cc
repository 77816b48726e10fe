#include "image/store_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "sys/fd.h"
#include "sys/syscalls.h"
#include "sys/text.h"

namespace guise::image::store_files {

namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

Result<void> fsync_dir(const std::string& path) {
  sys::Fd d(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid() || ::fsync(d.get()) < 0) return sys::sys_error("fsync", path);
  return Ok();
}

bool is_mount_root(int dirfd, const char* name) {
  struct statx stx {};
  if (::statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0) return false;
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

// Empties the directory open at `dirfd` (named `path` in errors).
Result<void> remove_contents(int dirfd, const std::string& path) {
  int scan = ::dup(dirfd);
  if (scan < 0) return sys::sys_error("dup", path);
  DIR* dir = ::fdopendir(scan);
  if (!dir) {
    ::close(scan);
    return sys::sys_error("opendir", path);
  }
  std::vector<std::pair<std::string, bool>> entries;  // read whole before removing
  while (struct dirent* e = ::readdir(dir)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st {};
    if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;  // gone meanwhile
    entries.emplace_back(e->d_name, S_ISDIR(st.st_mode));
  }
  ::closedir(dir);
  for (const auto& [name, is_dir] : entries) {
    std::string child = path + "/" + name;
    if (is_dir) {
      if (is_mount_root(dirfd, name.c_str())) return sys::user_error(child + " is a mount point: not removed");
      const int how = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
      sys::Fd sub(::openat(dirfd, name.c_str(), how));
      // A layer's directory may deny its owner (mode 000): without root, open it up first.
      if (!sub.valid() && errno == EACCES && ::fchmodat(dirfd, name.c_str(), 0700, 0) == 0)
        sub.reset(::openat(dirfd, name.c_str(), how));
      if (!sub.valid()) return sys::sys_error("open", child);
      GUISE_TRY(remove_contents(sub.get(), child));
    }
    if (::unlinkat(dirfd, name.c_str(), is_dir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
      return sys::sys_error("remove", child);
  }
  return Ok();
}

}  // namespace

Result<void> make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return Ok();
  if (errno != ENOENT) return sys::sys_error("mkdir", path);
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return sys::sys_error_n(ec.value(), "mkdir", path);
  return Ok();
}

Result<uint64_t> own_start_time() {
  static pid_t cached_pid = 0;
  static uint64_t cached = 0;
  pid_t me = ::getpid();
  if (cached_pid != me) {  // recomputed in a forked child
    cached = GUISE_TRY(sys::process_start_time(me));
    cached_pid = me;
  }
  return cached;
}

bool process_alive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  auto now = sys::process_start_time(pid);
  return now.ok() && *now == start_time;
}

std::string tmp_name(const std::string& root, std::string_view purpose) {
  auto start = own_start_time();
  return root + "/tmp/" + std::to_string(::getpid()) + "-" + std::to_string(start.ok() ? *start : 0) + "-" +
         std::string(purpose) + "-" + sys::random_hex(6);
}

bool tmp_owner_alive(std::string_view name) {
  auto dash = name.find('-');
  if (dash == std::string_view::npos) return false;
  auto dash2 = name.find('-', dash + 1);
  if (dash2 == std::string_view::npos) return false;
  std::string pid(name.substr(0, dash)), start(name.substr(dash + 1, dash2 - dash - 1));
  char* end = nullptr;
  long p = std::strtol(pid.c_str(), &end, 10);
  if (pid.empty() || *end) return false;
  unsigned long long s = std::strtoull(start.c_str(), &end, 10);
  if (start.empty() || *end) return false;
  return process_alive(static_cast<pid_t>(p), s);
}

Result<void> write_atomic(const std::string& root, const std::string& target, std::string_view data, mode_t mode) {
  std::string tmp = tmp_name(root, "write");
  sys::Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return sys::sys_error("create", tmp);
  auto written = sys::write_all(fd.get(), data, tmp.c_str());
  if (written.ok() && ::fsync(fd.get()) < 0) written = sys::sys_error("fsync", tmp);
  if (written.ok() && ::rename(tmp.c_str(), target.c_str()) < 0) written = sys::sys_error("rename onto", target);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  return fsync_dir(parent_of(target));
}

Result<void> remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return Ok();
    return sys::sys_error("stat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (is_mount_root(AT_FDCWD, path.c_str())) return sys::user_error(path + " is a mount point: not removed");
    sys::Fd d(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d.valid()) return sys::sys_error("open", path);
    GUISE_TRY(remove_contents(d.get(), path));
    if (::rmdir(path.c_str()) < 0 && errno != ENOENT) return sys::sys_error("remove", path);
    return Ok();
  }
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys::sys_error("remove", path);
  return Ok();
}

int64_t tree_size(const std::string& path) {
  int64_t total = 0;
  std::error_code ec;
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) return 0;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ? st.st_size : 0;
  // The iterator does not follow directory symlinks unless asked to.
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) total += st.st_size;
  }
  return total;
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (!dir) {
    if (errno == ENOENT) return names;
    return sys::sys_error("opendir", path);
  }
  while (struct dirent* e = ::readdir(dir)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool is_hex(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<Digest> sha256_from_hex(std::string_view hex) { return parse_digest("sha256:" + std::string(hex)); }

}  // namespace guise::image::store_files
