// v2 io controller: weights go to BFQ's io.bfq.weight when that scheduler is there (same
// scale as blkio), otherwise to io.weight converted as runc does; throttles to io.max.
// io.weight exists only with the io.cost controller (CONFIG_BLK_CGROUP_IOCOST): with the io
// controller enabled and neither file there, a weight is refused with that reason.
#include "cgroups/fs.h"
#include "cgroups/v2.h"
#include "cgroups/values.h"

namespace guise::cgroups::v2 {

namespace {

constexpr const char* kWeightField = "linux.resources.blockIO.weight";
constexpr const char* kDeviceField = "linux.resources.blockIO.weightDevice";

Result<void> set_weights(const std::string& dir, const oci::BlockIoResources& b) {
  bool weight = b.weight && *b.weight != 0;
  if (!weight && b.weight_device.empty()) return Ok();
  bool bfq = fs::exists(dir, "io.bfq.weight");
  const char* file = bfq ? "io.bfq.weight" : "io.weight";
  if (!bfq && !fs::exists(dir, "io.weight") && fs::exists(dir, "io.max"))
    return sys::user_error(std::string(weight ? kWeightField : kDeviceField) +
                           ": this host has no io weight file (the BFQ I/O scheduler is not in use on any disk, "
                           "and the kernel has no io.cost controller)");
  auto scale = [bfq](uint64_t w) { return bfq ? w : blkio_weight_to_io_weight(w); };
  if (weight) GUISE_TRY(write(dir, file, std::to_string(scale(*b.weight)), kWeightField));
  for (const auto& d : b.weight_device) {
    if (d.leaf_weight) return sys::user_error(std::string(kDeviceField) + ".leafWeight: cgroup v2 has no leaf weights");
    if (d.weight) GUISE_TRY(write(dir, file, device_value(d.major, d.minor, scale(*d.weight)), kDeviceField));
  }
  return Ok();
}

}  // namespace

Result<void> apply_io(const std::string& dir, const oci::Resources& r) {
  if (!r.block_io) return Ok();
  const auto& b = *r.block_io;
  if (b.leaf_weight && *b.leaf_weight != 0)
    return sys::user_error("linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights");
  GUISE_TRY(set_weights(dir, b));
  for (const auto& line : io_max_lines(b)) GUISE_TRY(write(dir, "io.max", line, "linux.resources.blockIO.throttle*"));
  return Ok();
}

}  // namespace guise::cgroups::v2
