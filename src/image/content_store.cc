#include "image/content_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "sys/syscalls.h"

namespace guise::image {

namespace {

Result<void> make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return sys::sys_error_n(ec.value(), "mkdir", path);
  return Ok();
}

Result<void> fsync_dir(const std::string& path) {
  sys::Fd d(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid() || ::fsync(d.get()) < 0) return sys::sys_error("fsync", path);
  return Ok();
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace

Result<ContentStore> ContentStore::open(const std::string& root) {
  GUISE_TRY(make_dirs(root + "/blobs/sha256"), "content store");
  GUISE_TRY(make_dirs(root + "/ingest"), "content store");
  return ContentStore(root);
}

bool ContentStore::has(const Digest& d) const { return ::access(blob_path(d).c_str(), F_OK) == 0; }

Result<std::string> ContentStore::read(const Digest& d, size_t max) const {
  std::string path = blob_path(d);
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return sys::not_found("blob " + d.str() + " is not in the store");
    return sys::sys_error("stat", path);
  }
  if (static_cast<size_t>(st.st_size) > max)
    return sys::user_error("blob " + d.str() + " is " + std::to_string(st.st_size) + " bytes, more than " +
                           std::to_string(max) + " expected for it");
  std::string text = GUISE_TRY(sys::read_file(path));
  // Verified on every read: a blob changed on disk must not be trusted.
  if (d.algorithm == "sha256" && sha256_of(text) != d)
    return sys::user_error("blob " + d.str() + " in the store does not match its digest (it is " +
                           sha256_of(text).str() + ")");
  return text;
}

Result<Digest> ContentStore::put(std::string_view data) const {
  Digest d = sha256_of(data);
  auto ingest = GUISE_TRY(begin("put-" + d.hex, d, static_cast<int64_t>(data.size())));
  if (!ingest) return d;
  if (ingest->offset() != 0) {  // an earlier put died: start again, the whole blob is here
    ingest->abort();
    ingest = GUISE_TRY(begin("put-" + d.hex, d, static_cast<int64_t>(data.size())));
    if (!ingest) return d;
  }
  GUISE_TRY(ingest->write(data));
  GUISE_TRY(ingest->commit());
  return d;
}

Result<std::optional<Ingest>> ContentStore::begin(const std::string& ref, const Digest& want, int64_t size) const {
  if (want.algorithm != "sha256") return sys::user_error("blob " + want.str() + ": only sha256 blobs can be stored");
  if (has(want)) return std::optional<Ingest>();
  Ingest in;
  in.blobs_ = root_ + "/blobs/" + want.algorithm;
  in.want_ = want;
  in.size_ = size;
  in.dir_ = root_ + "/ingest/" + sys::sha256_hex(ref);
  if (::mkdir(in.dir_.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error("mkdir", in.dir_);
  in.lock_.reset(::open((in.dir_ + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!in.lock_.valid() && errno == ENOENT) return begin(ref, want, size);  // a collection took the dir: again
  if (!in.lock_.valid()) return sys::sys_error("open", in.dir_ + "/lock");
  while (::flock(in.lock_.get(), LOCK_EX) < 0)
    if (errno != EINTR) return sys::sys_error("lock", in.dir_);
  struct stat lock_st {};
  if (::fstat(in.lock_.get(), &lock_st) == 0 && lock_st.st_nlink == 0) {
    in.lock_.reset();  // the holder before removed the ingest (committed or aborted): look again
    in.dir_.clear();
    return begin(ref, want, size);
  }
  // Another process may have finished it while this one waited.
  if (has(want)) {
    remove_tree(in.dir_);
    return std::optional<Ingest>();
  }
  (void)sys::write_file(in.dir_ + "/ref", ref, O_CREAT | O_TRUNC, 0600);
  in.data_.reset(::open((in.dir_ + "/data").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!in.data_.valid()) return sys::sys_error("open", in.dir_ + "/data");
  // Resuming: what is there is hashed again, so the digest covers every byte.
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(in.data_.get(), buf, sizeof buf)) > 0) {
    in.hasher_.update(buf, static_cast<size_t>(n));
    in.written_ += n;
  }
  if (n < 0) return sys::sys_error("read", in.dir_ + "/data");
  if (size >= 0 && in.written_ > size) {  // more than the blob has: nothing of it can be trusted
    in.abort();
    return begin(ref, want, size);
  }
  return std::optional<Ingest>(std::move(in));
}

Result<void> Ingest::write(std::string_view data) {
  if (size_ >= 0 && written_ + static_cast<int64_t>(data.size()) > size_) {
    std::string what = "blob " + want_.str() + ": more than the " + std::to_string(size_) + " bytes expected";
    abort();
    return sys::user_error(what);
  }
  GUISE_TRY(sys::write_all(data_.get(), data, "blob data"));
  hasher_.update(data);
  written_ += static_cast<int64_t>(data.size());
  return Ok();
}

Result<void> Ingest::commit() {
  if (::fsync(data_.get()) < 0) return sys::sys_error("fsync", dir_ + "/data");
  std::string got = sys::Sha256(hasher_).hex();
  if ((size_ >= 0 && written_ != size_) || got != want_.hex) {
    std::string what = "blob " + want_.str() + ": " +
                       (size_ >= 0 && written_ != size_
                            ? std::to_string(written_) + " bytes arrived, " + std::to_string(size_) + " expected"
                            : "digest mismatch: expected " + want_.str() + ", got sha256:" + got);
    abort();
    return sys::user_error(what);
  }
  if (::fchmod(data_.get(), 0444) < 0) return sys::sys_error("chmod", dir_ + "/data");
  const std::string& blobs = blobs_;
  std::string target = blobs + "/" + want_.hex;
  if (::renameat2(AT_FDCWD, (dir_ + "/data").c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) < 0 &&
      errno != EEXIST)  // EEXIST: the same content, committed by another ref first
    return sys::sys_error("rename into the store", target);
  GUISE_TRY(fsync_dir(blobs));
  data_.reset();
  remove_tree(dir_);
  lock_.reset();
  return Ok();
}

void Ingest::abort() {
  data_.reset();
  if (!dir_.empty()) remove_tree(dir_);
  lock_.reset();
  dir_.clear();
}

}  // namespace guise::image
