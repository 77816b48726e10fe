// v1 blkio controller: weights (CFQ's blkio.weight, or BFQ's blkio.bfq.weight where CFQ
// is gone, as runc picks) and the throttle.* per-device limits.
#include "cgroups/fs.h"
#include "cgroups/v1.h"
#include "cgroups/values.h"

namespace guise::cgroups::v1 {

namespace {

bool any_set(const oci::BlockIoResources& b) {
  return b.weight || b.leaf_weight || !b.weight_device.empty() || !b.throttle_read_bps_device.empty() ||
         !b.throttle_write_bps_device.empty() || !b.throttle_read_iops_device.empty() ||
         !b.throttle_write_iops_device.empty();
}

Result<void> set_weights(const std::string& dir, const oci::BlockIoResources& b) {
  bool cfq = fs::exists(dir, "blkio.weight");
  const char* weight_file = cfq ? "blkio.weight" : "blkio.bfq.weight";
  const char* device_file = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
  if (b.weight && *b.weight != 0)
    GUISE_TRY(fs::write(dir, weight_file, std::to_string(*b.weight), "linux.resources.blockIO.weight"));
  if (b.leaf_weight && *b.leaf_weight != 0)
    GUISE_TRY(
        fs::write(dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight), "linux.resources.blockIO.leafWeight"));
  for (const auto& d : b.weight_device) {
    if (d.weight)
      GUISE_TRY(fs::write(dir, device_file, device_value(d.major, d.minor, *d.weight),
                          "linux.resources.blockIO.weightDevice"));
    if (d.leaf_weight)
      GUISE_TRY(fs::write(dir, "blkio.leaf_weight_device", device_value(d.major, d.minor, *d.leaf_weight),
                          "linux.resources.blockIO.weightDevice.leafWeight"));
  }
  return Ok();
}

Result<void> set_throttle(const std::string& dir, const std::vector<oci::ThrottleDevice>& devices, const char* file,
                          const char* field) {
  for (const auto& d : devices) GUISE_TRY(fs::write(dir, file, device_value(d.major, d.minor, d.rate), field));
  return Ok();
}

}  // namespace

Result<void> apply_blkio(const Dirs& dirs, const oci::Resources& r) {
  if (!r.block_io || !any_set(*r.block_io)) return Ok();
  const auto& b = *r.block_io;
  std::string dir = GUISE_TRY(dirs.need("blkio", "linux.resources.blockIO"));
  GUISE_TRY(set_weights(dir, b));
  GUISE_TRY(set_throttle(dir, b.throttle_read_bps_device, "blkio.throttle.read_bps_device",
                         "linux.resources.blockIO.throttleReadBpsDevice"));
  GUISE_TRY(set_throttle(dir, b.throttle_write_bps_device, "blkio.throttle.write_bps_device",
                         "linux.resources.blockIO.throttleWriteBpsDevice"));
  GUISE_TRY(set_throttle(dir, b.throttle_read_iops_device, "blkio.throttle.read_iops_device",
                         "linux.resources.blockIO.throttleReadIOPSDevice"));
  return set_throttle(dir, b.throttle_write_iops_device, "blkio.throttle.write_iops_device",
                      "linux.resources.blockIO.throttleWriteIOPSDevice");
}

}  // namespace guise::cgroups::v1
