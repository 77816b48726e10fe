#include "image/store.h"

#include <unistd.h>

#include <cstdlib>

#include "image/store_files.h"
#include "linux/userns.h"
#include "image/store_internal.h"

namespace guise::image {

namespace files = store_files;

namespace {

const char* lock_dir_name(LockKind kind) {
  switch (kind) {
    case LockKind::kLayer: return "layer";
    case LockKind::kImage: return "image";
    case LockKind::kName: return "name";
    case LockKind::kRootfs: return "rootfs";
    case LockKind::kGc: return "gc";
  }
  return "other";
}

}  // namespace

namespace store_internal {

Result<void> check_key(std::string_view what, std::string_view key) {
  bool ok = !key.empty() && key.size() <= 200 && key[0] != '.';
  for (char c : key)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '-' || c == '.' || c == '%');
  if (!ok) return sys::user_error("invalid " + std::string(what) + " \"" + std::string(key) + "\"");
  return Ok();
}

int64_t sweep_tmp(const std::string& root) {
  int64_t freed = 0;
  auto names = files::list_dir(root + "/tmp");
  if (!names.ok()) return 0;
  for (const auto& name : *names) {
    if (files::tmp_owner_alive(name)) continue;
    std::string path = root + "/tmp/" + name;
    int64_t size = files::tree_size(path);
    if (files::remove_tree(path).ok()) freed += size;
  }
  return freed;
}

}  // namespace store_internal

std::string Store::default_root() {
  // A rootless guise's root (in its namespaces) is the user still: its store is in its home.
  if (::geteuid() == 0 && !linux::in_rootless_session()) return "/var/lib/guise";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg == '/') return std::string(xdg) + "/guise";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/") + "/.local/share/guise";
}

Result<Store> Store::open(const std::string& root) {
  if (root.empty() || root[0] != '/') return sys::user_error("image store root \"" + root + "\" is not absolute");
  auto content = GUISE_TRY(ContentStore::open(root), "opening the image store");
  for (const char* sub : {"/snapshots", "/snapshots/chains", "/images", "/names", "/rootfs", "/leases", "/tmp",
                          "/locks", "/locks/layer", "/locks/image", "/locks/name", "/locks/rootfs", "/locks/gc"})
    GUISE_TRY(files::make_dir(root + sub, 0700), "opening the image store");
  store_internal::sweep_tmp(root);
  GUISE_TRY(store_internal::read_leases(root), "opening the image store");  // drops dead leases
  return Store(root, std::move(content));
}

Result<sys::FileLock> Store::lock(LockKind kind, std::string_view key) const {
  GUISE_TRY(store_internal::check_key("lock key", key));
  return sys::FileLock::acquire(root_ + "/locks/" + lock_dir_name(kind) + "/" + std::string(key));
}

}  // namespace guise::image
