// v1 blkio controller: weights (CFQ's blkio.weight, or BFQ's blkio.bfq.weight where CFQ
// is gone, as runc picks) and the throttle.* per-device limits.
//
// The weight files come from the I/O schedulers, not from the controller: CFQ (removed
// in Linux 5.0) made blkio.weight and the leaf weights, BFQ makes blkio.bfq.weight once
// it is loaded. A host whose disks use none, mq-deadline or kyber has no weight file at
// all; a weight asked for there is refused with that reason, not with ENOENT.
#include <cerrno>

#include "cgroups/fs.h"
#include "cgroups/v1.h"
#include "cgroups/values.h"

namespace guise::cgroups::v1 {

namespace {

constexpr const char* kWeightField = "linux.resources.blockIO.weight";
constexpr const char* kLeafWeightField = "linux.resources.blockIO.leafWeight";
constexpr const char* kDeviceField = "linux.resources.blockIO.weightDevice";
constexpr const char* kDeviceLeafField = "linux.resources.blockIO.weightDevice.leafWeight";
constexpr const char* kNoWeightFile =
    "this host has no blkio weight file (the BFQ I/O scheduler is not in use on any disk)";
constexpr const char* kNoLeafWeightFile =
    "this host has no blkio leaf weight file (leaf weights are CFQ's, and the CFQ I/O scheduler is not in use on "
    "any disk)";

bool any_set(const oci::BlockIoResources& b) {
  return b.weight || b.leaf_weight || !b.weight_device.empty() || !b.throttle_read_bps_device.empty() ||
         !b.throttle_write_bps_device.empty() || !b.throttle_read_iops_device.empty() ||
         !b.throttle_write_iops_device.empty();
}

Error refused(const char* field, const char* why) { return sys::user_error(std::string(field) + ": " + why); }

// The files weights go to in `dir`: CFQ's where they exist, else BFQ's; none without either.
struct WeightFiles {
  const char* weight = nullptr;
  const char* device = nullptr;
  bool bfq = false;
};

WeightFiles weight_files(const std::string& dir) {
  if (fs::exists(dir, "blkio.weight")) return {"blkio.weight", "blkio.weight_device", false};
  if (fs::exists(dir, "blkio.bfq.weight")) return {"blkio.bfq.weight", "blkio.bfq.weight_device", true};
  return {};
}

// BFQ takes a device's weight only where the device's queue runs BFQ (EOPNOTSUPP otherwise).
Result<void> write_device_weight(const std::string& dir, const WeightFiles& files, const oci::WeightDevice& d) {
  std::string value = device_value(d.major, d.minor, *d.weight);
  auto done = fs::write(dir, files.device, value, kDeviceField);
  if (done.ok() || !files.bfq || done.error().errnum != EOPNOTSUPP) return done;
  Error e = done.error();
  e.context.insert(e.context.begin(), "device " + std::to_string(d.major) + ":" + std::to_string(d.minor) +
                                          " does not use the BFQ I/O scheduler");
  return e;
}

Result<void> set_weights(const std::string& dir, const oci::BlockIoResources& b) {
  bool weight = b.weight && *b.weight != 0;
  bool leaf = b.leaf_weight && *b.leaf_weight != 0;
  bool device_weight = false, device_leaf = false;
  for (const auto& d : b.weight_device) {
    device_weight = device_weight || d.weight;
    device_leaf = device_leaf || d.leaf_weight;
  }
  if (!weight && !leaf && !device_weight && !device_leaf) return Ok();
  WeightFiles files = weight_files(dir);
  if (weight && !files.weight) return refused(kWeightField, kNoWeightFile);
  if (device_weight && !files.device) return refused(kDeviceField, kNoWeightFile);
  bool leaf_files = fs::exists(dir, "blkio.leaf_weight");
  if (leaf && !leaf_files) return refused(kLeafWeightField, kNoLeafWeightFile);
  if (device_leaf && !leaf_files) return refused(kDeviceLeafField, kNoLeafWeightFile);

  if (weight) GUISE_TRY(fs::write(dir, files.weight, std::to_string(*b.weight), kWeightField));
  if (leaf) GUISE_TRY(fs::write(dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight), kLeafWeightField));
  for (const auto& d : b.weight_device) {
    if (d.weight) GUISE_TRY(write_device_weight(dir, files, d));
    if (d.leaf_weight)
      GUISE_TRY(
          fs::write(dir, "blkio.leaf_weight_device", device_value(d.major, d.minor, *d.leaf_weight), kDeviceLeafField));
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
