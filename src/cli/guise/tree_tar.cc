#include "cli/guise/tree_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "sys/syscalls.h"

namespace guise::cli {

namespace {

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

struct ArchiveWriter {
  archive* a = archive_write_new();
  ~ArchiveWriter() { archive_write_free(a); }
  Error error(const std::string& what) const {
    const char* m = archive_error_string(a);
    return sys::sys_error_n(archive_errno(a) > 0 ? archive_errno(a) : EIO, "write tar", what + (m ? std::string(": ") + m : ""));
  }
};

using EntryPtr = std::unique_ptr<archive_entry, decltype(&archive_entry_free)>;

class Walker {
 public:
  Walker(archive* a, const TreeTarOptions& o) : a_(a), o_(o) {}

  Result<void> entry(int dir, const std::string& name, const std::string& as) {
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return sys::sys_error("stat", as);
    if (o_.overlay_whiteouts && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      struct stat empty = st;
      empty.st_mode = S_IFREG | 0600;
      empty.st_size = 0;
      empty.st_uid = empty.st_gid = 0;
      return header(with_base(as, ".wh."), empty, {}, {});
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(dir, name.c_str(), target.data(), target.size());
      if (n < 0) return sys::sys_error("readlink", as);
      target.resize(static_cast<size_t>(n));
      return header(as, st, target, {});
    }
    if (S_ISDIR(st.st_mode)) return directory(dir, name, as, st);
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto it = links_.find(key);
      if (it != links_.end()) {
        st.st_size = 0;
        return header(as, st, {}, it->second);
      }
      links_[key] = as;
    }
    if (!S_ISREG(st.st_mode)) return header(as, st, {}, {});
    sys::Fd f(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!f.valid()) return sys::sys_error("open", as);
    GUISE_TRY(header(as, st, {}, {}));
    std::vector<char> buf(1 << 16);
    int64_t left = st.st_size;
    while (left > 0) {
      ssize_t n = ::read(f.get(), buf.data(), static_cast<size_t>(std::min<int64_t>(left, buf.size())));
      if (n < 0) return sys::sys_error("read", as);
      if (n == 0) break;  // shrank while read: libarchive pads the entry
      if (archive_write_data(a_, buf.data(), static_cast<size_t>(n)) < 0) return failure(as);
      left -= n;
    }
    return Ok();
  }

  // How each overlay marks an opaque directory in its upper layer: the kernel's as root,
  // with userxattr in a user namespace (rootless), and fuse-overlayfs's.
  static bool opaque(int dir) {
    for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"}) {
      char v[4] = {};
      if (::fgetxattr(dir, name, v, sizeof v) > 0 && v[0] == 'y') return true;
    }
    return false;
  }

  Result<void> directory(int parent, const std::string& name, const std::string& as, const struct stat& st) {
    sys::Fd d(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d.valid()) return sys::sys_error("open", as.empty() ? "/" : as);
    if (!as.empty()) GUISE_TRY(header(as, st, {}, {}));
    if (o_.overlay_whiteouts && opaque(d.get())) {
      struct stat empty = st;
      empty.st_mode = S_IFREG | 0600;
      empty.st_size = 0;
      GUISE_TRY(header(child(as, ".wh..wh..opq"), empty, {}, {}));
    }
    int listing = ::dup(d.get());
    if (listing < 0) return sys::sys_error("dup", as);
    DIR* ds = ::fdopendir(listing);
    if (!ds) {
      ::close(listing);
      return sys::sys_error("opendir", as);
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(ds)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(ds);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) GUISE_TRY(entry(d.get(), n, child(as, n)));
    return Ok();
  }

 private:
  static std::string child(const std::string& as, const std::string& n) { return as.empty() ? n : as + "/" + n; }
  static std::string with_base(const std::string& as, const std::string& prefix) {
    auto slash = as.rfind('/');
    return slash == std::string::npos ? prefix + as : as.substr(0, slash + 1) + prefix + as.substr(slash + 1);
  }
  Error failure(const std::string& as) const {
    const char* m = archive_error_string(a_);
    return sys::sys_error_n(archive_errno(a_) > 0 ? archive_errno(a_) : EIO, "write tar", as + (m ? std::string(": ") + m : ""));
  }
  Result<void> header(const std::string& as, struct stat st, const std::string& symlink, const std::string& hardlink) {
    if (o_.caller_owner) {
      st.st_uid = ::getuid();
      st.st_gid = ::getgid();
    }
    EntryPtr e(archive_entry_new(), &archive_entry_free);
    archive_entry_copy_stat(e.get(), &st);
    archive_entry_set_pathname(e.get(), as.c_str());
    if (S_ISLNK(st.st_mode)) archive_entry_set_symlink(e.get(), symlink.c_str());
    if (!hardlink.empty()) {
      archive_entry_set_hardlink(e.get(), hardlink.c_str());
      archive_entry_set_size(e.get(), 0);
    }
    if (!S_ISREG(st.st_mode) || !hardlink.empty()) archive_entry_set_size(e.get(), 0);
    if (archive_write_header(a_, e.get()) < ARCHIVE_WARN) return failure(as);
    return Ok();
  }

  archive* a_;
  const TreeTarOptions& o_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Result<void> write_tree_tar(int out_fd, int parent_fd, const std::string& name, const std::string& as,
                            const TreeTarOptions& opts) {
  ArchiveWriter w;
  archive_write_set_format_pax_restricted(w.a);
  archive_write_set_bytes_in_last_block(w.a, 1);
  if (archive_write_open_fd(w.a, out_fd) != ARCHIVE_OK) return w.error(as);
  Walker walker(w.a, opts);
  GUISE_TRY(walker.entry(parent_fd, name, as));
  if (archive_write_close(w.a) != ARCHIVE_OK) return w.error(as);
  return Ok();
}

namespace {
// Where an fd points, as the kernel names it (readlink of its /proc/self/fd entry).
std::string path_of(int fd) {
  char buf[4096];
  ssize_t n = ::readlink(sys::fd_path(fd).c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}
}  // namespace

Result<InRootPath> resolve_in_root(int root_fd, const std::string& path, bool follow) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  if (follow && !parts.empty()) {
    // The whole path followed inside the root, then named by where it landed.
    std::string clean;
    for (const auto& p : parts) clean += "/" + p;
    // Missing (or a dangling link): the path itself, not followed.
    auto fd = sys::openat2(root_fd, clean, O_PATH | O_CLOEXEC, 0, kInRoot);
    if (fd) {
      std::string root = path_of(root_fd), real = path_of(fd->get());
      if (root == "/") root = "";
      if (root.empty() || real.rfind(root, 0) != 0) return sys::not_found(path);
      return resolve_in_root(root_fd, real.substr(root.size()), false);
    }
  }
  InRootPath r;
  std::string parent = "/";
  for (size_t k = 0; k + 1 < parts.size(); ++k) parent += (k ? "/" : "") + parts[k];
  r.name = parts.empty() ? "." : parts.back();
  auto pfd = sys::openat2(root_fd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, kInRoot);
  if (!pfd) return sys::not_found(path);
  r.parent = std::move(*pfd);
  r.path = parts.empty() ? "/" : (parent == "/" ? "" : parent) + "/" + r.name;
  struct stat st {};
  r.exists = ::fstatat(r.parent.get(), r.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  r.is_dir = r.exists && S_ISDIR(st.st_mode);
  return r;
}

}  // namespace guise::cli
