#include "cli/oci/exec_flags.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>


namespace guise::cli {

Result<oci::Process> exec_process_from_flags(const oci::Process& base, const ExecFlags& o) {
  oci::Process p = base;
  p.args = o.args;
  p.terminal = o.tty;
  for (const auto& e : o.env) {
    auto key = e.substr(0, e.find('='));
    std::erase_if(p.env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    p.env.push_back(e);
  }
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (!o.user.empty()) {
    auto colon = o.user.find(':');
    char* end = nullptr;
    std::string uid = o.user.substr(0, colon);
    p.user.uid = static_cast<uint32_t>(std::strtoul(uid.c_str(), &end, 10));
    if (uid.empty() || *end) return sys::user_error("--user: expected UID[:GID], got \"" + o.user + "\"");
    if (colon != std::string::npos) {
      std::string gid = o.user.substr(colon + 1);
      p.user.gid = static_cast<uint32_t>(std::strtoul(gid.c_str(), &end, 10));
      if (gid.empty() || *end) return sys::user_error("--user: expected UID[:GID], got \"" + o.user + "\"");
    }
  }
  if (!o.additional_gids.empty()) p.user.additional_gids = o.additional_gids;
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    for (const auto& c : o.caps) {
      std::string name = c.rfind("CAP_", 0) == 0 ? c : "CAP_" + c;
      for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      // An unknown name is refused by the runtime, naming the capability set it is in.
      // As runc 1.1.5 adds them: not to inheritable (CVE-2022-29162), so ambient
      // only takes where the process's inheritable set already has the capability.
      for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted,
                        &p.capabilities->ambient})
        set->push_back(name);
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  // Applied, or refused by name where the LSM is not enabled: never dropped.
  if (!o.apparmor_profile.empty()) p.apparmor_profile = o.apparmor_profile;
  if (!o.process_label.empty()) p.selinux_label = o.process_label;
  return p;
}

Result<std::vector<uint32_t>> parse_gid_lists(const std::vector<std::string>& lists) {
  std::vector<uint32_t> gids;
  for (const auto& list : lists) {
    std::stringstream ss(list);
    std::string g;
    while (std::getline(ss, g, ',')) {
      char* end = nullptr;
      errno = 0;
      unsigned long v = std::strtoul(g.c_str(), &end, 10);
      if (g.empty() || *end || errno || g[0] == '-' || v > 0xFFFFFFFEul)
        return sys::user_error("--additional-gids: \"" + g + "\" is not a gid");
      gids.push_back(static_cast<uint32_t>(v));
    }
  }
  return gids;
}

Result<std::map<std::string, std::string>> parse_sub_cgroups(const std::vector<std::string>& args) {
  std::map<std::string, std::string> paths;
  for (const auto& a : args) {
    auto colon = a.find(':');
    if (colon == std::string::npos) {
      if (args.size() != 1) return sys::user_error("invalid --cgroup argument: " + a + " (missing <controller>: prefix)");
      paths[""] = a;
      continue;
    }
    std::string path = a.substr(colon + 1);
    if (path.find(':') != std::string::npos) return sys::user_error("invalid --cgroup argument: " + a);
    for (size_t start = 0;;) {  // comma-separated controllers; "" (":PATH") is every hierarchy
      size_t comma = a.find(',', start);
      if (comma == std::string::npos || comma > colon) comma = colon;
      paths[a.substr(start, comma - start)] = path;
      if (comma == colon) break;
      start = comma + 1;
    }
  }
  return paths;
}

}  // namespace guise::cli
