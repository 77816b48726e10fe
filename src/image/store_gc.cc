// Garbage collection: under the gc lock, read the roots (image records, the image copy
// in each rootfs, live leases), mark what they reach, unlink unreachable blobs and
// move unreachable snapshots out of sight into tmp/; the trees are removed after the
// lock is released.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "image/store.h"
#include "image/store_files.h"
#include "image/store_internal.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace files = store_files;
using store_internal::chains_dir;
using store_internal::snapshots_dir;

namespace {

// Keeps the first-seen order, so marks come out deterministic.
class DigestSet {
 public:
  bool insert(const Digest& d) {
    if (!seen_.insert(d.str()).second) return false;
    items_.push_back(d);
    return true;
  }
  bool contains(const Digest& d) const { return seen_.count(d.str()) != 0; }
  const std::vector<Digest>& items() const { return items_; }

 private:
  std::set<std::string> seen_;
  std::vector<Digest> items_;
};

std::string link_number(const std::string& link) {
  char buf[64];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string target(buf, static_cast<size_t>(n));
  if (target.rfind("../", 0) == 0) target.erase(0, 3);
  return target;
}


bool is_number(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

}  // namespace

GcMarks mark_reachable(const GcGraph& graph) {
  DigestSet blobs, snapshots;
  for (const auto& image : graph.images) {
    blobs.insert(image.id);
    blobs.insert(image.manifest);
    for (const auto& c : image.chain_ids) snapshots.insert(c);
  }
  for (const auto& id : graph.rootfs_images) blobs.insert(id);
  for (const auto& b : graph.lease_blobs) blobs.insert(b);
  for (const auto& s : graph.lease_snapshots) snapshots.insert(s);
  // A reachable manifest reaches what it names; items() grows while it is walked.
  for (size_t i = 0; i < blobs.items().size(); ++i) {
    Digest blob = blobs.items()[i];
    for (const auto& [manifest, refs] : graph.manifest_refs)
      if (manifest == blob)
        for (const auto& r : refs) blobs.insert(r);
  }
  return GcMarks{blobs.items(), snapshots.items()};
}

namespace store_internal {

Result<std::vector<Digest>> manifest_refs(std::string_view manifest_json) {
  auto j = nlohmann::json::parse(manifest_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return sys::user_error("manifest is not a JSON object");
  std::vector<Digest> refs;
  auto add = [&](const nlohmann::json& descriptor) {
    if (!descriptor.is_object()) return;
    auto it = descriptor.find("digest");
    if (it == descriptor.end() || !it->is_string()) return;
    if (auto d = parse_digest(it->get<std::string>()); d.ok()) refs.push_back(*d);
  };
  if (auto it = j.find("config"); it != j.end()) add(*it);
  for (const char* list : {"layers", "manifests"})
    if (auto it = j.find(list); it != j.end() && it->is_array())
      for (const auto& d : *it) add(d);
  return refs;
}

}  // namespace store_internal

Result<GcReport> Store::collect_garbage() {
  const std::string what = "collecting garbage";
  GcReport report;
  std::vector<std::string> doomed;  // moved into tmp/ under the lock, removed after it
  {
    auto gc = GUISE_TRY(lock(LockKind::kGc, "gc"), what);
    report.bytes_freed += store_internal::sweep_tmp(root_);

    GcGraph graph;
    auto leases = GUISE_TRY(store_internal::read_leases(root_), what);
    graph.lease_blobs = std::move(leases.blobs);
    graph.lease_snapshots = std::move(leases.snapshots);
    graph.images = GUISE_TRY(list_images(), what);
    for (const auto& key : GUISE_TRY(files::list_dir(root_ + "/rootfs"), what)) {
      std::string path = store_internal::rootfs_dir(root_, key) + "/image";
      auto text = sys::read_file(path);
      if (!text.ok()) continue;
      auto image = GUISE_TRY(store_internal::parse_image_record(*text, path), what);
      graph.rootfs_images.push_back(image.id);
      bool recorded = false;
      for (const auto& r : graph.images) recorded = recorded || r.id == image.id;
      if (!recorded) graph.images.push_back(std::move(image));  // its layers stay while the rootfs does
    }
    for (const auto& image : graph.images) {
      auto text = content_.read(image.manifest);
      if (!text.ok()) continue;  // missing: nothing more to keep for it
      auto refs = store_internal::manifest_refs(*text);
      if (refs.ok()) graph.manifest_refs.emplace_back(image.manifest, std::move(*refs));
    }
    GcMarks marks = mark_reachable(graph);
    DigestSet keep_blobs, keep_snapshots;
    for (const auto& b : marks.blobs) keep_blobs.insert(b);
    for (const auto& s : marks.snapshots) keep_snapshots.insert(s);

    std::string blobs_dir = root_ + "/blobs/sha256";
    for (const auto& hex : GUISE_TRY(files::list_dir(blobs_dir), what)) {
      auto d = files::sha256_from_hex(hex);
      if (d.ok() && keep_blobs.contains(*d)) continue;
      std::string path = blobs_dir + "/" + hex;
      struct stat st {};
      int64_t size = ::lstat(path.c_str(), &st) == 0 ? st.st_size : 0;
      if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys::sys_error("remove", path).with_context(what);
      report.bytes_freed += size;
      if (d.ok()) report.blobs_removed.push_back(*d);
    }

    std::set<std::string> named;  // snapshot numbers that keep their chains/ link
    for (const auto& hex : GUISE_TRY(files::list_dir(chains_dir(root_)), what)) {
      std::string link = chains_dir(root_) + "/" + hex;
      auto d = files::sha256_from_hex(hex);
      if (d.ok() && keep_snapshots.contains(*d)) {
        named.insert(link_number(link));
        continue;
      }
      // The name goes first: a snapshot without its link is invisible, then gone.
      if (::unlink(link.c_str()) < 0 && errno != ENOENT) return sys::sys_error("remove", link).with_context(what);
      report.snapshots_removed.push_back(hex);
    }
    for (const auto& n : GUISE_TRY(files::list_dir(snapshots_dir(root_)), what)) {
      if (!is_number(n) || named.count(n)) continue;
      std::string target = files::tmp_name(root_, "snapshot-removed");
      if (::rename((snapshots_dir(root_) + "/" + n).c_str(), target.c_str()) == 0) doomed.push_back(target);
    }

    // An ingest nobody holds is a pull that died; its lock is held while it goes. One
    // removed between its maker's mkdir and flock is made again by the maker
    // (ContentStore::begin notices the lock file gone).
    std::string ingest_dir = root_ + "/ingest";
    for (const auto& name : GUISE_TRY(files::list_dir(ingest_dir), what)) {
      std::string dir = ingest_dir + "/" + name;
      auto held = sys::FileLock::try_acquire(dir + "/lock");
      if (!held.ok() || !held->held()) continue;
      report.bytes_freed += files::tree_size(dir);
      (void)files::remove_tree(dir);
    }
  }
  for (const auto& path : doomed) {
    report.bytes_freed += files::tree_size(path);
    GUISE_TRY(files::remove_tree(path), what);
  }
  return report;
}

Result<DiskUsage> Store::disk_usage() const {
  const std::string what = "measuring the image store";
  DiskUsage usage;
  auto images = GUISE_TRY(list_images(), what);
  auto rootfs = GUISE_TRY(list_rootfs(), what);
  usage.images = static_cast<int>(images.size());
  usage.containers = static_cast<int>(rootfs.size());

  std::set<std::string> used_images, used_chains;
  for (const auto& r : rootfs) {
    used_images.insert(r.image.str());
    auto text = sys::read_file(store_internal::rootfs_dir(root_, r.key) + "/image");
    if (!text.ok()) continue;
    if (auto copy = store_internal::parse_image_record(*text, r.key); copy.ok())
      for (const auto& c : copy->chain_ids) used_chains.insert(c.hex);
  }
  for (const auto& image : images) usage.images_active += used_images.count(image.id.str()) ? 1 : 0;

  // Sizes are apparent sizes (st_size), as docker reports them: a snapshot's is the one
  // recorded when it was published (its files' bytes), a rootfs's that of its upper dir.
  for (const auto& hex : GUISE_TRY(files::list_dir(chains_dir(root_)), what)) {
    auto chain = files::sha256_from_hex(hex);
    if (!chain.ok()) continue;
    auto s = snapshot(*chain);
    if (!s) continue;
    usage.images_size += s->size;
    if (!used_chains.count(hex)) usage.images_reclaimable += s->size;
  }
  std::string blobs_dir = root_ + "/blobs/sha256";
  for (const auto& hex : GUISE_TRY(files::list_dir(blobs_dir), what)) {
    struct stat st {};
    if (::lstat((blobs_dir + "/" + hex).c_str(), &st) == 0) usage.blobs_size += st.st_size;
  }
  for (const auto& r : rootfs) usage.rootfs_size += files::tree_size(r.upper);
  return usage;
}

}  // namespace guise::image
