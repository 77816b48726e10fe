#include "image/manifest.h"

namespace guise::image {

std::string manifest_accept_header() {
  std::string out;
  for (auto type : {media::kOciIndex, media::kOciManifest, media::kDockerList, media::kDockerManifest}) {
    if (!out.empty()) out += ", ";
    out += type;
  }
  return out;
}

}  // namespace guise::image
