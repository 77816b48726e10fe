// create() and open(): the host's hierarchy is detected here, once per call, and picks
// the driver; nothing past this file asks which version it runs on.
#include "cgroups/cgroup.h"

#include "cgroups/layout.h"
#include "cgroups/path.h"
#include "cgroups/v1.h"
#include "cgroups/v2.h"

namespace guise::cgroups {

Result<std::unique_ptr<Cgroup>> create(const std::string& cgroups_path, const std::string& id, bool defer_v1) {
  Layout layout = GUISE_TRY(host_layout(), "detecting the cgroup hierarchy");
  if (layout.mode == Mode::kV2) return GUISE_TRY(v2::create(*layout.unified, cgroups_path, id), "creating cgroup");
  return GUISE_TRY(v1::create(layout, cgroups_path, id, defer_v1), "creating cgroup");
}

Result<std::map<std::string, std::string>> planned_paths(const std::string& cgroups_path, const std::string& id) {
  Layout layout = GUISE_TRY(host_layout(), "detecting the cgroup hierarchy");
  if (layout.mode == Mode::kV2)
    return std::map<std::string, std::string>{{"unified", GUISE_TRY(container_dir(*layout.unified, cgroups_path, id))}};
  return v1::planned_paths(layout, cgroups_path, id);
}

Result<std::unique_ptr<Cgroup>> open(const std::map<std::string, std::string>& paths) {
  Layout layout = GUISE_TRY(host_layout(), "detecting the cgroup hierarchy");
  if (layout.mode != Mode::kV2) return std::unique_ptr<Cgroup>(new v1::V1Cgroup(v1::Dirs(paths)));
  auto unified = paths.find("unified");
  if (unified == paths.end() || paths.size() != 1)
    return sys::user_error(
        "opening cgroup: the saved paths are not a cgroup v2 path (\"unified\" only), "
        "and this host is cgroup v2");
  return v2::open(unified->second);
}

}  // namespace guise::cgroups
