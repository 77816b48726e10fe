// The layer unpacker: a tar stream (plain, gzip or zstd) applied into an empty directory
// in overlay's lower/upper format. libarchive only reads; every create goes through a
// parent directory fd resolved inside the layer (openat2 RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS), then mkdirat, openat(O_EXCL | O_NOFOLLOW), symlinkat, linkat
// or mknodat on it, so no name, symlink or hard link in a layer reaches outside it.
//
// Names are cleaned as if the layer were "/": ".." stops at the layer, an absolute name
// lands inside it. An existing non-directory at a name is unlinked and replaced, never
// written through; an existing directory is kept and its metadata updated. A hard link's
// target is resolved inside the layer and must exist there. `.wh.NAME` becomes a 0:0
// character device NAME (overlay's whiteout), `.wh..wh..opq` the opaque xattr on its
// directory; other `.wh..wh.` names (aufs metadata) are skipped.
//
// Kept: owners (when running as root, shifted by the offsets), modes with
// setuid/setgid/sticky, mtimes (a directory's set after its contents), xattrs (file
// capabilities included), device nodes (counted and skipped where mknod is not
// permitted), fifos, symlinks (the target verbatim). Dropped, counted: security.selinux
// (the host labels the container), overlay's own xattrs (trusted.overlay.*,
// user.overlay.*: only the whiteouts make them), xattrs the filesystem or the caller's
// privilege does not allow.
//
// On error the layer directory is in no promised state: the caller removes it whole
// (the snapshot being prepared is discarded), never uses it.
#pragma once

#include <cstdint>
#include <string>

#include "image/overlay_xattr.h"
#include "sys/result.h"

namespace guise::image {

struct UnpackOptions {
  // Added to every entry's owner (rootless: the start of the subordinate range).
  int64_t uid_offset = 0, gid_offset = 0;
  uint64_t max_entries = 1'000'000;
  uint64_t max_bytes = uint64_t{64} << 30;  // the regular files' sizes, summed
  // What marks an opaque directory: "user.overlay.opaque" for overlay's userxattr mounts.
  // In a user namespace (rootless), trusted.* cannot be set: overlay reads user.* there.
  std::string opaque_xattr = default_opaque_xattr();
};

struct UnpackStats {
  uint64_t entries = 0;      // read from the archive, skipped ones included
  uint64_t bytes = 0;        // regular files' sizes
  uint64_t whiteouts = 0;    // .wh.NAME -> 0:0 character devices
  uint64_t opaque_dirs = 0;  // .wh..wh..opq -> the opaque xattr
  uint64_t skipped_devices = 0;  // block or character devices mknod refused (EPERM)
  uint64_t skipped_xattrs = 0;   // filtered, or not supported or permitted here
  uint64_t skipped_entries = 0;  // aufs metadata, non-directories naming the layer root
  std::string diff_id;           // "sha256:HEX" of the uncompressed tar: the config's rootfs.diff_ids entry
  uint64_t tar_bytes = 0;        // the uncompressed tar's length
};

// Reads the stream from `archive_fd` (its current position) and applies it into
// `layer_dirfd`, an empty directory made for this layer. Errors name the entry as the
// archive spells it and the operation: "layer entry etc/passwd: open: Permission denied";
// a corrupt or truncated stream names the entry and the offset in the tar stream.
Result<UnpackStats> unpack_layer(int archive_fd, int layer_dirfd, const UnpackOptions& opts = {});

}  // namespace guise::image
