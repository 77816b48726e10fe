// Container rootfs: rootfs/KEY/{upper,work,merged} and `image`, a copy of the image
// record, so that the rootfs mounts (and keeps its layers from collect_garbage) even
// after the image's record is removed. Made in tmp/ and renamed into place whole.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "image/overlay_mount.h"
#include "image/store.h"
#include "image/store_files.h"
#include "image/store_internal.h"
#include "sys/mountinfo.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace files = store_files;
using store_internal::rootfs_dir;

namespace {

Rootfs rootfs_at(const std::string& dir, const std::string& key, const Digest& image) {
  return Rootfs{key, dir + "/upper", dir + "/work", dir + "/merged", image};
}

Result<ImageRecord> rootfs_image(const std::string& dir) {
  std::string path = dir + "/image";
  auto text = GUISE_TRY(sys::read_file(path));
  return store_internal::parse_image_record(text, path);
}

// Mount points at or under `dir`, deepest first.
std::vector<std::string> mounts_under(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    if (!(fields >> id >> parent >> devno >> root >> point)) continue;
    point = sys::unescape_mountinfo(point);
    if (point == dir || point.rfind(dir + "/", 0) == 0) out.push_back(point);
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

Result<void> unmount_all_under(const std::string& given) {
  char* real = ::realpath(given.c_str(), nullptr);  // mountinfo shows resolved paths
  std::string dir = real ? real : given;
  std::free(real);
  for (int pass = 0; pass < 16; ++pass) {  // mounts stacked on one point come off one per pass
    auto points = mounts_under(dir);
    if (points.empty()) return Ok();
    for (const auto& p : points) {
      if (::umount2(p.c_str(), UMOUNT_NOFOLLOW) == 0 || errno == EINVAL || errno == ENOENT) continue;
      if (errno != EBUSY || ::umount2(p.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
        return sys::sys_error("unmount", p);
    }
  }
  if (!mounts_under(dir).empty()) return sys::wrong_state("mounts remain under " + dir + " after unmounting");
  return Ok();
}

}  // namespace

Result<Rootfs> Store::create_rootfs(const std::string& key, const ImageRecord& image) {
  GUISE_TRY(store_internal::check_key("rootfs key", key));
  std::string what = "creating rootfs " + key;
  std::string dir = rootfs_dir(root_, key);
  auto held = GUISE_TRY(lock(LockKind::kRootfs, key), what);
  if (::access(dir.c_str(), F_OK) == 0) return sys::already_exists("rootfs " + key + " already exists");

  std::string tmp = files::tmp_name(root_, "rootfs");
  auto made = [&]() -> Result<void> {
    if (::mkdir(tmp.c_str(), 0700) < 0) return sys::sys_error("mkdir", tmp);
    for (auto [sub, mode] : {std::pair{"/upper", 0755}, {"/work", 0700}, {"/merged", 0755}})
      if (::mkdir((tmp + sub).c_str(), static_cast<mode_t>(mode)) < 0) return sys::sys_error("mkdir", tmp + sub);
    GUISE_TRY(sys::write_file(tmp + "/image", store_internal::image_record_json(image), O_CREAT | O_EXCL, 0644));
    // Under the gc lock: collect_garbage sees the layers either unused or used by this rootfs.
    auto gc = GUISE_TRY(lock(LockKind::kGc, "gc"));
    for (const auto& chain : image.chain_ids)
      if (!snapshot(chain))
        return sys::not_found("image " + image.id.str() + ": the snapshot of layer " + chain.str() + " is missing");
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) < 0) {
      if (errno == EEXIST) return sys::already_exists("rootfs " + key + " already exists");
      return sys::sys_error("rename into place", dir);
    }
    return Ok();
  }();
  if (!made.ok()) {
    (void)files::remove_tree(tmp);
    return std::move(made.error()).with_context(what);
  }
  return rootfs_at(dir, key, image.id);
}

Result<std::optional<Rootfs>> Store::get_rootfs(const std::string& key) const {
  if (!store_internal::check_key("rootfs key", key).ok()) return std::optional<Rootfs>();
  std::string dir = rootfs_dir(root_, key);
  if (::access(dir.c_str(), F_OK) < 0) return std::optional<Rootfs>();
  auto image = GUISE_TRY(rootfs_image(dir), "reading rootfs " + key);
  return std::optional<Rootfs>(rootfs_at(dir, key, image.id));
}

Result<std::vector<Rootfs>> Store::list_rootfs() const {
  std::vector<Rootfs> out;
  for (const auto& key : GUISE_TRY(files::list_dir(root_ + "/rootfs"))) {
    auto r = get_rootfs(key);
    if (r.ok() && *r) out.push_back(std::move(**r));  // one half removed or unreadable is not listed
  }
  return out;
}

Result<std::vector<std::string>> Store::rootfs_users(const Digest& id) const {
  std::vector<std::string> keys;
  for (const auto& r : GUISE_TRY(list_rootfs()))
    if (r.image == id) keys.push_back(r.key);
  return keys;
}

Result<void> Store::mount_rootfs(const Rootfs& rootfs, const std::string& target, bool volatile_upper) const {
  std::string what = "mounting rootfs " + rootfs.key;
  GUISE_TRY(store_internal::check_key("rootfs key", rootfs.key), what);
  std::string dir = rootfs_dir(root_, rootfs.key);
  auto image = GUISE_TRY(rootfs_image(dir), what);
  OverlayLayers layers;
  layers.base = store_internal::snapshots_dir(root_);
  for (auto it = image.chain_ids.rbegin(); it != image.chain_ids.rend(); ++it) {
    auto s = snapshot(*it);
    if (!s) return sys::not_found("the snapshot of layer " + it->str() + " is missing").with_context(what);
    layers.lowers.push_back(s->id + "/fs");
  }
  // Short names from the snapshots directory keep 128 layers within one page of options.
  layers.upper = "../rootfs/" + rootfs.key + "/upper";
  layers.work = "../rootfs/" + rootfs.key + "/work";
  layers.volatile_upper = volatile_upper;
  GUISE_TRY(mount_overlay(layers, target.empty() ? dir + "/merged" : target), what);
  return Ok();
}

Result<void> Store::remove_rootfs(const std::string& key) {
  GUISE_TRY(store_internal::check_key("rootfs key", key));
  std::string what = "removing rootfs " + key;
  std::string dir = rootfs_dir(root_, key);
  auto held = GUISE_TRY(lock(LockKind::kRootfs, key), what);
  if (::access(dir.c_str(), F_OK) < 0) return sys::not_found("no rootfs " + key);
  GUISE_TRY(unmount_all_under(dir), what);
  // Out of rootfs/ at once; a kill during the removal leaves it to the tmp/ sweep.
  std::string doomed = files::tmp_name(root_, "rootfs-removed");
  if (::rename(dir.c_str(), doomed.c_str()) < 0) return sys::sys_error("rename", dir).with_context(what);
  GUISE_TRY(files::remove_tree(doomed), what);
  return Ok();
}

}  // namespace guise::image
