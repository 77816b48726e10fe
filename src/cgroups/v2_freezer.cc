// v2 freezer: cgroup.freeze, with cgroup.events "frozen" as the confirmation.
#include "cgroups/fs.h"
#include "cgroups/v2.h"

namespace guise::cgroups::v2 {

namespace {

Result<bool> events_frozen(const std::string& dir) {
  auto events = GUISE_TRY(fs::read_flat_keyed(dir, "cgroup.events"));
  return events["frozen"] == 1;
}

Result<void> need_freezer(const std::string& dir) {
  if (fs::exists(dir, "cgroup.freeze")) return Ok();
  return sys::user_error("no cgroup.freeze in " + dir + " (the cgroup v2 freezer needs Linux 5.2)");
}

}  // namespace

Result<void> freeze(const std::string& dir) {
  GUISE_TRY(need_freezer(dir), "freezing");
  GUISE_TRY(fs::write(dir, "cgroup.freeze", "1", "freezing"));
  auto reached = fs::wait_for([&] { return events_frozen(dir); }, "freezing " + dir);
  if (!reached.ok()) (void)fs::write(dir, "cgroup.freeze", "0", "thawing after a failed freeze");
  return reached;
}

Result<void> thaw(const std::string& dir) {
  GUISE_TRY(need_freezer(dir), "thawing");
  GUISE_TRY(fs::write(dir, "cgroup.freeze", "0", "thawing"));
  return fs::wait_for([&]() -> Result<bool> { return !GUISE_TRY(events_frozen(dir)); }, "thawing " + dir);
}

Result<bool> frozen(const std::string& dir) {
  if (!fs::exists(dir, "cgroup.freeze")) return false;
  return events_frozen(dir);
}

}  // namespace guise::cgroups::v2
