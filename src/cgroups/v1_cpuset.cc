// v1 cpuset controller: the container's cpus and mems, and the inheritance a new
// cpuset cgroup needs before any process may join it.
#include <vector>

#include "cgroups/fs.h"
#include "cgroups/v1.h"

namespace guise::cgroups::v1 {

namespace {

std::string parent_of(const std::string& dir) { return dir.substr(0, dir.rfind('/')); }

// As runc's cpusetEnsureParent: every empty level from `leaf` up to the nearest cgroup
// that has a value gets that value, top-down (a child's set must lie within its
// parent's). A pre-made parent (a pod's cgroup) can be empty as well as a new leaf. The
// climb ends at the hierarchy's root, whose values are never empty, or at the first
// directory without the file.
Result<void> fill_from_ancestor(const std::string& leaf, const char* file) {
  std::vector<std::string> empty;
  std::string value;
  for (std::string dir = leaf; !dir.empty() && dir != "/"; dir = parent_of(dir)) {
    auto mine = fs::read(dir, file);
    if (!mine.ok()) {
      if (empty.empty()) return mine.error();
      return Ok();  // nothing to inherit; joining will say so
    }
    if (!mine->empty()) {
      value = std::move(*mine);
      break;
    }
    empty.push_back(dir);
  }
  if (value.empty()) return Ok();
  for (auto it = empty.rbegin(); it != empty.rend(); ++it)
    GUISE_TRY(fs::write(*it, file, value, std::string("inheriting ") + file));
  return Ok();
}

}  // namespace

Result<void> inherit_cpuset(const std::string& leaf) {
  GUISE_TRY(fill_from_ancestor(leaf, "cpuset.cpus"));
  return fill_from_ancestor(leaf, "cpuset.mems");
}

Result<void> apply_cpuset(const Dirs& dirs, const oci::Resources& r) {
  if (!r.cpu || (r.cpu->cpus.empty() && r.cpu->mems.empty())) return Ok();
  const char* field = r.cpu->cpus.empty() ? "linux.resources.cpu.mems" : "linux.resources.cpu.cpus";
  std::string dir = GUISE_TRY(dirs.need("cpuset", field));
  if (!r.cpu->cpus.empty()) GUISE_TRY(fs::write(dir, "cpuset.cpus", r.cpu->cpus, "linux.resources.cpu.cpus"));
  if (!r.cpu->mems.empty()) GUISE_TRY(fs::write(dir, "cpuset.mems", r.cpu->mems, "linux.resources.cpu.mems"));
  return Ok();
}

}  // namespace guise::cgroups::v1
