#include "image/unpack_paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <cstdio>

#include "sys/syscalls.h"
#include "sys/text.h"

namespace guise::image::unpack_paths {

namespace {
constexpr uint64_t kInLayer = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
}  // namespace

std::vector<std::string> clean(std::string_view name) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= name.size()) {
    size_t slash = name.find('/', i);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view c = name.substr(i, slash - i);
    if (c == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!c.empty() && c != ".") {
      out.emplace_back(c);
    }
    i = slash + 1;
  }
  return out;
}

std::string join(std::span<const std::string> components) {
  std::string out;
  for (const auto& c : components) {
    if (!out.empty()) out += '/';
    out += c;
  }
  return out.empty() ? "." : out;
}

// Every existing component is resolved from the layer, inside it; what is missing is
// made with mkdirat on its parent's resolved fd and opened without following: a
// directory just made holds no symlink.
Result<sys::Fd> open_dir(int layer, std::span<const std::string> components, bool create) {
  std::string rel = join(components);
  auto existing = sys::openat2(layer, rel, O_RDONLY | O_DIRECTORY, 0, kInLayer);
  if (existing.ok() || existing.error().errnum != ENOENT || !create || components.empty()) {
    if (!existing.ok()) existing.error().op = "resolve directory";
    return existing;
  }
  sys::Fd parent = GUISE_TRY(open_dir(layer, components.first(components.size() - 1), true));
  const std::string& name = components.back();
  bool made_here = ::mkdirat(parent.get(), name.c_str(), 0755) == 0;
  if (!made_here && errno != EEXIST) return sys::sys_error("mkdir", rel);
  sys::Fd made(::openat(parent.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  // ELOOP: a dangling symlink stands there; its target is not made.
  if (!made.valid()) return sys::sys_error("resolve directory", rel);
  if (made_here && ::fchmod(made.get(), 0755) < 0) return sys::sys_error("chmod", rel);  // whatever the umask
  return made;
}

Result<void> remove_all(int dir, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return Ok();
    return sys::sys_error("stat", name);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dir, name.c_str(), 0) < 0 && errno != ENOENT) return sys::sys_error("unlink", name);
    return Ok();
  }
  int fd = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys::sys_error("open", name);
  DIR* d = ::fdopendir(fd);
  if (!d) {
    Error e = sys::sys_error("fdopendir", name);
    ::close(fd);
    return e;
  }
  std::vector<std::string> children;
  while (struct dirent* ent = ::readdir(d)) {
    std::string_view n = ent->d_name;
    if (n != "." && n != "..") children.emplace_back(n);
  }
  Result<void> r;
  for (const auto& c : children) {
    r = remove_all(::dirfd(d), c);
    if (!r) break;
  }
  ::closedir(d);
  if (!r) return std::move(r.error()).with_context(name);
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) < 0) return sys::sys_error("rmdir", name);
  return Ok();
}

Result<void> make_room(int dir, const std::string& name, bool for_directory) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? Ok() : Result<void>(sys::sys_error("stat"));
  if (S_ISDIR(st.st_mode) && for_directory) return Ok();
  return remove_all(dir, name);
}

std::string printable(std::string_view name) { return sys::printable(name, name.size()); }

}  // namespace guise::image::unpack_paths
