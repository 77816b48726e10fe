// v1 cpuset controller: the container's cpus and mems, and the inheritance a new
// cpuset cgroup needs before any process may join it.
#include "cgroups/fs.h"
#include "cgroups/path.h"
#include "cgroups/v1.h"

namespace guise::cgroups::v1 {

namespace {

std::string parent_of(const std::string& dir) { return dir.substr(0, dir.rfind('/')); }

Result<void> copy_if_empty(const std::string& dir, const char* file) {
  std::string mine = GUISE_TRY(fs::read(dir, file));
  if (!mine.empty()) return Ok();
  std::string parent = GUISE_TRY(fs::read(parent_of(dir), file));
  if (parent.empty()) return Ok();  // nothing to inherit; joining will say so
  return fs::write(dir, file, parent, std::string("inheriting ") + file);
}

}  // namespace

Result<void> inherit_cpuset(const std::string& leaf, const std::vector<std::string>& made) {
  bool leaf_made = false;
  for (const auto& dir : made) {
    if (!is_path_below(leaf, dir)) continue;  // another hierarchy's directory
    leaf_made |= dir == leaf;
    GUISE_TRY(copy_if_empty(dir, "cpuset.cpus"));
    GUISE_TRY(copy_if_empty(dir, "cpuset.mems"));
  }
  if (leaf_made) return Ok();
  GUISE_TRY(copy_if_empty(leaf, "cpuset.cpus"));
  return copy_if_empty(leaf, "cpuset.mems");
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
