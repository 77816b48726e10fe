#include "image/archive_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "sys/fd.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace {

std::vector<std::string> components(std::string_view name) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string_view::npos) j = name.size();
    std::string_view c = name.substr(i, j - i);
    if (c == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!c.empty() && c != ".") {
      out.emplace_back(c);
    }
    i = j + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

struct ReadArchive {
  archive* a = archive_read_new();
  ~ReadArchive() { archive_read_free(a); }
};

std::string archive_why(archive* a) {
  const char* why = archive_error_string(a);
  return why ? why : "unreadable";
}

}  // namespace

std::string clean_entry_name(std::string_view name) {
  auto parts = components(name);
  return join(parts, parts.size());
}

Result<ExtractedArchive> ExtractedArchive::extract(int fd, std::string dir) {
  ExtractedArchive x;
  x.dir_ = std::move(dir);
  ReadArchive r;
  archive_read_support_filter_all(r.a);
  archive_read_support_format_tar(r.a);
  if (archive_read_open_fd(r.a, fd, 1 << 16) != ARCHIVE_OK) return x;  // not an archive: nothing in it
  sys::Fd dirfd(::open(x.dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid()) return sys::sys_error("open", x.dir_);
  uint64_t count = 0;
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(r.a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      if (count == 0) return x;  // not a tar: the caller reports what it lacks
      return sys::user_error("archive entry after " + std::to_string(count) + " entries: " + archive_why(r.a));
    }
    ++count;
    const char* raw_name = archive_entry_pathname(e);
    std::string name = clean_entry_name(raw_name ? raw_name : "");
    if (name.empty()) continue;
    if (const char* hard = archive_entry_hardlink(e)) {  // names the target from the archive's root
      x.links_[name] = clean_entry_name(hard);
      continue;
    }
    if (archive_entry_filetype(e) == AE_IFLNK) {  // relative to the link's own directory
      const char* target = archive_entry_symlink(e);
      std::string t = target ? target : "";
      std::string parent = name.substr(0, name.rfind('/') == std::string::npos ? 0 : name.rfind('/'));
      x.links_[name] = clean_entry_name(!t.empty() && t[0] == '/' ? t : parent + "/" + t);
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string local = std::to_string(count);
    sys::Fd out(::openat(dirfd.get(), local.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out.valid()) return sys::sys_error("create", x.dir_ + "/" + local);
    const void* buf = nullptr;
    size_t n = 0;
    la_int64_t offset = 0;
    for (;;) {
      int d = archive_read_data_block(r.a, &buf, &n, &offset);
      if (d == ARCHIVE_EOF) break;
      if (d != ARCHIVE_OK && d != ARCHIVE_WARN)
        return sys::user_error("archive entry " + std::string(raw_name) + ": " + archive_why(r.a));
      if (::lseek(out.get(), offset, SEEK_SET) < 0) return sys::sys_error("seek", x.dir_ + "/" + local);
      GUISE_TRY(sys::write_all(out.get(), std::string_view(static_cast<const char*>(buf), n), "archive entry"));
    }
    // A sparse entry's trailing hole: the file's size is the entry's.
    if (::ftruncate(out.get(), archive_entry_size(e)) < 0) return sys::sys_error("truncate", x.dir_ + "/" + local);
    x.files_[name] = x.dir_ + "/" + local;
    x.links_.erase(name);
  }
  return x;
}

ExtractedArchive::ExtractedArchive(ExtractedArchive&& o) noexcept
    : dir_(std::exchange(o.dir_, {})), files_(std::move(o.files_)), links_(std::move(o.links_)) {}

ExtractedArchive::~ExtractedArchive() {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::optional<std::string> ExtractedArchive::find(std::string_view name) const {
  std::vector<std::string> parts = components(name);
  // Each hop replaces a prefix that is a link by its target; a loop ends here.
  for (int hops = 0; hops < 40; ++hops) {
    std::string whole = join(parts, parts.size());
    if (auto f = files_.find(whole); f != files_.end()) return f->second;
    bool followed = false;
    for (size_t n = parts.size(); n > 0 && !followed; --n) {
      auto l = links_.find(join(parts, n));
      if (l == links_.end()) continue;
      std::vector<std::string> next = components(l->second);
      next.insert(next.end(), parts.begin() + static_cast<std::ptrdiff_t>(n), parts.end());
      parts = std::move(next);
      followed = true;
    }
    if (!followed) return std::nullopt;
  }
  return std::nullopt;
}

Result<std::string> ExtractedArchive::read(std::string_view name, size_t max) const {
  auto path = find(name);
  if (!path) return sys::user_error("the archive has no " + std::string(name));
  struct stat st {};
  if (::stat(path->c_str(), &st) < 0) return sys::sys_error("stat", *path);
  if (static_cast<size_t>(st.st_size) > max)
    return sys::user_error(std::string(name) + " in the archive is " + std::to_string(st.st_size) +
                           " bytes, more than the " + std::to_string(max) + " expected");
  return sys::read_file(*path);
}

}  // namespace guise::image
