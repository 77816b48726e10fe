// Push: an image's layers and config uploaded (each skipped when the registry has it),
// then its manifest, exactly the bytes stored, so the digest a pull of it gets is the
// one recorded here.
#pragma once

#include "image/progress.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/store.h"

namespace guise::image {

struct PushResult {
  Digest digest;  // the manifest's
  int64_t size = 0;
};

Result<PushResult> push_image(Store& store, const ImageRecord& image, const Reference& dest,
                              const RegistryOptions& opts, const ProgressFn& progress);

}  // namespace guise::image
