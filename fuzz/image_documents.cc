// What a registry or an image archive hands guise before any digest is checked against
// it: an index (manifest list), a manifest, an image config, and the names inside them
// (references, digests, platforms). Each input is tried as every document; what parses
// must hold together (digests valid, the platform chosen is one the index lists), and a
// reference or digest that parses prints as text that parses back to the same.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "image/manifest.h"
#include "image/reference.h"

namespace {

using namespace guise;

void check_descriptor(const image::Descriptor& d) {
  auto again = image::parse_digest(d.digest.str());
  fuzz::check(again.ok() && *again == d.digest, "a descriptor holds a digest that does not parse", d.digest.str());
}

void names(std::string_view text) {
  if (auto r = image::parse_reference(text); r) {
    auto again = image::parse_reference(r->str());
    fuzz::check(again.ok() && again->str() == r->str(), "a reference does not read back", r->str());
    auto familiar = image::parse_reference(r->familiar());
    fuzz::check(familiar.ok() && familiar->str() == r->str(), "a familiar reference does not read back",
                r->familiar());
  } else {
    fuzz::check_error_line(r.error().message());
  }
  if (auto d = image::parse_digest(text); d) {
    auto again = image::parse_digest(d->str());
    fuzz::check(again.ok() && *again == *d, "a digest does not read back", d->str());
  }
  if (auto p = image::parse_platform(text); p) {
    auto again = image::parse_platform(p->str());
    fuzz::check(again.ok() && *again == *p, "a platform does not read back", p->str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string sniffed = image::sniff_media_type(text);

  if (auto index = image::parse_index(text, image::is_index(sniffed) ? sniffed : std::string_view{}); index) {
    for (const auto& d : index->manifests) check_descriptor(d);
    for (const char* want : {"linux/amd64", "linux/arm64", "linux/arm/v7"}) {
      auto chosen = image::select_platform(*index, *image::parse_platform(want), "fuzz");
      if (!chosen) {
        fuzz::check_error_line(chosen.error().message());
        continue;
      }
      check_descriptor(*chosen);
    }
  } else {
    fuzz::check_error_line(index.error().message());
  }

  if (auto m = image::parse_manifest(text); m) {
    check_descriptor(m->config);
    for (const auto& l : m->layers) check_descriptor(l);
  } else {
    fuzz::check_error_line(m.error().message());
  }

  if (auto c = image::parse_config(text); c) {
    auto chain = image::chain_ids(c->diff_ids);
    fuzz::check(chain.size() == c->diff_ids.size(), "one chain id per layer");
  } else {
    fuzz::check_error_line(c.error().message());
  }

  if (size <= 512) names(text);
  return 0;
}
