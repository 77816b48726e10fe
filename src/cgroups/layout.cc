#include "cgroups/layout.h"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <algorithm>

#include "cgroups/path.h"
#include "sys/mountinfo.h"
#include "sys/syscalls.h"

namespace guise::cgroups {

namespace {

struct CgroupMount {
  std::string root, mountpoint, fstype;
  std::vector<std::string> options;  // super options: "rw", "cpu", "name=systemd", ...
};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto pos = s.find(sep);
    out.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) return out;
    s.remove_prefix(pos + 1);
  }
}

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo) {
  std::vector<CgroupMount> mounts;
  for (auto line : split(mountinfo, '\n')) {
    auto dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto head = split(line.substr(0, dash), ' ');
    auto tail = split(line.substr(dash + 3), ' ');
    if (head.size() < 5 || tail.size() < 3) continue;
    if (tail[0] != "cgroup" && tail[0] != "cgroup2") continue;
    CgroupMount m{sys::unescape_mountinfo(head[3]), sys::unescape_mountinfo(head[4]), std::string(tail[0]), {}};
    for (auto opt : split(tail[2], ',')) m.options.emplace_back(opt);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

// Higher is better: the mount must show this process's cgroup; the usual place wins ties.
int mount_score(const CgroupMount& m, const std::string& own_path) {
  int score = 0;
  if (is_path_below(own_path, m.root)) score += 4;
  if (m.mountpoint == "/sys/fs/cgroup") score += 2;
  if (m.mountpoint.starts_with("/sys/fs/cgroup/")) score += 1;
  return score;
}

// The best-scoring mount that holds `controllers` (none: cgroup2) and that the check
// finds at its mountpoint. Of mounts stacked on one mountpoint the last listed is the
// one on top.
const CgroupMount* pick_mount(const std::vector<CgroupMount>& mounts, const std::vector<std::string>& controllers,
                              const std::string& own_path, const MountCheck& is_cgroupfs) {
  bool v2 = controllers.empty();
  std::vector<std::pair<int, const CgroupMount*>> candidates;
  for (const auto& m : mounts) {
    if (v2 != (m.fstype == "cgroup2")) continue;
    bool all = std::all_of(controllers.begin(), controllers.end(), [&](const std::string& c) {
      return std::find(m.options.begin(), m.options.end(), c) != m.options.end();
    });
    if (!all) continue;
    int score = mount_score(m, own_path);
    auto same = std::find_if(candidates.begin(), candidates.end(),
                             [&](const auto& c) { return c.second->mountpoint == m.mountpoint; });
    if (same != candidates.end())
      *same = {score, &m};
    else
      candidates.emplace_back(score, &m);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [score, m] : candidates)
    if (!is_cgroupfs || is_cgroupfs(m->mountpoint, v2)) return m;
  return nullptr;
}

bool statfs_is_cgroupfs(const std::string& mountpoint, bool v2) {
  struct statfs st {};
  if (::statfs(mountpoint.c_str(), &st) < 0) return false;
  return static_cast<unsigned long>(st.f_type) == (v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC);
}

bool has_real_controller(const Hierarchy& h) {
  return std::any_of(h.controllers.begin(), h.controllers.end(),
                     [](const std::string& c) { return !c.starts_with("name="); });
}

}  // namespace

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::kV1:
      return "v1";
    case Mode::kHybrid:
      return "hybrid";
    case Mode::kV2:
      return "v2";
  }
  return "?";
}

bool Hierarchy::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

const Hierarchy* Layout::find_v1(std::string_view controller) const {
  for (const auto& h : v1)
    if (h.has(controller)) return &h;
  return nullptr;
}

Result<Layout> parse_layout(std::string_view mountinfo, std::string_view proc_self_cgroup,
                            const MountCheck& is_cgroupfs) {
  auto mounts = parse_cgroup_mounts(mountinfo);
  Layout layout;
  for (auto line : split(proc_self_cgroup, '\n')) {
    if (line.empty()) continue;
    // "4:memory:/a/b"; the path may itself hold ':'.
    auto first = line.find(':');
    auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos)
      return sys::user_error("malformed /proc/self/cgroup line: " + std::string(line));
    Hierarchy h;
    for (auto c : split(line.substr(first + 1, second - first - 1), ','))
      if (!c.empty()) h.controllers.emplace_back(c);
    h.own_path = std::string(line.substr(second + 1));
    bool v2 = h.controllers.empty();
    if (v2 && line.substr(0, first) != "0") continue;  // a v1 hierarchy with no controller and no name
    const CgroupMount* m = pick_mount(mounts, h.controllers, h.own_path, is_cgroupfs);
    if (!m) continue;  // not mounted, or hidden: not usable
    h.mountpoint = m->mountpoint;
    h.mount_root = m->root;
    if (v2)
      layout.unified = std::move(h);
    else
      layout.v1.push_back(std::move(h));
  }
  bool v1_controllers = std::any_of(layout.v1.begin(), layout.v1.end(), has_real_controller);
  if (v1_controllers) {
    layout.mode = layout.unified ? Mode::kHybrid : Mode::kV1;
  } else if (layout.unified) {
    layout.mode = Mode::kV2;
    layout.v1.clear();  // a lone named v1 hierarchy next to a v2 host plays no part
  } else {
    return sys::user_error(
        "no cgroup hierarchy is mounted (looked in /proc/self/mountinfo for cgroup and cgroup2 mounts, each checked "
        "at its mountpoint)");
  }
  return layout;
}

Result<Layout> host_layout() {
  auto mountinfo = GUISE_TRY(sys::read_file("/proc/self/mountinfo"));
  auto own = GUISE_TRY(sys::read_file("/proc/self/cgroup"));
  return parse_layout(mountinfo, own, statfs_is_cgroupfs);
}

}  // namespace guise::cgroups
