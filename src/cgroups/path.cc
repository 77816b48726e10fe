#include "cgroups/path.h"

#include <vector>

namespace guise::cgroups {

std::string clean_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

bool is_path_below(std::string_view path, std::string_view ancestor) {
  while (ancestor.size() > 1 && ancestor.back() == '/') ancestor.remove_suffix(1);
  if (ancestor == "/") return path.starts_with('/');
  if (!path.starts_with(ancestor)) return false;
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

namespace {

std::string join(const std::string& dir, const std::string& clean_rel) {
  return clean_rel == "/" ? dir : dir + clean_rel;
}

bool has_dotdot(std::string_view path) {
  return path == ".." || path.starts_with("../") || path.ends_with("/..") ||
         path.find("/../") != std::string_view::npos;
}

Result<void> check_id(std::string_view id) {
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string_view::npos)
    return sys::user_error("container id \"" + std::string(id) + "\" cannot name a cgroup");
  return Ok();
}

}  // namespace

Result<std::string> own_dir(const Hierarchy& h) {
  std::string mountpoint = clean_path(h.mountpoint);
  std::string own = clean_path(h.own_path);
  std::string root = clean_path(h.mount_root);
  bool climbs = has_dotdot(h.own_path);  // we sit outside our cgroup namespace's root
  if (!h.own_path.starts_with('/') || climbs || !is_path_below(own, root))
    return sys::user_error("this process's cgroup " + h.own_path + " is not visible under the mount at " + mountpoint +
                           " (which shows " + h.mount_root + ")");
  std::string own_rel = root == "/" ? own : own.substr(root.size());
  return join(mountpoint, own_rel.empty() ? "/" : own_rel);
}

Result<std::string> container_dir(const Hierarchy& h, std::string_view cgroups_path, std::string_view id) {
  if (cgroups_path.starts_with('/')) {
    std::string inner = clean_path(cgroups_path);
    if (inner == "/")
      return sys::user_error("linux.cgroupsPath \"" + std::string(cgroups_path) +
                             "\" is the root of the hierarchy at " + h.mountpoint);
    return join(clean_path(h.mountpoint), inner);
  }
  if (cgroups_path.empty()) GUISE_TRY(check_id(id), "default cgroup path");
  std::string inner = clean_path(cgroups_path.empty() ? id : cgroups_path);
  if (inner == "/")
    return sys::user_error("linux.cgroupsPath \"" + std::string(cgroups_path) + "\" names the runtime's own cgroup");
  return join(GUISE_TRY(own_dir(h)), inner);
}

}  // namespace guise::cgroups
