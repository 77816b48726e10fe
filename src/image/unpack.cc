#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <span>
#include <vector>

#include "image/unpack_paths.h"
#include "linux/userns.h"
#include "sys/sha256.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace {

// EINVAL: the owner has no id in this user namespace. For a rootless user, its ranges in
// /etc/subuid and /etc/subgid are too small for this image.
Error chown_error(uid_t uid, gid_t gid) {
  if (errno != EINVAL || !linux::in_user_namespace()) return sys::sys_error("chown");
  return sys::user_error("owner " + std::to_string(uid) + ":" + std::to_string(gid) +
                         " is beyond the ids this user maps (0 is the user itself, 1 and up its ranges in "
                         "/etc/subuid and /etc/subgid); a larger range takes it, as root: usermod "
                         "--add-subuids 100000-231071 --add-subgids 100000-231071 USER");
}


namespace paths = unpack_paths;
using Components = std::span<const std::string>;

constexpr std::string_view kWhiteout = ".wh.", kWhiteoutMeta = ".wh..wh.", kOpaque = ".wh..wh..opq";

Result<void> skip(uint64_t& counter) {
  ++counter;
  return Ok();
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// libarchive's own account of a bad stream, with where in the tar stream it stopped.
Error stream_error(archive* a, const std::string& what) {
  const char* why = archive_error_string(a);
  return sys::user_error(what + ": " + (why ? why : "unknown libarchive error") + " (at byte " +
                         std::to_string(archive_filter_bytes(a, 0)) + " of the tar stream)");
}

void entry_times(archive_entry* e, timespec ts[2]) {
  ts[1] = archive_entry_mtime_is_set(e) ? timespec{archive_entry_mtime(e), archive_entry_mtime_nsec(e)}
                                        : timespec{0, UTIME_OMIT};
  ts[0] = archive_entry_atime_is_set(e) ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)} : ts[1];
}

struct DirMeta {
  std::string entry;  // the name as the archive spells it, for errors
  mode_t mode;
  timespec times[2];
};

class Unpacker {
 public:
  Unpacker(archive* a, int layer, const UnpackOptions& o) : a_(a), layer_(layer), opts_(o) {}
  Result<void> apply(archive_entry* e);
  // Directories' modes and times, once nothing more is made in them.
  Result<void> finish();
  UnpackStats stats;

 private:
  Result<void> whiteout(Components parent, std::string_view name);
  Result<void> opaque(Components parent);
  Result<void> directory(int fd, const std::string& key, archive_entry* e);
  Result<void> file(int dir, const std::string& name, archive_entry* e);
  Result<void> hard_link(int dir, const std::string& name, const char* target);
  Result<void> node(int dir, const std::string& name, archive_entry* e, mode_t type);
  Result<void> symlink(int dir, const std::string& name, archive_entry* e);
  Result<std::pair<uid_t, gid_t>> owner(archive_entry* e) const;
  Result<void> xattrs(archive_entry* e, int fd, int dir, const std::string& name);

  archive* a_;
  int layer_;
  const UnpackOptions& opts_;
  bool root_ = ::geteuid() == 0;
  std::map<std::string, DirMeta> dirs_;  // by cleaned name ("": the layer): children sort after parents
};

Result<void> Unpacker::apply(archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (!raw) return sys::user_error("no name");
  std::vector<std::string> c = paths::clean(raw);
  for (size_t i = 0; i + 1 < c.size(); ++i)
    if (c[i].starts_with(kWhiteoutMeta)) return skip(stats.skipped_entries);  // aufs metadata
  const char* link = archive_entry_hardlink(e);
  mode_t type = archive_entry_filetype(e);
  if (c.empty()) {  // the layer itself: a directory's metadata, nothing else
    if (link || type != AE_IFDIR) return skip(stats.skipped_entries);
    sys::Fd self = GUISE_TRY(paths::open_dir(layer_, {}, false));
    return directory(self.get(), "", e);
  }
  const std::string& name = c.back();
  Components parent = Components(c).first(c.size() - 1);
  if (name == kOpaque) return opaque(parent);
  if (name.starts_with(kWhiteoutMeta)) return skip(stats.skipped_entries);
  if (name.starts_with(kWhiteout)) return whiteout(parent, std::string_view(name).substr(kWhiteout.size()));

  sys::Fd dir = GUISE_TRY(paths::open_dir(layer_, parent, true));
  if (link) return hard_link(dir.get(), name, link);
  switch (type) {
    case AE_IFREG: return file(dir.get(), name, e);
    case AE_IFLNK: return symlink(dir.get(), name, e);
    case AE_IFCHR: return node(dir.get(), name, e, S_IFCHR);
    case AE_IFBLK: return node(dir.get(), name, e, S_IFBLK);
    case AE_IFIFO: return node(dir.get(), name, e, S_IFIFO);
    case AE_IFDIR: {
      GUISE_TRY(paths::make_room(dir.get(), name, true));
      if (::mkdirat(dir.get(), name.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error("mkdir");
      sys::Fd self(::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!self.valid()) return sys::sys_error("open");
      return directory(self.get(), paths::join(c), e);
    }
    default: return sys::user_error("file type " + std::to_string(type) + " is not supported");
  }
}

Result<void> Unpacker::whiteout(Components parent, std::string_view name) {
  // The name is one component already; it must also name an entry of that directory.
  if (name.empty() || name == "." || name == "..") return sys::user_error("whiteout names nothing in its directory");
  sys::Fd dir = GUISE_TRY(paths::open_dir(layer_, parent, true));
  std::string n(name);
  GUISE_TRY(paths::remove_all(dir.get(), n));
  if (::mknodat(dir.get(), n.c_str(), S_IFCHR, makedev(0, 0)) < 0) return sys::sys_error("mknod whiteout", n);
  ++stats.whiteouts;
  return Ok();
}

Result<void> Unpacker::opaque(Components parent) {
  sys::Fd dir = GUISE_TRY(paths::open_dir(layer_, parent, true));
  if (::fsetxattr(dir.get(), opts_.opaque_xattr.c_str(), "y", 1, 0) < 0)
    return sys::sys_error("setxattr", opts_.opaque_xattr);
  ++stats.opaque_dirs;
  return Ok();
}

Result<std::pair<uid_t, gid_t>> Unpacker::owner(archive_entry* e) const {
  int64_t uid = archive_entry_uid(e) + opts_.uid_offset, gid = archive_entry_gid(e) + opts_.gid_offset;
  if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
    return sys::user_error("owner " + std::to_string(uid) + ":" + std::to_string(gid) + " is out of range");
  return std::pair{static_cast<uid_t>(uid), static_cast<gid_t>(gid)};
}

// On `fd` when there is one (files, directories); else on `name` in `dir`, not followed.
Result<void> Unpacker::xattrs(archive_entry* e, int fd, int dir, const std::string& name) {
  if (archive_entry_xattr_reset(e) == 0) return Ok();
  std::string path = fd >= 0 ? std::string() : sys::fd_path(dir) + "/" + name;
  // pax carries each xattr twice (LIBARCHIVE.xattr and SCHILY.xattr): one set per name.
  std::map<std::string, std::string_view> all;
  const char* key;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK)
    all[key] = std::string_view(static_cast<const char*>(value), size);
  for (const auto& [k, v] : all) {
    if (k == "security.selinux" || k.starts_with("trusted.overlay.") || k.starts_with("user.overlay.")) {
      ++stats.skipped_xattrs;
      continue;
    }
    int r = fd >= 0 ? ::fsetxattr(fd, k.c_str(), v.data(), v.size(), 0)
                    : ::lsetxattr(path.c_str(), k.c_str(), v.data(), v.size(), 0);
    if (r < 0) {
      // Not this filesystem's, or not this caller's to set (trusted.*, user.* on a symlink).
      if (errno == ENOTSUP || errno == EPERM) {
        ++stats.skipped_xattrs;
        continue;
      }
      return sys::sys_error("setxattr", k);
    }
  }
  return Ok();
}

Result<void> Unpacker::directory(int fd, const std::string& key, archive_entry* e) {
  auto [uid, gid] = GUISE_TRY(owner(e));
  if (root_ && ::fchown(fd, uid, gid) < 0) return chown_error(uid, gid);
  GUISE_TRY(xattrs(e, fd, -1, {}));
  DirMeta& m = dirs_[key];
  m.entry = archive_entry_pathname(e);
  m.mode = archive_entry_mode(e) & 07777;
  entry_times(e, m.times);
  return Ok();
}

Result<void> Unpacker::file(int dir, const std::string& name, archive_entry* e) {
  int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
  if (size < 0) return sys::user_error("negative size");
  if (static_cast<uint64_t>(size) > opts_.max_bytes - stats.bytes)
    return sys::user_error("the layer's files exceed the limit of " + std::to_string(opts_.max_bytes) +
                           " bytes (max_bytes)");
  auto [uid, gid] = GUISE_TRY(owner(e));
  GUISE_TRY(paths::make_room(dir, name, false));
  sys::Fd fd(::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return sys::sys_error("open");
  for (;;) {
    const void* buf;
    size_t len;
    la_int64_t off;
    int r = archive_read_data_block(a_, &buf, &len, &off);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return stream_error(a_, "read");
    // Sparse entries come as blocks at offsets; the holes stay holes.
    for (size_t done = 0; done < len;) {
      ssize_t n = ::pwrite(fd.get(), static_cast<const char*>(buf) + done, len - done, off + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys::sys_error("write");
      done += static_cast<size_t>(n);
    }
  }
  if (::ftruncate(fd.get(), size) < 0) return sys::sys_error("truncate");
  stats.bytes += static_cast<uint64_t>(size);
  // chown clears setuid, setgid and file capabilities: the mode and xattrs follow it.
  if (root_ && ::fchown(fd.get(), uid, gid) < 0) return chown_error(uid, gid);
  if (::fchmod(fd.get(), archive_entry_mode(e) & 07777) < 0) return sys::sys_error("chmod");
  GUISE_TRY(xattrs(e, fd.get(), -1, {}));
  timespec ts[2];
  entry_times(e, ts);
  if (::futimens(fd.get(), ts) < 0) return sys::sys_error("utimens");
  return Ok();
}

Result<void> Unpacker::hard_link(int dir, const std::string& name, const char* target) {
  std::vector<std::string> t = paths::clean(target);
  if (t.empty()) return sys::user_error("hard link to the layer itself");
  auto tdir = paths::open_dir(layer_, Components(t).first(t.size() - 1), false);
  if (!tdir) return std::move(tdir.error()).with_context("hard link target " + paths::printable(target));
  GUISE_TRY(paths::make_room(dir, name, false));
  // Flags 0: a symlink target is linked itself, never followed.
  if (::linkat(tdir->get(), t.back().c_str(), dir, name.c_str(), 0) < 0)
    return sys::sys_error("link to", paths::printable(target));
  return Ok();
}

Result<void> Unpacker::node(int dir, const std::string& name, archive_entry* e, mode_t type) {
  auto [uid, gid] = GUISE_TRY(owner(e));
  GUISE_TRY(paths::make_room(dir, name, false));
  dev_t dev = type == S_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
  if (::mknodat(dir, name.c_str(), type | 0600, dev) < 0) {
    if (errno == EPERM && type != S_IFIFO) return skip(stats.skipped_devices);  // no CAP_MKNOD here
    return sys::sys_error("mknod");
  }
  if (root_ && ::fchownat(dir, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) return chown_error(uid, gid);
  // Just made by mknodat with O_EXCL semantics: not a symlink, following changes nothing.
  if (::fchmodat(dir, name.c_str(), archive_entry_mode(e) & 07777, 0) < 0) return sys::sys_error("chmod");
  GUISE_TRY(xattrs(e, -1, dir, name));
  timespec ts[2];
  entry_times(e, ts);
  if (::utimensat(dir, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) return sys::sys_error("utimens");
  return Ok();
}

Result<void> Unpacker::symlink(int dir, const std::string& name, archive_entry* e) {
  const char* target = archive_entry_symlink(e);
  if (!target) return sys::user_error("symlink without a target");
  auto [uid, gid] = GUISE_TRY(owner(e));
  GUISE_TRY(paths::make_room(dir, name, false));
  if (::symlinkat(target, dir, name.c_str()) < 0) return sys::sys_error("symlink");
  if (root_ && ::fchownat(dir, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) return chown_error(uid, gid);
  GUISE_TRY(xattrs(e, -1, dir, name));
  timespec ts[2];
  entry_times(e, ts);
  if (::utimensat(dir, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) return sys::sys_error("utimens");
  return Ok();
}

Result<void> Unpacker::finish() {
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    const DirMeta& m = it->second;
    auto d = sys::openat2(layer_, it->first.empty() ? "." : it->first, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                          RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (!d) {
      int err = d.error().errnum;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP) continue;  // replaced by a later entry
      return std::move(d.error()).with_context("layer entry " + paths::printable(m.entry));
    }
    if (::fchmod(d->get(), m.mode) < 0 || ::futimens(d->get(), m.times) < 0)
      return sys::sys_error("set mode and times").with_context("layer entry " + paths::printable(m.entry));
  }
  return Ok();
}

// The decompressed stream, hashed as the tar reader pulls it: the layer's diff id is the
// sha256 of exactly these bytes (gzip, zstd or none, told apart by libarchive).
struct Decompressor {
  std::unique_ptr<archive, ArchiveFree> raw{archive_read_new()};
  sys::Sha256 hash;
  uint64_t bytes = 0;
  std::string error;
  char buf[1 << 16];

  static la_ssize_t read(archive*, void* self, const void** out) {
    auto* d = static_cast<Decompressor*>(self);
    la_ssize_t n = archive_read_data(d->raw.get(), d->buf, sizeof d->buf);
    if (n < 0) {
      const char* why = archive_error_string(d->raw.get());
      d->error = why ? why : "unknown libarchive error";
      return -1;
    }
    d->hash.update(d->buf, static_cast<size_t>(n));
    d->bytes += static_cast<uint64_t>(n);
    *out = d->buf;
    return n;
  }
  // What the tar reader did not need (the end-of-archive blocks and padding) still
  // belongs to the diff id.
  Result<void> drain() {
    const void* p;
    for (;;) {
      la_ssize_t n = read(nullptr, this, &p);
      if (n < 0) return sys::user_error("layer: " + error);
      if (n == 0) return Ok();
    }
  }
};

}  // namespace

Result<UnpackStats> unpack_layer(int archive_fd, int layer_dirfd, const UnpackOptions& opts) {
  auto dec = std::make_unique<Decompressor>();
  if (!dec->raw) return sys::sys_error_n(ENOMEM, "archive_read_new");
  if (archive_read_support_filter_gzip(dec->raw.get()) == ARCHIVE_FATAL ||
      archive_read_support_filter_zstd(dec->raw.get()) == ARCHIVE_FATAL ||
      archive_read_support_format_raw(dec->raw.get()) != ARCHIVE_OK)
    return stream_error(dec->raw.get(), "layer: setting up libarchive");
  if (archive_read_open_fd(dec->raw.get(), archive_fd, 1 << 16) != ARCHIVE_OK)
    return stream_error(dec->raw.get(), "layer: reading the stream");
  archive_entry* raw_entry;
  if (archive_read_next_header(dec->raw.get(), &raw_entry) != ARCHIVE_OK)
    return stream_error(dec->raw.get(), "layer: reading the stream");

  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  if (!a) return sys::sys_error_n(ENOMEM, "archive_read_new");
  if (archive_read_support_format_tar(a.get()) != ARCHIVE_OK)
    return stream_error(a.get(), "layer: setting up libarchive");
  if (archive_read_open(a.get(), dec.get(), nullptr, &Decompressor::read, nullptr) != ARCHIVE_OK)
    return dec->error.empty() ? stream_error(a.get(), "layer: reading the stream")
                              : sys::user_error("layer: " + dec->error);
  Unpacker u(a.get(), layer_dirfd, opts);
  std::string last;
  for (;;) {
    archive_entry* e;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      if (!dec->error.empty())  // the compressed stream is what broke: say so, not "bad tar header"
        return sys::user_error("layer: " + dec->error + (last.empty() ? "" : " (after entry " + last + ")"));
      return stream_error(a.get(), last.empty() ? "layer: the first entry's header"
                                                : "layer: the header after entry " + last);
    }
    if (++u.stats.entries > opts.max_entries)
      return sys::user_error("layer: more than the limit of " + std::to_string(opts.max_entries) +
                             " entries (max_entries)");
    const char* name = archive_entry_pathname(e);
    last = paths::printable(name ? name : "");
    auto applied = u.apply(e);
    if (!applied) return std::move(applied.error()).with_context("layer entry " + last);
  }
  GUISE_TRY(u.finish());
  GUISE_TRY(dec->drain());
  u.stats.diff_id = "sha256:" + dec->hash.hex();
  u.stats.tar_bytes = dec->bytes;
  return u.stats;
}

}  // namespace guise::image
