#include "runtime/sub_cgroup.h"

#include <vector>

namespace guise::runtime {

namespace {

// `rel` below `base`, lexically: "." and empty parts are dropped, ".." may not climb
// above `base` (runc joins the same way, with a weaker prefix check).
Result<std::string> below(const std::string& base, const std::string& rel) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string::npos) slash = rel.size();
    std::string part = rel.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty())
        return sys::user_error("sub-cgroup " + rel + ": is not a sub cgroup path (it leaves the container's cgroup)");
      parts.pop_back();
      continue;
    }
    parts.push_back(std::move(part));
  }
  std::string out = base;
  for (const auto& p : parts) out += "/" + p;
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> sub_cgroup_paths(const std::map<std::string, std::string>& container,
                                                            const std::map<std::string, std::string>& sub) {
  std::map<std::string, std::string> out = container;
  if (sub.empty()) return out;
  if (auto every = sub.find(""); every != sub.end()) {
    if (sub.size() != 1)
      return sys::user_error("sub-cgroup " + every->second + ": a path for every hierarchy excludes per-controller ones");
    for (auto& [key, dir] : out) dir = GUISE_TRY(below(dir, every->second));
    return out;
  }
  std::map<std::string, std::string> given;  // container directory -> the sub-cgroup named for it
  for (const auto& [controller, rel] : sub) {
    auto it = container.find(controller);
    if (it == container.end() || controller == "unified")
      return sys::user_error("sub-cgroup " + controller + ":" + rel + ": unknown controller " + controller +
                             " in the container's cgroup");
    auto [prev, fresh] = given.emplace(it->second, rel);
    if (!fresh && prev->second != rel)
      return sys::user_error("sub-cgroup " + controller + ":" + rel + ": " + controller +
                             " shares its hierarchy with a controller given " + prev->second);
  }
  for (auto& [key, dir] : out)
    if (auto g = given.find(container.at(key)); g != given.end()) dir = GUISE_TRY(below(g->first, g->second));
  return out;
}

}  // namespace guise::runtime
