// Snapshots: unpacked in a private tmp/ directory, then published under the layer lock
// by a rename to snapshots/N and, last, the symlink chains/CHAINHEX -> ../N. The gc lock
// is held from the rename to the symlink, so collect_garbage never sees a numbered
// directory that is about to be named.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "image/store.h"
#include "image/store_files.h"
#include "image/store_internal.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace files = store_files;
using store_internal::chains_dir;
using store_internal::snapshots_dir;

PreparedSnapshot::PreparedSnapshot(PreparedSnapshot&& o) noexcept
    : dir_(std::exchange(o.dir_, {})), fs_(std::exchange(o.fs_, {})) {}

PreparedSnapshot& PreparedSnapshot::operator=(PreparedSnapshot&& o) noexcept {
  if (this != &o) {
    if (!dir_.empty()) (void)files::remove_tree(dir_);
    dir_ = std::exchange(o.dir_, {});
    fs_ = std::exchange(o.fs_, {});
  }
  return *this;
}

PreparedSnapshot::~PreparedSnapshot() {
  if (!dir_.empty()) (void)files::remove_tree(dir_);
}

namespace {

// The number a chains/ symlink points at ("../N"), or "" when it is not one.
std::string snapshot_number(const std::string& link) {
  char buf[64];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string target(buf, static_cast<size_t>(n));
  if (target.rfind("../", 0) == 0) target.erase(0, 3);
  if (target.empty() || target.find_first_not_of("0123456789") != std::string::npos) return {};
  return target;
}

Result<void> fsync_dir(const std::string& path) {
  sys::Fd d(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid() || ::fsync(d.get()) < 0) return sys::sys_error("fsync", path);
  return Ok();
}

// Renames `dir` to snapshots/N for the first free N past the highest in use.
Result<std::string> rename_to_next_number(const std::string& root, const std::string& dir) {
  auto names = GUISE_TRY(files::list_dir(snapshots_dir(root)));
  unsigned long next = 1;
  for (const auto& n : names)
    if (n.find_first_not_of("0123456789") == std::string::npos) next = std::max(next, std::stoul(n) + 1);
  for (;; ++next) {
    std::string target = snapshots_dir(root) + "/" + std::to_string(next);
    if (::renameat2(AT_FDCWD, dir.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0)
      return std::to_string(next);
    if (errno != EEXIST) return sys::sys_error("rename snapshot to", target);
  }
}

}  // namespace

std::string Store::snapshot_fs(const SnapshotInfo& s) const { return snapshots_dir(root_) + "/" + s.id + "/fs"; }

std::optional<SnapshotInfo> Store::snapshot(const Digest& chain_id) const {
  std::string n = snapshot_number(chains_dir(root_) + "/" + chain_id.hex);
  if (n.empty()) return std::nullopt;
  auto text = sys::read_file(snapshots_dir(root_) + "/" + n + "/meta.json");
  if (!text.ok()) return std::nullopt;
  auto meta = nlohmann::json::parse(*text, nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) return std::nullopt;
  SnapshotInfo info;
  info.chain_id = chain_id;
  info.id = n;
  auto diff = parse_digest(meta.value("diff_id", ""));
  if (diff.ok()) info.diff_id = *diff;
  info.size = meta.value("size", int64_t{0});
  return info;
}

Result<PreparedSnapshot> Store::prepare_snapshot() const {
  PreparedSnapshot p;
  std::string dir = files::tmp_name(root_, "snapshot");
  if (::mkdir(dir.c_str(), 0700) < 0) return sys::sys_error("mkdir", dir);
  p.dir_ = dir;
  p.fs_ = dir + "/fs";
  if (::mkdir(p.fs_.c_str(), 0755) < 0) return sys::sys_error("mkdir", p.fs_);  // p's destructor removes dir
  return p;
}

Result<SnapshotInfo> Store::publish_snapshot(PreparedSnapshot prepared, const Digest& chain_id,
                                             const Digest& diff_id, int64_t size) {
  if (prepared.dir_.empty()) return sys::user_error("snapshot " + chain_id.str() + ": nothing was prepared");
  if (!files::is_hex(chain_id.hex)) return sys::user_error("invalid chain id " + chain_id.str());
  std::string what = "publishing snapshot " + chain_id.str();
  auto layer = GUISE_TRY(lock(LockKind::kLayer, chain_id.hex), what);
  if (auto existing = snapshot(chain_id)) return *existing;  // another pull won; `prepared` is removed

  nlohmann::json meta = {{"chain_id", chain_id.str()}, {"diff_id", diff_id.str()}, {"size", size}};
  GUISE_TRY(sys::write_file(prepared.dir_ + "/meta.json", meta.dump() + "\n", O_CREAT | O_EXCL, 0644), what);
  // The unpacked files reach the disk before any name points at them.
  {
    sys::Fd d(::open(prepared.dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d.valid() || ::syncfs(d.get()) < 0) return sys::sys_error("syncfs", prepared.dir_).with_context(what);
  }

  auto gc = GUISE_TRY(lock(LockKind::kGc, "gc"), what);
  std::string n = GUISE_TRY(rename_to_next_number(root_, prepared.dir_), what);
  prepared.dir_.clear();
  std::string numbered = snapshots_dir(root_) + "/" + n;
  std::string link_tmp = files::tmp_name(root_, "chain");
  std::string link = chains_dir(root_) + "/" + chain_id.hex;
  bool linked = false;
  auto named = [&]() -> Result<void> {
    GUISE_TRY(fsync_dir(snapshots_dir(root_)));
    if (::symlink(("../" + n).c_str(), link_tmp.c_str()) < 0) return sys::sys_error("symlink", link_tmp);
    if (::rename(link_tmp.c_str(), link.c_str()) < 0) {
      auto err = sys::sys_error("rename onto", link);
      ::unlink(link_tmp.c_str());
      return err;
    }
    linked = true;
    return fsync_dir(chains_dir(root_));
  }();
  if (!named.ok()) {
    if (!linked) (void)files::remove_tree(numbered);  // not named: nobody can be using it
    return std::move(named.error()).with_context(what);
  }
  return SnapshotInfo{chain_id, diff_id, n, size};
}

}  // namespace guise::image
