// v1 freezer: freezer.state, polled until the kernel reports the state reached.
#include <cerrno>

#include "cgroups/fs.h"
#include "cgroups/path.h"
#include "cgroups/v1.h"

namespace guise::cgroups::v1 {

namespace {

constexpr const char* kState = "freezer.state";

std::string parent_of(const std::string& dir) { return dir.substr(0, dir.rfind('/')); }

// A cgroup below a frozen one stays FROZEN whatever is written to it: say so at once
// rather than wait out the timeout.
Result<void> check_parent_thawed(const std::string& dir) {
  auto parent = fs::read(dir, "freezer.parent_freezing");
  if (parent.ok() && *parent == "1")
    return sys::wrong_state("thawing " + dir + ": a cgroup above it is frozen (freezer.parent_freezing is 1)");
  return Ok();
}

}  // namespace

Result<void> refuse_frozen(const std::string& dir, const std::string& top) {
  for (std::string at = dir; is_path_below(at, top) && at != top; at = parent_of(at)) {
    auto state = fs::read(at, kState);
    if (!state.ok() && state.error().errnum == ENOENT) continue;  // not made yet: its parent decides
    if (!state.ok()) return std::move(state.error()).with_context("linux.cgroupsPath");
    if (*state == "THAWED") return Ok();
    std::string where = at == dir ? at : at + ", above " + dir + ",";
    return sys::wrong_state("linux.cgroupsPath: container's cgroup unexpectedly frozen (" + where + " is " + *state +
                            ")");
  }
  return Ok();
}

Result<void> freeze(const std::string& dir) {
  GUISE_TRY(fs::write(dir, kState, "FROZEN", "freezing"));
  auto reached = fs::wait_for(
      [&]() -> Result<bool> {
        if (GUISE_TRY(fs::read(dir, kState)) == "FROZEN") return true;
        // A task forked while FREEZING can stall the transition; asking again moves it on.
        GUISE_TRY(fs::write(dir, kState, "FROZEN", "freezing"));
        return false;
      },
      "freezing " + dir);
  if (!reached.ok()) (void)fs::write(dir, kState, "THAWED", "thawing after a failed freeze");
  return reached;
}

Result<void> thaw(const std::string& dir) {
  GUISE_TRY(fs::write(dir, kState, "THAWED", "thawing"));
  return fs::wait_for(
      [&]() -> Result<bool> {
        if (GUISE_TRY(fs::read(dir, kState)) == "THAWED") return true;
        GUISE_TRY(check_parent_thawed(dir));
        return false;
      },
      "thawing " + dir);
}

Result<bool> frozen(const std::string& dir) { return GUISE_TRY(fs::read(dir, kState)) == "FROZEN"; }

}  // namespace guise::cgroups::v1
