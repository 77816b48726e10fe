// The process side of docker's spec: the image's config merged under the user's, argv,
// the user's ids from the rootfs's passwd and group, and capabilities.
#include <algorithm>
#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/spec_builder.h"
#include "sys/text.h"

namespace guise::engine {

namespace {

std::string env_key(const std::string& e) { return e.substr(0, e.find('=')); }

// The image config's Healthcheck, which image::ContainerConfig does not carry.
std::optional<HealthConfig> image_healthcheck(const image::ImageConfig& image) {
  if (image.raw.empty()) return std::nullopt;
  auto j = nlohmann::json::parse(image.raw, nullptr, false);
  if (j.is_discarded() || !j.contains("config") || !j["config"].is_object()) return std::nullopt;
  const auto& c = j["config"];
  if (!c.contains("Healthcheck") || !c["Healthcheck"].is_object()) return std::nullopt;
  const auto& h = c["Healthcheck"];
  HealthConfig out;
  auto num = [&](const char* k) -> int64_t { return h.contains(k) && h[k].is_number() ? h[k].get<int64_t>() : 0; };
  if (h.contains("Test") && h["Test"].is_array())
    for (const auto& t : h["Test"])
      if (t.is_string()) out.test.push_back(t.get<std::string>());
  out.interval_ns = num("Interval");
  out.timeout_ns = num("Timeout");
  out.start_period_ns = num("StartPeriod");
  out.retries = static_cast<int>(num("Retries"));
  return out;
}

bool numeric(const std::string& s) {
  return !s.empty() && s.size() < 11 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0, gid = 0;
};
struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::vector<PasswdEntry> parse_passwd(const std::string& text) {
  std::vector<PasswdEntry> out;
  for (const auto& line : sys::split(text, '\n')) {
    auto f = sys::split(line, ':');
    if (f.size() < 4 || line.empty() || line[0] == '#' || !numeric(f[2]) || !numeric(f[3])) continue;
    out.push_back({f[0], static_cast<uint32_t>(std::stoul(f[2])), static_cast<uint32_t>(std::stoul(f[3]))});
  }
  return out;
}

std::vector<GroupEntry> parse_group(const std::string& text) {
  std::vector<GroupEntry> out;
  for (const auto& line : sys::split(text, '\n')) {
    auto f = sys::split(line, ':');
    if (f.size() < 3 || line.empty() || line[0] == '#' || !numeric(f[2])) continue;
    GroupEntry g{f[0], static_cast<uint32_t>(std::stoul(f[2])), {}};
    if (f.size() >= 4 && !f[3].empty()) g.members = sys::split(f[3], ',');
    out.push_back(std::move(g));
  }
  return out;
}

std::string normalize_cap(std::string c) {
  for (char& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (c != "ALL" && c.rfind("CAP_", 0) != 0) c = "CAP_" + c;
  return c;
}

}  // namespace

ContainerConfig merge_image_config(ContainerConfig user, const image::ImageConfig& image) {
  const auto& img = image.config;
  if (user.user.empty()) user.user = img.user;
  for (const auto& p : img.exposed_ports) user.exposed_ports.insert(p);
  if (user.env.empty()) {
    user.env = img.env;
  } else {
    std::set<std::string> keys;
    for (const auto& e : user.env) keys.insert(env_key(e));
    for (const auto& e : img.env)
      if (!keys.count(env_key(e))) user.env.push_back(e);
  }
  for (const auto& [k, v] : img.labels) user.labels.emplace(k, v);
  // docker: any --entrypoint, `--entrypoint ""` too, drops both the image's Entrypoint and
  // its Cmd; else the image's Cmd stands in only for an absent one.
  if (!user.entrypoint) {
    if ((!user.cmd || user.cmd->empty()) && !img.cmd.empty()) user.cmd = img.cmd;
    if (!img.entrypoint.empty()) user.entrypoint = img.entrypoint;
  }
  if (auto ih = image_healthcheck(image)) {
    if (!user.healthcheck) {
      user.healthcheck = ih;
    } else {
      auto& h = *user.healthcheck;
      if (h.test.empty()) h.test = ih->test;
      if (!h.interval_ns) h.interval_ns = ih->interval_ns;
      if (!h.timeout_ns) h.timeout_ns = ih->timeout_ns;
      if (!h.start_period_ns) h.start_period_ns = ih->start_period_ns;
      if (!h.retries) h.retries = ih->retries;
    }
  }
  if (user.working_dir.empty()) user.working_dir = img.working_dir;
  for (const auto& v : img.volumes) user.volumes.insert(v);
  if (user.stop_signal.empty()) user.stop_signal = img.stop_signal;
  return user;
}

std::vector<std::string> process_args(const ContainerConfig& merged) {
  std::vector<std::string> args;
  if (merged.entrypoint) args = *merged.entrypoint;
  if (merged.cmd) args.insert(args.end(), merged.cmd->begin(), merged.cmd->end());
  return args;
}

Result<oci::User> resolve_user(const std::string& user, const std::vector<std::string>& group_add,
                               const std::string& passwd, const std::string& group) {
  oci::User out;
  std::string user_part = user, group_part;
  if (auto colon = user.find(':'); colon != std::string::npos) {
    user_part = user.substr(0, colon);
    group_part = user.substr(colon + 1);
  }
  auto users = parse_passwd(passwd);
  auto groups = parse_group(group);
  std::string matched_name;
  if (!user_part.empty()) {
    auto it = std::find_if(users.begin(), users.end(), [&](const PasswdEntry& e) {
      return e.name == user_part || (numeric(user_part) && std::to_string(e.uid) == user_part);
    });
    if (it != users.end()) {
      out.uid = it->uid;
      out.gid = it->gid;
      matched_name = it->name;
    } else if (numeric(user_part)) {
      out.uid = static_cast<uint32_t>(std::stoul(user_part));
    } else {
      return sys::user_error("unable to find user " + user_part + ": no matching entries in passwd file");
    }
  }
  if (!group_part.empty()) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupEntry& g) {
      return g.name == group_part || (numeric(group_part) && std::to_string(g.gid) == group_part);
    });
    if (it != groups.end()) out.gid = it->gid;
    else if (numeric(group_part)) out.gid = static_cast<uint32_t>(std::stoul(group_part));
    else return sys::user_error("unable to find group " + group_part + ": no matching entries in group file");
  } else if (!matched_name.empty()) {
    // runc: a user named in passwd gets the groups that list it as a member.
    for (const auto& g : groups)
      if (std::find(g.members.begin(), g.members.end(), matched_name) != g.members.end())
        out.additional_gids.push_back(g.gid);
  }
  for (const auto& a : group_add) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupEntry& g) { return g.name == a; });
    uint32_t gid = 0;
    if (it != groups.end()) gid = it->gid;
    else if (numeric(a)) gid = static_cast<uint32_t>(std::stoul(a));
    else return sys::user_error("--group-add: unable to find group " + a + ": no matching entries in group file");
    if (std::find(out.additional_gids.begin(), out.additional_gids.end(), gid) == out.additional_gids.end())
      out.additional_gids.push_back(gid);
  }
  return out;
}

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_MKNOD",
      "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",    "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",     "CAP_AUDIT_WRITE"};
  return caps;
}

Result<std::vector<std::string>> effective_capabilities(const HostConfig& h, const std::vector<std::string>& all) {
  if (h.privileged) return all;
  if (h.cap_add.empty() && h.cap_drop.empty()) return default_capabilities();
  auto normalize = [&](const std::vector<std::string>& in, const char* flag, bool& has_all) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    for (const auto& c : in) {
      std::string n = normalize_cap(c);
      if (n == "ALL") {
        has_all = true;
        continue;
      }
      if (std::find(all.begin(), all.end(), n) == all.end())
        return sys::user_error(std::string("invalid ") + flag + ": unknown capability: \"" + n + "\"");
      out.push_back(n);
    }
    return out;
  };
  bool add_all = false, drop_all = false;
  auto add = GUISE_TRY(normalize(h.cap_add, "--cap-add", add_all));
  auto drop = GUISE_TRY(normalize(h.cap_drop, "--cap-drop", drop_all));
  auto in = [](const std::vector<std::string>& v, const std::string& c) { return std::find(v.begin(), v.end(), c) != v.end(); };
  std::vector<std::string> caps;
  if (add_all) {
    for (const auto& c : all)
      if (!in(drop, c)) caps.push_back(c);
  } else if (drop_all) {
    caps = add;
  } else {
    for (const auto& c : default_capabilities())
      if (!in(drop, c)) caps.push_back(c);
    for (const auto& c : add)
      if (!in(caps, c)) caps.push_back(c);
  }
  return caps;
}

std::vector<std::string> named_volumes(const HostConfig& h) {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (!n.empty() && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const auto& b : h.binds)
    if (!b.empty() && b[0] != '/') add(b.substr(0, b.find(':')));
  for (const auto& m : h.mounts)
    if (m.type == "volume") add(m.source);
  return out;
}

std::vector<std::string> anonymous_volume_targets(const ContainerConfig& merged, const HostConfig& h) {
  std::set<std::string> covered;
  for (const auto& b : h.binds) {
    auto f = sys::split(b, ':');
    if (f.size() >= 2) covered.insert(f[1]);
  }
  for (const auto& m : h.mounts) {
    if (m.type == "volume" && m.source.empty()) continue;  // --mount type=volume without a source is anonymous
    covered.insert(m.target);
  }
  for (const auto& [target, opts] : h.tmpfs) covered.insert(target);
  std::vector<std::string> out;
  for (const auto& v : merged.volumes)
    if (!covered.count(v)) out.push_back(v);
  for (const auto& m : h.mounts)
    if (m.type == "volume" && m.source.empty() && std::find(out.begin(), out.end(), m.target) == out.end())
      out.push_back(m.target);
  return out;
}

}  // namespace guise::engine
