// build_spec: the steps of moby's daemon/oci_linux.go createSpec, each a function here,
// with the mounts, resources and seccomp in their own files.
#include "engine/spec_builder.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "engine/spec_internal.h"
#include "linux/capabilities.h"

namespace guise::engine {

namespace {

constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr const char* kInitPath = "/run/guise-init";

std::string key_of(const std::string& e) { return e.substr(0, e.find('=')); }

// docker's container.CreateDaemonEnvironment: PATH, HOSTNAME, TERM first, then the
// config's entries replacing or appending by key; a bare KEY removes KEY.
std::vector<std::string> process_env(const ContainerConfig& merged, const std::string& hostname) {
  std::vector<std::string> env = {kDefaultPath, "HOSTNAME=" + hostname};
  if (merged.tty) env.push_back("TERM=xterm");
  for (const auto& e : merged.env) {
    std::string key = key_of(e);
    auto it = std::find_if(env.begin(), env.end(), [&](const std::string& x) { return key_of(x) == key; });
    bool bare = e.find('=') == std::string::npos;
    if (bare) {
      if (it != env.end()) env.erase(it);
    } else if (it != env.end()) {
      *it = e;
    } else {
      env.push_back(e);
    }
  }
  return env;
}

std::string default_hostname(const RunRequest& r, const SpecContext& ctx) {
  if (!r.config.hostname.empty()) return r.config.hostname;
  if (r.host.network_mode == "host" || r.host.uts_mode == "host") return ctx.host_hostname;
  return ctx.id.substr(0, 12);
}

std::string container_of(const std::string& mode) { return mode.substr(std::string("container:").size()); }

Result<void> add_namespace(oci::Linux& l, oci::NamespaceType type, const std::string& mode, const char* ns,
                           const char* flag, const SpecContext& ctx) {
  if (mode == "host") return Ok();
  oci::Namespace n{type, ""};
  if (mode.rfind("container:", 0) == 0) {
    if (!ctx.namespace_path) return sys::user_error(std::string(flag) + " " + mode + ": containers cannot be looked up here");
    n.path = GUISE_TRY(ctx.namespace_path(container_of(mode), ns), std::string(flag) + " " + mode);
  }
  l.namespaces.push_back(std::move(n));
  return Ok();
}

Result<void> add_user_namespace(oci::Linux& l, const std::string& mode) {
  if (mode.empty() || mode == "host") return Ok();
  size_t start = 0;
  while (start <= mode.size()) {
    size_t comma = mode.find(',', start);
    std::string range = mode.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    unsigned long c = 0, h = 0, s = 0;
    if (std::sscanf(range.c_str(), "%lu:%lu:%lu", &c, &h, &s) != 3 || s == 0)
      return sys::user_error("--userns " + mode + ": invalid USER mode");
    oci::IdMapping m{static_cast<uint32_t>(c), static_cast<uint32_t>(h), static_cast<uint32_t>(s)};
    l.uid_mappings.push_back(m);
    l.gid_mappings.push_back(m);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  l.namespaces.push_back({oci::NamespaceType::kUser, ""});
  return Ok();
}

Result<void> build_namespaces(const RunRequest& r, const SpecContext& ctx, oci::Linux& l) {
  const auto& h = r.host;
  l.namespaces.push_back({oci::NamespaceType::kMount, ""});
  const std::string& net = h.network_mode;
  if (net == "host" || net.rfind("container:", 0) == 0) {
    GUISE_TRY(add_namespace(l, oci::NamespaceType::kNetwork, net, "net", "--network", ctx));
  } else if (!ctx.network_ns_path.empty()) {
    l.namespaces.push_back({oci::NamespaceType::kNetwork, ctx.network_ns_path});
  } else if (net == "none" || net == "bridge") {
    // Without the network layer (a spec built alone): a new namespace, loopback only.
    l.namespaces.push_back({oci::NamespaceType::kNetwork, ""});
  } else {
    return sys::user_error("--network " + net + ": user-defined networks are not supported yet; use none, host or bridge");
  }
  GUISE_TRY(add_namespace(l, oci::NamespaceType::kPid, h.pid_mode, "pid", "--pid", ctx));
  GUISE_TRY(add_namespace(l, oci::NamespaceType::kIpc, h.ipc_mode, "ipc", "--ipc", ctx));
  GUISE_TRY(add_namespace(l, oci::NamespaceType::kUts, h.uts_mode, "uts", "--uts", ctx));
  GUISE_TRY(add_user_namespace(l, h.userns_mode));
  bool private_cgroupns = h.cgroupns_mode == "private" || (h.cgroupns_mode.empty() && ctx.cgroup_v2);
  if (private_cgroupns) l.namespaces.push_back({oci::NamespaceType::kCgroup, ""});
  return Ok();
}

Result<void> check_sysctls(const HostConfig& h) {
  for (const auto& [key, value] : h.sysctls) {
    if (h.network_mode == "host" && key.rfind("net.", 0) == 0)
      return sys::user_error("--sysctl: sysctl '" + key + "' not allowed in host network namespace");
    if (h.ipc_mode == "host" && (key.rfind("kernel.", 0) == 0 || key.rfind("fs.mqueue.", 0) == 0))
      return sys::user_error("--sysctl: sysctl '" + key + "' not allowed in host IPC namespace");
  }
  return Ok();
}

struct SecurityOpts {
  bool no_new_privileges = false, unconfined_paths = false;
  std::string seccomp;  // "", "unconfined", "builtin", or the profile's JSON
  std::string apparmor;
};

Result<SecurityOpts> security_opts(const HostConfig& h) {
  SecurityOpts s;
  for (const auto& o : h.security_opt) {
    size_t sep = o.find_first_of("=:");
    std::string key = o.substr(0, sep), value = sep == std::string::npos ? "" : o.substr(sep + 1);
    if (key == "no-new-privileges") s.no_new_privileges = value.empty() || value == "true";
    else if (key == "seccomp") s.seccomp = value;
    else if (key == "systempaths") s.unconfined_paths = value == "unconfined";
    else if (key == "apparmor") s.apparmor = value == "unconfined" ? "" : value;
    else if (key == "label") {
      if (value != "disable")
        return sys::user_error("--security-opt " + o + ": SELinux labels are not supported; only label=disable");
    } else if (key == "writable-cgroups") {
      continue;
    } else {
      return sys::user_error("--security-opt " + o + ": unknown option");
    }
  }
  return s;
}

Result<std::optional<oci::Seccomp>> seccomp_for(const HostConfig& h, const SecurityOpts& s,
                                                const std::vector<std::string>& caps, const SpecContext& ctx) {
  if (s.seccomp == "unconfined") return std::optional<oci::Seccomp>{};
  if (h.privileged) return std::optional<oci::Seccomp>{};
  if (!s.seccomp.empty() && s.seccomp != "builtin")
    return std::optional<oci::Seccomp>{GUISE_TRY(parse_seccomp_profile(s.seccomp, "--security-opt seccomp", caps))};
  if (!ctx.default_seccomp) return std::optional<oci::Seccomp>{};
  oci::Seccomp profile = *ctx.default_seccomp;
  spec_detail::allow_syscalls_for_capabilities(profile, caps);
  return std::optional<oci::Seccomp>{std::move(profile)};
}

std::vector<oci::Rlimit> rlimits(const HostConfig& h, const SpecContext& ctx) {
  std::vector<oci::Rlimit> out;
  if (ctx.nofile) out.push_back({"RLIMIT_NOFILE", ctx.nofile->second, ctx.nofile->first});
  auto value = [](int64_t v) { return v < 0 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(v); };
  for (const auto& u : h.ulimits) {
    std::string type = "RLIMIT_" + u.name;
    for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (type == "RLIMIT_MSGQUEUE" || type == "RLIMIT_SIGPENDING" || type == "RLIMIT_RTPRIO" ||
        type == "RLIMIT_RTTIME" || type == "RLIMIT_NICE" || type == "RLIMIT_LOCKS" || type == "RLIMIT_MEMLOCK" ||
        type == "RLIMIT_NOFILE" || type == "RLIMIT_NPROC" || type == "RLIMIT_STACK" || type == "RLIMIT_CORE" ||
        type == "RLIMIT_CPU" || type == "RLIMIT_DATA" || type == "RLIMIT_FSIZE" || type == "RLIMIT_RSS" ||
        type == "RLIMIT_AS") {
      std::erase_if(out, [&](const oci::Rlimit& r) { return r.type == type; });
      out.push_back({type, value(u.hard), value(u.soft)});
    }
  }
  return out;
}

std::string cgroups_path(const HostConfig& h, const SpecContext& ctx) {
  std::string parent = h.cgroup_parent.empty() ? ctx.cgroup_parent : h.cgroup_parent;
  // A systemd slice takes the runc/systemd form "slice:prefix:name".
  if (parent.size() > 6 && parent.compare(parent.size() - 6, 6, ".slice") == 0) return parent + ":guise:" + ctx.id;
  if (!parent.empty() && parent[0] != '/') parent = "/" + parent;
  return parent + "/" + ctx.id;
}

Result<oci::Process> build_process(const RunRequest& r, const ContainerConfig& merged, const SpecContext& ctx,
                                   const std::string& hostname) {
  oci::Process p;
  p.terminal = merged.tty;
  p.args = process_args(merged);
  if (p.args.empty()) return sys::user_error("no command specified: the image has none and none was given");
  if (r.host.init.value_or(false)) {
    p.args.insert(p.args.begin(), {kInitPath, "--"});
  }
  p.env = process_env(merged, hostname);
  p.cwd = merged.working_dir.empty() ? "/" : merged.working_dir;
  if (p.cwd[0] != '/') p.cwd = "/" + p.cwd;
  p.user = GUISE_TRY(resolve_user(merged.user, r.host.group_add, ctx.passwd, ctx.group), "-u " + merged.user);
  p.oom_score_adj = r.host.oom_score_adj;
  p.rlimits = rlimits(r.host, ctx);
  return p;
}

}  // namespace

Result<oci::Spec> build_spec(const RunRequest& r, const image::ImageConfig& image, const SpecContext& ctx) {
  const auto& h = r.host;
  ContainerConfig merged = merge_image_config(r.config, image);
  std::string hostname = default_hostname(r, ctx);

  oci::Spec s;
  s.oci_version = oci::kSpecVersion;
  s.root = oci::Root{ctx.rootfs, h.readonly_rootfs};
  if (h.uts_mode.empty()) {  // a hostname is set only in a UTS namespace of the container's own
    s.hostname = hostname;
    s.domainname = merged.domainname;
  }
  s.process = GUISE_TRY(build_process(r, merged, ctx, hostname));

  auto security = GUISE_TRY(security_opts(h));
  const auto& all = ctx.host_capabilities.empty() ? linux::all_capability_names() : ctx.host_capabilities;
  auto caps = GUISE_TRY(effective_capabilities(h, all));
  oci::Capabilities c;
  c.bounding = caps;
  if (s.process->user.uid == 0) c.effective = c.permitted = caps;  // moby SetCapabilities: as execve leaves them
  s.process->capabilities = std::move(c);
  s.process->no_new_privileges = security.no_new_privileges;
  if (!h.privileged) s.process->apparmor_profile = security.apparmor;

  oci::Linux l;
  GUISE_TRY(build_namespaces(r, ctx, l));
  bool user_namespace = ctx.rootless || std::any_of(l.namespaces.begin(), l.namespaces.end(), [](const oci::Namespace& n) {
                          return n.type == oci::NamespaceType::kUser;
                        });
  s.mounts = GUISE_TRY(spec_detail::build_mounts(r, merged, ctx, user_namespace));
  GUISE_TRY(spec_detail::build_resources(h, ctx, l));
  GUISE_TRY(check_sysctls(h));
  l.sysctl = h.sysctls;
  l.cgroups_path = cgroups_path(h, ctx);
  if (!h.privileged && !security.unconfined_paths) {
    // A request from the CLI carries docker's defaults already (set_default_system_paths).
    bool given = !h.masked_paths.empty() || !h.readonly_paths.empty();
    l.masked_paths = given ? h.masked_paths : default_masked_paths();
    l.readonly_paths = given ? h.readonly_paths : default_readonly_paths();
  }
  l.seccomp = GUISE_TRY(seccomp_for(h, security, caps, ctx));
  for (const auto& m : s.mounts)
    for (const auto& o : m.options) {
      if (o == "shared" || o == "rshared") l.rootfs_propagation = "rshared";
      else if ((o == "slave" || o == "rslave") && l.rootfs_propagation.empty()) l.rootfs_propagation = "rslave";
    }
  bool unconfined = security.seccomp == "unconfined";
  s.linux = std::move(l);
  for (const auto& [k, v] : merged.labels) s.annotations[k] = v;
  // The cgroup-true /proc view (runtime/proc_view.h): on unless --proc-view=host; a
  // privileged container sees the host as it is.
  s.annotations["org.guise.proc-view"] = h.privileged || h.proc_view == "host" ? "host" : "cgroup";
  // seccomp=unconfined means no filter at all, not even the one that routes sysinfo.
  if (unconfined) s.annotations["org.guise.proc-view.sysinfo"] = "host";
  return s;
}

}  // namespace guise::engine
