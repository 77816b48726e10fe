#include "image/progress.h"

namespace guise::image {

const char* status_text(LayerStatus s) {
  switch (s) {
    case LayerStatus::kWaiting: return "Waiting";
    case LayerStatus::kPulling: return "Pulling fs layer";
    case LayerStatus::kDownloading: return "Downloading";
    case LayerStatus::kVerifying: return "Verifying Checksum";
    case LayerStatus::kDownloaded: return "Download complete";
    case LayerStatus::kPullComplete: return "Pull complete";
    case LayerStatus::kAlreadyExists: return "Already exists";
    case LayerStatus::kPreparing: return "Preparing";
    case LayerStatus::kPushing: return "Pushing";
    case LayerStatus::kPushed: return "Pushed";
    case LayerStatus::kLayerExists: return "Layer already exists";
  }
  return "";
}

}  // namespace guise::image
