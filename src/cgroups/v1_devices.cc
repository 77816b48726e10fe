// v1 devices controller: the rules are emulated into the set they amount to, and the
// cgroup is moved from what devices.list shows to that set with the fewest writes, so
// an update never passes through "deny all" while the container runs (runc's way).
#include <fcntl.h>
#include <unistd.h>

#include "cgroups/devices.h"
#include "cgroups/fs.h"
#include "cgroups/v1.h"
#include "sys/fd.h"

namespace guise::cgroups::v1 {

namespace {

constexpr const char* kField = "linux.resources.devices";

Result<DeviceSet> current_set(const std::string& dir) {
  return parse_devices_list(GUISE_TRY(fs::read(dir, "devices.list"), kField));
}

}  // namespace

Result<void> apply_devices(const Dirs& dirs, const oci::Resources& r) {
  if (r.devices.empty()) return Ok();
  std::string dir = GUISE_TRY(dirs.need("devices", kField));
  // Everything is checked before the first write, so a bad rule changes nothing.
  DeviceSet target = GUISE_TRY(emulate_device_rules(r.devices), kField);
  DeviceSet from = GUISE_TRY(current_set(dir));
  // Each file opened once: every write() to it is one rule.
  sys::Fd allow, deny;
  for (const auto& w : device_transition(from, target)) {
    std::string path = dir + (w.allow ? "/devices.allow" : "/devices.deny");
    sys::Fd& fd = w.allow ? allow : deny;
    if (!fd.valid()) fd.reset(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid() || ::write(fd.get(), w.line.data(), w.line.size()) < 0)
      return sys::sys_error("write " + w.line + " to", path).with_context(kField);
  }
  // The kernel refuses silently what the parent does not allow: check what it took.
  DeviceSet now = GUISE_TRY(current_set(dir));
  if (now.default_allow != target.default_allow || (!target.default_allow && now != target))
    return sys::user_error(std::string(kField) + ": " + dir +
                           "/devices.list does not show the rules written (does the parent cgroup allow them?)");
  return Ok();
}

}  // namespace guise::cgroups::v1
