// v1 devices controller: deny everything, then replay the rules in order.
#include "cgroups/fs.h"
#include "cgroups/v1.h"
#include "cgroups/values.h"

namespace guise::cgroups::v1 {

Result<void> apply_devices(const Dirs& dirs, const oci::Resources& r) {
  if (r.devices.empty()) return Ok();
  constexpr const char* kField = "linux.resources.devices";
  std::string dir = GUISE_TRY(dirs.need("devices", kField));
  // Rules are validated before the first write so a bad one cannot leave "deny all" behind.
  std::vector<std::string> lines;
  for (size_t i = 0; i < r.devices.size(); ++i)
    lines.push_back(GUISE_TRY(device_rule_line(r.devices[i]), std::string(kField) + "[" + std::to_string(i) + "]"));
  GUISE_TRY(fs::write(dir, "devices.deny", "a", kField));
  for (size_t i = 0; i < lines.size(); ++i)
    GUISE_TRY(fs::write(dir, r.devices[i].allow ? "devices.allow" : "devices.deny", lines[i],
                        std::string(kField) + "[" + std::to_string(i) + "]"));
  return Ok();
}

}  // namespace guise::cgroups::v1
