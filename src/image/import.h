// `import`: a root filesystem tarball (plain, gzip, zstd, ...) made a one-layer image, as
// `docker import` makes it: the uncompressed tar is the layer, the config has the host's
// platform, the time of the import and a history entry "Imported from -".
#pragma once

#include <string>

#include "image/store.h"

namespace guise::image {

struct ImportOptions {
  std::string name;     // a reference (tag :latest by default); empty: an image without a name
  std::string message;  // the history comment; empty: "Imported from -" as docker writes it
};

// `path` "-" reads standard input. Errors are one line: "import FILE: ...".
Result<ImageRecord> import_rootfs(Store& store, const std::string& path, const ImportOptions& opts = {});

// The config `import` writes for one layer `diff_id` (pure: tested on its own).
std::string import_config_json(const Digest& diff_id, const std::string& created, const std::string& comment);

}  // namespace guise::image
