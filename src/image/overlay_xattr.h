// What marks an opaque directory for the overlays this process mounts: user.overlay.opaque
// in a user namespace (mounted with userxattr: trusted.* cannot be set there), else
// trusted.overlay.opaque. Layers are unpacked with it.
#pragma once

#include <string>

namespace guise::image {

const std::string& default_opaque_xattr();

}  // namespace guise::image
