// A directory tree written as a tar stream, read only through fds: each entry is opened
// on its parent's fd with O_NOFOLLOW, so a symlink in the tree is stored as a link and
// never read through, and nothing outside the tree is reached. For export, cp and commit.
#pragma once

#include <string>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::cli {

struct TreeTarOptions {
  // The container layer's form turned back into a layer's: a 0:0 character device is
  // ".wh.NAME", a directory with the opaque xattr gets ".wh..wh..opq".
  bool overlay_whiteouts = false;
  bool caller_owner = false;  // every entry owned by the caller's uid and gid (docker cp without -a)
};

// Writes `name` in `parent_fd` (not followed; "." for the directory itself) and all it
// holds to `out_fd`, as entries named `as` and `as/...`; with `as` empty the top
// directory gets no entry and its contents are named from the top.
Result<void> write_tree_tar(int out_fd, int parent_fd, const std::string& name, const std::string& as,
                            const TreeTarOptions& opts);

// Resolves `path` inside `root_fd` (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): the parent
// directory's fd and the last component (the last component not followed unless
// `follow`; "." when the path is the root). not_found when the parent is missing, or
// with `follow` when the path is; `exists` says whether the last component is there.
struct InRootPath {
  sys::Fd parent;
  std::string name;
  std::string path;  // inside the root, "/" based
  bool exists = false;
  bool is_dir = false;  // the last component, not followed
};
Result<InRootPath> resolve_in_root(int root_fd, const std::string& path, bool follow);

}  // namespace guise::cli
