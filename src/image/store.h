// The image store: content (blobs by digest), snapshots (one unpacked layer each, named
// by chain id), image records, names, container rootfs (an overlay over an image's
// snapshots), leases and garbage collection. Three stores that point one way: names →
// image records → content and snapshots; rootfs → image record. Nothing is counted by
// hand: what no root reaches is garbage (collect_garbage).
//
// Layout under root (/var/lib/guise as root, $XDG_DATA_HOME/guise otherwise):
//   blobs/sha256/HEX, ingest/          the ContentStore
//   snapshots/N/fs, snapshots/N/meta.json   N a short number: 128 lowers fit mount's page
//   snapshots/chains/CHAINHEX -> N     a symlink, made last: a snapshot exists once it is there
//   images/IDHEX.json                  image records, replaced whole by rename
//   names/ESCAPED                      "name\tIDHEX": a name points at one image
//   rootfs/KEY/{upper,work,merged,image}   a container's writable layer and its image
//                                      (a copy of the record: it mounts, and keeps its layers, without it)
//   leases/ID                          "pid starttime expiry", then "blob D"/"snapshot C" lines: roots
//                                      for a pull in progress
//   locks/{layer,image,name,rootfs,gc}/KEY  flock files, taken in the order blob → layer → image → name
//   tmp/PID-STARTTIME-...              private work (unpacking, temps), removed when its maker is gone
// Every write is temp-then-rename; a kill -9 anywhere leaves at most garbage that the
// next collect_garbage (or open's sweep of tmp/) removes, never a half-visible object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/content_store.h"
#include "image/digest.h"
#include "sys/file_lock.h"
#include "sys/result.h"

namespace guise::image {

struct ImageRecord {
  Digest id;        // the config blob's digest: docker's image ID
  Digest manifest;  // the single-platform manifest, in the content store
  std::string manifest_media_type;
  // "docker.io/library/busybox@sha256:..." for each repository it was pulled from or
  // pushed to: the digest the registry knows (the index's when pulled through one).
  std::vector<std::string> repo_digests;
  std::vector<Digest> chain_ids;  // bottom first; one snapshot each
  int64_t size = 0;               // unpacked bytes of all layers
  std::string created;            // the config's "created"
  std::string added;              // when this store got it (RFC 3339)
  std::string platform;           // "linux/amd64"
};

struct SnapshotInfo {
  Digest chain_id;
  Digest diff_id;
  std::string id;   // N
  int64_t size = 0; // bytes of the unpacked files
};

// A snapshot being made: a private directory under tmp/, removed by the destructor
// unless published.
class PreparedSnapshot {
 public:
  PreparedSnapshot(PreparedSnapshot&&) noexcept;
  PreparedSnapshot& operator=(PreparedSnapshot&&) noexcept;
  ~PreparedSnapshot();
  const std::string& fs_path() const { return fs_; }  // unpack into this (empty directory)

 private:
  friend class Store;
  PreparedSnapshot() = default;
  std::string dir_, fs_;
};

struct Rootfs {
  std::string key;
  std::string upper, work, merged;  // merged: where mount_rootfs mounts by default
  Digest image;
};

struct GcReport {
  std::vector<Digest> blobs_removed;
  std::vector<std::string> snapshots_removed;  // chain ids (hex)
  int64_t bytes_freed = 0;
};

struct DiskUsage {
  int64_t images_size = 0, images_reclaimable = 0;  // unpacked snapshots; reclaimable: no container uses it
  int64_t blobs_size = 0;
  int64_t rootfs_size = 0;  // containers' upper dirs
  int images = 0, images_active = 0, containers = 0;
};

enum class LockKind { kLayer, kImage, kName, kRootfs, kGc };

class Store {
 public:
  static std::string default_root();  // /var/lib/guise for the host's root, else $XDG_DATA_HOME/guise
  // Makes the layout; removes tmp/ entries and leases left by dead processes.
  static Result<Store> open(const std::string& root);

  const std::string& root() const { return root_; }
  ContentStore& content() { return content_; }
  const ContentStore& content() const { return content_; }

  Result<sys::FileLock> lock(LockKind kind, std::string_view key) const;

  // --- snapshots
  std::optional<SnapshotInfo> snapshot(const Digest& chain_id) const;
  std::string snapshot_fs(const SnapshotInfo& s) const;  // root/snapshots/N/fs
  Result<PreparedSnapshot> prepare_snapshot() const;
  // Takes the layer lock; a snapshot already published for chain_id wins (prepared is
  // discarded) and is returned.
  Result<SnapshotInfo> publish_snapshot(PreparedSnapshot prepared, const Digest& chain_id, const Digest& diff_id,
                                        int64_t size);

  // --- image records
  Result<void> put_image(const ImageRecord& record);  // replaces a record with the same id
  Result<std::optional<ImageRecord>> get_image(const Digest& id) const;
  Result<std::vector<ImageRecord>> list_images() const;
  // Record only (names pointing at it are removed too); collect_garbage frees the rest.
  Result<void> remove_image(const Digest& id);

  // --- names: full normalised references ("docker.io/library/busybox:latest")
  Result<void> set_name(const std::string& name, const Digest& id);  // moves the name if taken
  Result<bool> remove_name(const std::string& name);
  Result<std::vector<std::pair<std::string, Digest>>> list_names() const;
  Result<std::vector<std::string>> names_of(const Digest& id) const;
  // The image `text` names: a reference (normalised as docker does; with @digest it
  // matches repo_digests), a full id ("sha256:HEX" or HEX), or an unambiguous id prefix
  // (at least 3 hex digits). not_found: "No such image: TEXT".
  Result<ImageRecord> resolve(std::string_view text) const;

  // --- container rootfs
  // Makes rootfs/KEY (upper, work, merged) recorded against the image; already_exists if taken.
  Result<Rootfs> create_rootfs(const std::string& key, const ImageRecord& image);
  Result<std::optional<Rootfs>> get_rootfs(const std::string& key) const;
  Result<std::vector<Rootfs>> list_rootfs() const;
  // Mounts the overlay (lowers = the image's snapshots, top first) on `target` ("" = merged).
  // Uses one `lowerdir+` per layer where the kernel has it (6.8+), else short relative
  // names from the snapshots directory so 128 layers fit one page of options.
  // `volatile_upper`: for a rootfs removed at its first unmount (overlay_mount.h).
  Result<void> mount_rootfs(const Rootfs& rootfs, const std::string& target = {}, bool volatile_upper = false) const;
  // Unmounts (detaching if busy) and removes rootfs/KEY whole.
  Result<void> remove_rootfs(const std::string& key);
  // Keys of the rootfs made from `id`: an image in use cannot be removed.
  Result<std::vector<std::string>> rootfs_users(const Digest& id) const;

  // --- leases: a pull holds one from its first blob to its image record, so GC keeps
  // what it fetched. Released by the destructor; one whose process died is ignored.
  class Lease {
   public:
    Lease(Lease&&) noexcept;
    Lease& operator=(Lease&&) noexcept;
    ~Lease();
    void add(const Digest& blob);         // content kept while the lease lives
    void add_snapshot(const Digest& chain_id);

   private:
    friend class Store;
    Lease() = default;
    std::string path_;
  };
  Result<Lease> take_lease();

  // --- garbage: blobs, snapshots and ingests no image record, rootfs or live lease reaches.
  Result<GcReport> collect_garbage();
  Result<DiskUsage> disk_usage() const;

 private:
  explicit Store(std::string root, ContentStore content) : root_(std::move(root)), content_(std::move(content)) {}
  std::string root_;
  ContentStore content_;
};

// The mark of collect_garbage, pure: from the roots, what is reachable. Unit-tested on
// hand-built graphs. `manifest_refs` maps a manifest digest to the config and layer
// digests it names.
struct GcGraph {
  std::vector<ImageRecord> images;
  std::vector<Digest> rootfs_images;  // images of rootfs (kept even if their record is gone)
  std::vector<Digest> lease_blobs;
  std::vector<Digest> lease_snapshots;
  std::vector<std::pair<Digest, std::vector<Digest>>> manifest_refs;
};
struct GcMarks {
  std::vector<Digest> blobs;      // reachable
  std::vector<Digest> snapshots;  // reachable chain ids
};
GcMarks mark_reachable(const GcGraph& graph);

}  // namespace guise::image
