// What a pull or a push reports as it goes, per layer, for the CLI to draw (docker's
// per-layer lines on a terminal, plain lines otherwise, nothing with -q). Called from
// the worker threads: the receiver serialises.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace guise::image {

enum class LayerStatus {
  kWaiting,        // "Waiting" (queued behind the parallel limit)
  kPulling,        // "Pulling fs layer"
  kDownloading,    // "Downloading" with current/total
  kVerifying,      // "Verifying Checksum"
  kDownloaded,     // "Download complete"
  kPullComplete,   // "Pull complete": unpacked and published
  kAlreadyExists,  // "Already exists": the snapshot was there
  kPreparing,      // push: "Preparing"
  kPushing,        // push: "Pushing" with current/total
  kPushed,         // push: "Pushed"
  kLayerExists,    // push: "Layer already exists"
};
const char* status_text(LayerStatus s);

struct LayerEvent {
  std::string id;  // the first 12 hex digits of the layer blob's digest, as docker shows it
  LayerStatus status;
  int64_t current = 0, total = 0;
};

using ProgressFn = std::function<void(const LayerEvent&)>;

}  // namespace guise::image
