#include "image/overlay_xattr.h"

#include "linux/userns.h"

namespace guise::image {

const std::string& default_opaque_xattr() {
  static const std::string name = linux::in_user_namespace() ? "user.overlay.opaque" : "trusted.overlay.opaque";
  return name;
}

}  // namespace guise::image
