// v2 freezer: cgroup.freeze, with cgroup.events "frozen" as the confirmation.
#include <cerrno>

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

// A cgroup below a frozen one stays frozen whatever its own cgroup.freeze says: say so
// at once rather than wait out the timeout. (The root, which cannot be frozen, has no
// cgroup.events.)
Result<void> check_parent_thawed(const std::string& dir) {
  std::string parent = dir.substr(0, dir.rfind('/'));
  auto above = events_frozen(parent);
  if (above.ok() && *above)
    return sys::wrong_state("thawing " + dir + ": a cgroup above it is frozen (" + parent + "/cgroup.events)");
  return Ok();
}

}  // namespace

Result<void> refuse_frozen(const std::string& dir) {
  auto self = fs::read(dir, "cgroup.freeze");
  if (!self.ok() && self.error().errnum == ENOENT) return Ok();  // no freezer in this kernel
  if (!self.ok()) return std::move(self.error()).with_context("linux.cgroupsPath");
  std::string why;
  if (*self == "1")
    why = dir + " has cgroup.freeze 1";
  else if (GUISE_TRY(events_frozen(dir), "linux.cgroupsPath"))
    why = dir + " is frozen: a cgroup above it has cgroup.freeze 1";
  if (why.empty()) return Ok();
  return sys::wrong_state("linux.cgroupsPath: container's cgroup unexpectedly frozen (" + why + ")");
}

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
  return fs::wait_for(
      [&]() -> Result<bool> {
        if (!GUISE_TRY(events_frozen(dir))) return true;
        GUISE_TRY(check_parent_thawed(dir));
        return false;
      },
      "thawing " + dir);
}

Result<bool> frozen(const std::string& dir) {
  if (!fs::exists(dir, "cgroup.freeze")) return false;
  return events_frozen(dir);
}

}  // namespace guise::cgroups::v2
