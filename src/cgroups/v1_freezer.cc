// v1 freezer: freezer.state, polled until the kernel reports the state reached.
#include "cgroups/fs.h"
#include "cgroups/v1.h"

namespace guise::cgroups::v1 {

namespace {
constexpr const char* kState = "freezer.state";
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
  return fs::wait_for([&]() -> Result<bool> { return GUISE_TRY(fs::read(dir, kState)) == "THAWED"; }, "thawing " + dir);
}

Result<bool> frozen(const std::string& dir) { return GUISE_TRY(fs::read(dir, kState)) == "FROZEN"; }

}  // namespace guise::cgroups::v1
