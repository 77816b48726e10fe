// run and create: docker's flags -> a RunRequest -> the image (pulled when missing) -> a
// rootfs, the container's files and its OCI spec -> the record; run then starts the
// monitor and, in the foreground, attaches to it until the container exits. Anything
// that fails undoes what was made before it: no record, mount, rootfs or name remains.
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <linux/magic.h>

#include "cli/common/size.h"
#include "cli/guise/attach_session.h"
#include "default_seccomp.h"
#include "cli/guise/container_common.h"
#include "cli/guise/container_create.h"
#include "cli/guise/container_network.h"
#include "engine/rootless_cgroup.h"
#include "engine/user_mode_network.h"
#include "cli/guise/pod_common.h"
#include "engine/events.h"
#include "engine/networking.h"
#include "cli/guise/progress_display.h"
#include "cli/guise/run_flags.h"
#include "cli/guise/transfer.h"
#include "engine/attach.h"
#include "engine/host_devices.h"
#include "engine/spec_builder.h"
#include "image/pull.h"
#include "linux/capabilities.h"
#include "linux/userns.h"
#include "oci/parse.h"
#include "oci/write.h"
#include "sys/fault.h"
#include "sys/clock.h"
#include "sys/syscalls.h"

namespace guise::cli {

using nlohmann::json;

namespace {

// docker's statuses for a run that never got the user's process going.
constexpr int kEngineError = 125, kCannotInvoke = 126, kNotFound = 127;

// --platform against an image already in the store: docker's daemon refuses one built for
// another platform rather than running it.
Result<void> check_platform(const image::ImageRecord& rec, const std::string& name, const std::string& wanted) {
  if (wanted.empty()) return Ok();
  image::Platform want = GUISE_TRY(image::parse_platform(wanted));
  auto have = image::parse_platform(rec.platform);
  if (!have) return Ok();  // an image with no platform recorded runs anywhere
  if (want.os == have->os && want.architecture == have->architecture &&
      (want.variant.empty() || have->variant.empty() || want.variant == have->variant))
    return Ok();
  return sys::user_error("image with reference " + name + " was found but does not match the specified platform: wanted " +
                         want.str() + ", actual: " + have->str());
}

Result<image::ImageRecord> find_or_pull(Context& ctx, image::Store& store, const engine::RunRequest& req) {
  const std::string& name = req.config.image;
  if (req.pull != "always") {
    auto rec = store.resolve(name);
    if (rec) GUISE_TRY(check_platform(*rec, name, req.platform));
    if (rec || req.pull == "never" || !rec.error().is(sys::ErrorKind::kNotFound)) return rec;
  }
  GUISE_TRY(need_transfer_code(ctx));  // guise execs guise-full here: it has made nothing yet
  auto ref = GUISE_TRY(image::parse_reference(name));
  if (req.pull != "always") std::fprintf(stderr, "Unable to find image '%s' locally\n", ref.familiar().c_str());
  image::PullOptions opts;
  if (!req.platform.empty()) opts.platform = GUISE_TRY(image::parse_platform(req.platform));
  ProgressDisplay display(stderr, false);
  opts.progress = display.fn();
  auto pulled = image::pull_image(store, ref, opts);
  if (!pulled) {
    (void)store.collect_garbage();
    return std::move(pulled.error());
  }
  std::fprintf(stderr, "Digest: %s\nStatus: Downloaded newer image for %s\n", pulled->repo_digest.str().c_str(),
               ref.familiar().c_str());
  return pulled->image;
}

// A named or anonymous volume's directory: STORE/volumes/NAME/_data, filled from the
// image's content at `target` the first time, as docker does.
Result<std::string> volume_dir(const std::string& store_root, const std::string& name, const std::string& rootfs,
                               const std::string& target) {
  std::string base = store_root + "/volumes/" + name;
  std::string data = base + "/_data";
  std::error_code ec;
  bool fresh = !std::filesystem::exists(data, ec);
  std::filesystem::create_directories(data, ec);
  if (ec) return sys::sys_error_n(ec.value(), "mkdir", data);
  if (fresh && !target.empty()) {
    sys::Fd root(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto src = sys::openat2(root.get(), target, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (src) {
      // "/." so that the magic link is followed: copy_symlinks would copy the link itself.
      std::filesystem::copy(sys::fd_path(src->get()) + "/.", data,
                            std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks, ec);
    }
  }
  return data;
}

// -v SRC:DST[:OPTS] split at its colons.
std::vector<std::string> bind_fields(const std::string& b) {
  std::vector<std::string> f;
  size_t start = 0;
  for (size_t colon; (colon = b.find(':', start)) != std::string::npos; start = colon + 1) f.push_back(b.substr(start, colon - start));
  f.push_back(b.substr(start));
  return f;
}

// docker makes a missing -v source directory, but refuses a missing --mount source.
Result<void> check_bind_sources(const engine::HostConfig& h) {
  for (const auto& b : h.binds) {
    auto f = bind_fields(b);
    if (f.empty() || f[0].empty() || f[0][0] != '/') continue;
    std::error_code ec;
    if (!std::filesystem::exists(f[0], ec)) std::filesystem::create_directories(f[0], ec);
    if (ec) return sys::sys_error_n(ec.value(), "mkdir bind source", f[0]);
  }
  for (const auto& m : h.mounts) {
    std::error_code ec;
    if (m.type == "bind" && !std::filesystem::exists(m.source, ec))
      return sys::user_error("invalid mount config for type \"bind\": bind source path does not exist: " + m.source);
  }
  return Ok();
}

// docker makes the working directory when the image does not have it.
Result<void> make_working_dir(const std::string& rootfs, const std::string& dir) {
  if (dir.empty() || dir == "/") return Ok();
  sys::Fd root(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return sys::sys_error("open", rootfs);
  std::string sofar;
  size_t start = 0;
  while (start < dir.size()) {
    size_t slash = dir.find('/', start);
    if (slash == std::string::npos) slash = dir.size();
    std::string part = dir.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    sofar += "/" + part;
    auto parent_path = sofar.substr(0, sofar.rfind('/'));
    auto parent = sys::openat2(root.get(), parent_path.empty() ? "/" : parent_path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                               RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (!parent) return std::move(parent.error());
    if (::mkdirat(parent->get(), part.c_str(), 0755) < 0 && errno != EEXIST)
      return sys::sys_error("mkdir working directory", dir);
  }
  return Ok();
}

// The capabilities this process may hand on: --privileged gets these, as under podman,
// not ones the host's bounding set lacks (which the kernel would refuse).
std::vector<std::string> bounding_capabilities() {
  std::vector<std::string> out;
  for (const auto& name : linux::all_capability_names()) {
    auto n = linux::capability_number(name);
    if (n && ::prctl(PR_CAPBSET_READ, *n, 0, 0, 0) == 1) out.push_back(name);
  }
  return out;
}

// A pod's /dev/shm on the host, as podman's: its members share it with its IPC namespace.
// false where this process may not mount (rootless): then each has its own, and no
// directory stays to say otherwise (pod_join looks for it).
Result<bool> mount_pod_shm(const std::string& dir, int64_t size) {
  if (::mkdir(dir.c_str(), 0700) < 0) return sys::sys_error("mkdir", dir);
  std::string opts = "mode=1777,size=" + std::to_string(size > 0 ? size : engine::kDefaultShmSize);
  if (::mount("shm", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts.c_str()) == 0) return true;
  int err = errno;
  ::rmdir(dir.c_str());
  if (err == EPERM) return false;
  return sys::sys_error_n(err, "mount tmpfs", dir);
}

bool cgroup_v2_host() {
  struct statfs fs {};
  return ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

// What `create` makes, undone in reverse unless released.
struct Made {
  Context& ctx;
  image::Store& store;
  engine::ContainerStore& cs;
  std::string id, name;
  bool name_reserved = false, rootfs_made = false, dir_made = false;
  bool keep = false;
  sys::FileLock creating;  // held until the record is written (ContainerStore::begin_create)
  ~Made() {
    if (keep) return;
    if (rootfs_made) (void)store.remove_rootfs(id);
    if (dir_made) (void)cs.remove_dir(id);
    if (name_reserved) cs.release_name(name, id);
  }
};

// Rootless, docker's default network (a bridge, which needs root) becomes a user-mode one:
// pasta or slirp4netns, whichever is installed. Either must be able to run here, or the
// container is refused before anything of it is made.
Result<void> choose_network(engine::HostConfig& h) {
  std::string& mode = h.network_mode;
  bool rootless = linux::in_rootless_session();
  if (rootless && mode == "bridge") {
    mode = engine::default_user_mode_network();
    if (mode.empty())
      return sys::user_error("--network: a rootless container's network needs pasta or slirp4netns (as root: "
                             "apt-get install passt); or use --network none or host");
  }
  bool others = mode == "host" || mode == "none" || mode == "bridge" || mode.starts_with("container:");
  if (rootless && !others && !engine::is_user_mode_network(mode))
    return sys::user_error("--network " + mode + ": user-defined networks need root; rootless, use pasta, "
                           "slirp4netns, host or none");
  if (engine::is_user_mode_network(mode)) {
    if (std::string problem = engine::user_mode_network_problem(mode); !problem.empty())
      return sys::user_error("--network " + mode + ": " + problem + "; or use --network none");
    for (const auto& [port, bindings] : h.port_bindings)
      for (const auto& b : bindings)
        if (b.host_port.empty() || b.host_port == "0")
          return sys::user_error("-p " + port + ": --network " + mode +
                                 " publishes a port only on a host port given: -p HOSTPORT:" + port);
    if (h.publish_all_ports) return sys::user_error("-P: --network " + mode + " publishes only ports given with -p");
  }
  return Ok();
}

}  // namespace

// `start`: run's create, whose container starts at once (a foreground one attached first).
Result<Created> create_container(Context& ctx, engine::RunRequest req, const CreateInput& in, image::Store& store,
                                 engine::ContainerStore& cs, bool start) {
  GUISE_TRY(choose_network(req.host));
  GUISE_TRY(check_bind_sources(req.host));
  GUISE_TRY(engine::runtime_for(req.host.runtime, runtime_globals(cs)));  // a name it cannot use: refused before anything is made
  const image::ImageConfig& image_config = in.image_config;

  Made made{ctx, store, cs, engine::ContainerStore::new_id(), req.name};
  // The directory first, locked: whatever a kill leaves from here on, the next command
  // finds through it and removes (collect_abandoned_creates).
  made.creating = GUISE_TRY(cs.begin_create(made.id));
  made.dir_made = true;
  GUISE_FAULT_POINT("run: container directory made");
  if (made.name.empty()) {
    for (int i = 0; i < 10; ++i) {
      made.name = engine::ContainerStore::random_name();
      if (cs.reserve_name(made.name, made.id)) break;
      made.name.clear();
    }
    if (made.name.empty()) return sys::user_error("could not pick a free container name; give one with --name");
  } else {
    GUISE_TRY(cs.reserve_name(made.name, made.id));
  }
  made.name_reserved = true;
  GUISE_FAULT_POINT("run: name reserved");

  engine::ContainerPaths paths = cs.paths(made.id);
  image::Rootfs rootfs;
  if (in.image) {
    rootfs = GUISE_TRY(store.create_rootfs(made.id, *in.image));
    made.rootfs_made = true;
    GUISE_FAULT_POINT("run: rootfs made");
    // A --rm container's upper layer goes with it: not worth a sync at its unmount.
    GUISE_TRY(store.mount_rootfs(rootfs, {}, req.host.auto_remove));
    GUISE_FAULT_POINT("run: rootfs mounted");
  } else {
    // A pod's infra: an empty directory of its own, where the runtime makes the mount
    // points; its one program, guise-init, is bound in read-only from the host (--init).
    rootfs.merged = paths.dir + "/rootfs";
    if (::mkdir(rootfs.merged.c_str(), 0755) < 0) return sys::sys_error("mkdir", rootfs.merged);
  }
  bool pod_shm = in.pod_shm && GUISE_TRY(mount_pod_shm(paths.shm(), req.host.shm_size));  // unmounted by remove_dir
  std::error_code ec;
  std::filesystem::create_directories(paths.bundle(), ec);
  if (ec) return sys::sys_error_n(ec.value(), "mkdir", paths.bundle());

  engine::ContainerConfig merged = engine::merge_image_config(req.config, image_config);
  GUISE_TRY(make_working_dir(rootfs.merged, merged.working_dir));
  std::string hostname = req.config.hostname.empty() ? made.id.substr(0, 12) : req.config.hostname;
  GUISE_TRY(sys::write_file(paths.dir + "/hostname", hostname + "\n", O_CREAT | O_TRUNC, 0644));
  // Made again at start for a container with a network of its own (its address is known
  // only then); as they are for none, host and container:NAME.
  GUISE_TRY(sys::write_file(paths.dir + "/hosts", engine::hosts_text(hostname, {}, req.host.extra_hosts),
                            O_CREAT | O_TRUNC, 0644));
  auto resolv = sys::read_file("/etc/resolv.conf");
  std::string host_resolv = resolv ? *resolv : std::string();
  if (engine::is_user_mode_network(req.host.network_mode))
    host_resolv = engine::user_mode_resolv_conf(req.host.network_mode, host_resolv);
  GUISE_TRY(sys::write_file(paths.dir + "/resolv.conf",
                            engine::resolv_conf_text(host_resolv, {}, req.host.dns,
                                                     req.host.dns_search, req.host.dns_options),
                            O_CREAT | O_TRUNC, 0644));

  engine::SpecContext sc;
  sc.id = made.id;
  sc.rootfs = rootfs.merged;
  // A pod member sharing the infra's network sees the infra's files, which its start fills.
  std::string names_dir = in.names_from.empty() ? paths.dir : cs.paths(in.names_from).dir;
  sc.hosts_path = names_dir + "/hosts";
  sc.resolv_conf_path = names_dir + "/resolv.conf";
  sc.hostname_path = paths.dir + "/hostname";
  sc.init_path = engine::init_binary();
  if (pod_shm) sc.shm_path = paths.shm();
  else if (!in.shm_from.empty()) sc.shm_path = cs.paths(in.shm_from).shm();
  std::string root = store_root(ctx);
  for (const auto& v : engine::named_volumes(req.host)) {
    std::string target;
    for (const auto& m : req.host.mounts)
      if (m.source == v) target = m.target;
    for (const auto& b : req.host.binds)
      if (auto f = bind_fields(b); f.size() >= 2 && f[0] == v && target.empty()) target = f[1];
    sc.volume_paths[v] = GUISE_TRY(volume_dir(root, v, rootfs.merged, target));
  }
  for (const auto& t : engine::anonymous_volume_targets(merged, req.host))
    sc.anonymous_volume_paths[t] = GUISE_TRY(volume_dir(root, engine::ContainerStore::new_id(), rootfs.merged, t));
  sc.host_capabilities = bounding_capabilities();
  if (req.host.privileged) sc.host_devices = engine::host_devices("/dev");
  sc.cgroup_parent = "guise";
  // Rootless: container cgroups only in a subtree delegated to the user, else none.
  bool rootless = linux::in_rootless_session();
  sc.rootless = rootless;
  engine::CgroupDelegation delegation;
  if (rootless) {
    delegation = engine::find_cgroup_delegation();
    if (!delegation.base.empty()) sc.cgroup_parent = delegation.base + "/guise";
  }
  sc.cgroup_v2 = cgroup_v2_host();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  sc.host_hostname = host;
  sc.passwd = read_in_rootfs(rootfs.merged, "/etc/passwd");
  sc.group = read_in_rootfs(rootfs.merged, "/etc/group");
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0) sc.nofile = std::make_pair(uint64_t{nofile.rlim_cur}, uint64_t{nofile.rlim_max});
  sc.namespace_path = [&cs](const std::string& other, const std::string& ns) -> Result<std::string> {
    std::string id = GUISE_TRY(cs.resolve(other));
    auto v = GUISE_TRY(engine::view_container(cs, id));
    if (!v.init_alive()) return sys::wrong_state("cannot join container " + other + ": it is not running");
    return "/proc/" + std::to_string(v.state.pid) + "/ns/" + ns;
  };
  sc.device_info = engine::host_device;
  if (engine::is_user_mode_network(req.host.network_mode))
    sc.network_ns_path = engine::user_mode_netns_path(cs.root(), made.id);
  if (engine::uses_network_layer(req.host.network_mode)) {
    auto layer = GUISE_TRY(open_network_layer(cs));
    if (req.host.network_mode != "bridge") {
      // docker's words, and refused before anything of the container is made.
      auto net = layer.store().find(req.host.network_mode);
      if (!net) return sys::not_found("network " + req.host.network_mode + " not found");
    }
    sc.network_ns_path = layer.netns_path(made.id);
  }
  // docker's default profile, as its daemon applies it (build_spec leaves it out for
  // --privileged and seccomp=unconfined, and widens it for --cap-add as moby does).
  sc.default_seccomp = GUISE_TRY(engine::parse_seccomp_profile(kDefaultSeccompProfile, "docker's default seccomp profile",
                                                               {}));
  oci::Spec spec = GUISE_TRY(engine::build_spec(req, image_config, sc));
  if (rootless && spec.linux && spec.linux->resources) {
    // podman's way: the container runs, without the limits it cannot have, and the user
    // is told why.
    auto dropped = engine::drop_undelegated_limits(*spec.linux->resources, delegation);
    if (!dropped.empty())
      std::fprintf(stderr, "WARNING: %s\n", engine::undelegated_limits_warning(dropped, delegation).c_str());
    if (delegation.base.empty()) spec.linux->resources.reset();
  }
  if (!in.process_args.empty() && spec.process) spec.process->args = in.process_args;
  GUISE_TRY(sys::write_file(paths.bundle() + "/config.json", oci::spec_json(spec), O_CREAT | O_TRUNC, 0600));
  GUISE_FAULT_POINT("run: spec written");

  engine::MonitorConfig mc;
  mc.id = made.id;
  mc.store_root = root;
  mc.runtime_root = cs.runtime_root();
  mc.runtime = req.host.runtime;
  mc.tty = req.config.tty;
  mc.open_stdin = req.config.open_stdin;
  mc.stdin_once = req.config.stdin_once;
  mc.log_driver = req.host.log_config.type.empty() ? "json-file" : req.host.log_config.type;
  if (auto it = req.host.log_config.config.find("max-size"); it != req.host.log_config.config.end()) {
    auto bytes = parse_ram_bytes(it->second, "--log-opt max-size");
    if (!bytes) return std::move(bytes.error());
    mc.log_max_size = *bytes;
  }
  if (auto it = req.host.log_config.config.find("max-file"); it != req.host.log_config.config.end())
    mc.log_max_file = std::max(1, std::atoi(it->second.c_str()));
  mc.restart_policy = req.host.restart_policy.name.empty() ? "no" : req.host.restart_policy.name;
  mc.restart_max_retries = req.host.restart_policy.maximum_retry_count;
  mc.auto_remove = req.host.auto_remove;
  if (merged.healthcheck && !merged.healthcheck->test.empty() && merged.healthcheck->test[0] != "NONE") {
    mc.health_cmd = merged.healthcheck->test;
    if (merged.healthcheck->interval_ns > 0) mc.health_interval_ns = merged.healthcheck->interval_ns;
    if (merged.healthcheck->timeout_ns > 0) mc.health_timeout_ns = merged.healthcheck->timeout_ns;
    mc.health_start_period_ns = merged.healthcheck->start_period_ns;
    if (merged.healthcheck->retries > 0) mc.health_retries = merged.healthcheck->retries;
  }
  mc.init = req.host.init.value_or(false);
  // Attach before the process runs, so not a byte of its output is missed.
  mc.wait_for_attach = start && !req.detach;
  if (engine::has_network_to_undo(req.host.network_mode)) mc.exit_command = cleanup_command(root, made.id);
  if (spec.linux) {
    std::vector<std::string> ns_paths;
    for (const auto& n : spec.linux->namespaces) ns_paths.push_back(n.path);
    mc.joined = engine::joined_processes(ns_paths);
  }
  // A --rm container's files end with its run: none of them is worth an fsync.
  engine::Sync sync = req.host.auto_remove ? engine::Sync::kVolatile : engine::Sync::kDurable;
  GUISE_TRY(engine::write_file_atomic(paths.monitor_config(), GUISE_TRY(engine::monitor_config_json(mc)), sync));

  engine::ContainerRecord rec;
  rec.id = made.id;
  rec.name = made.name;
  rec.created = sys::now_rfc3339();
  rec.image = req.config.image;
  rec.image_id = in.image ? in.image->id.str() : std::string();
  rec.pod = in.pod_id;
  std::vector<std::string> argv = spec.process ? spec.process->args : std::vector<std::string>{};
  if (!argv.empty()) {
    rec.path = argv[0];
    rec.args.assign(argv.begin() + 1, argv.end());
  }
  json cfg = engine::to_json(merged);
  cfg["Hostname"] = hostname;
  rec.config = cfg;
  rec.host_config = engine::to_json(req.host);
  json mounts = json::array();
  for (const auto& m : spec.mounts)
    if (m.type == "bind" && m.source.rfind(root + "/volumes/", 0) == 0) {
      std::string vol = m.source.substr(root.size() + 9);
      vol = vol.substr(0, vol.find('/'));
      mounts.push_back({{"Type", "volume"}, {"Name", vol}, {"Source", m.source}, {"Destination", m.destination},
                        {"Driver", "local"}, {"Mode", ""}, {"RW", true}, {"Propagation", ""}});
    }
  for (const auto& b : req.host.binds) {
    auto f = bind_fields(b);
    if (f.size() < 2 || f[0].empty() || f[0][0] != '/') continue;
    std::string mode = f.size() > 2 ? f[2] : "";
    bool ro = ("," + mode + ",").find(",ro,") != std::string::npos;
    mounts.push_back({{"Type", "bind"}, {"Source", f[0]}, {"Destination", f[1]}, {"Mode", mode}, {"RW", !ro},
                      {"Propagation", "rprivate"}});
  }
  for (const auto& m : req.host.mounts)
    if (m.type == "bind")
      mounts.push_back({{"Type", "bind"}, {"Source", m.source}, {"Destination", m.target}, {"Mode", ""},
                        {"RW", !m.read_only}, {"Propagation", "rprivate"}});
  rec.mounts = mounts;
  rec.rootfs = rootfs.merged;
  rec.runtime = req.host.runtime.empty() ? "guise" : req.host.runtime;
  rec.endpoint = json(engine::to_json(req.endpoint));
  GUISE_TRY(cs.write_record(rec, sync));
  GUISE_FAULT_POINT("run: record written");
  made.keep = true;
  engine::record_container_event(cs.root(), made.id, "create");
  return Created{made.id, std::move(req)};
}

namespace {

Result<Created> create(Context& ctx, const RunFlags& flags, const std::vector<std::string>& args, image::Store& store,
                       engine::ContainerStore& cs, bool start) {
  engine::RunRequest req = GUISE_TRY(to_run_request(flags, args));
  // Before the image: a bad command line costs no pull, and changes nothing of a pod.
  if (flags.pod.empty()) GUISE_TRY(choose_network(req.host));  // a pod's member has the pod's
  else GUISE_TRY(check_pod_flags(ctx, flags));
  CreateInput in;
  in.image = GUISE_TRY(find_or_pull(ctx, store, req));
  std::string config_text = GUISE_TRY(store.content().read(in.image->id, 16 << 20));
  in.image_config = GUISE_TRY(image::parse_config(config_text));
  // The pod's infra started once the image is known good. Its lock is held until the
  // record is written: a `pod rm` meanwhile waits, then finds the member.
  std::optional<PodJoin> pod;
  if (!flags.pod.empty()) pod = GUISE_TRY(join_pod(ctx, cs, flags, req));
  if (pod) {
    in.pod_id = pod->pod_id;
    if (pod->shares_network) in.names_from = pod->infra_id;
    if (pod->shares_shm) in.shm_from = pod->infra_id;
  }
  return create_container(ctx, std::move(req), in, store, cs, start);
}

// docker's status for a process that could not be started: 127 not found, 126 not runnable.
int start_failure_code(const Error& e) {
  std::string m = e.message();
  if (m.find("not found") != std::string::npos || m.find("No such file") != std::string::npos) return kNotFound;
  if (m.find("ermission denied") != std::string::npos || m.find("not executable") != std::string::npos) return kCannotInvoke;
  return kEngineError;
}

void run(Context& ctx, const RunFlags& flags, const std::vector<std::string>& args, bool start) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error(), kEngineError);
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error(), kEngineError);
  auto made = create(ctx, flags, args, *store, *cs, start);
  if (!made) return ctx.fail(made.error(), kEngineError);
  if (!start) {
    std::printf("%s\n", made->id.c_str());
    return;
  }
  const engine::RunRequest& req = made->req;
  bool foreground = !req.detach;
  std::optional<engine::AttachClient> client;
  Error attach_error;
  std::string socket = cs->paths(made->id).attach_socket();
  auto started = start_container(*cs, made->id, [&] {
    auto c = engine::AttachClient::connect(socket);
    if (c) client.emplace(std::move(*c));
    else attach_error = c.error();
  });
  if (!started) {
    int code = start_failure_code(started.error());
    // The monitor looked into the rootfs for why the program would not start: its code.
    bool program_failed = false;
    if (auto st = engine::read_state(cs->paths(made->id)); st && st->exit_cause == "exec" && st->exit_code > 0)
      code = st->exit_code, program_failed = true;
    // As docker does, a container whose program would not start stays (created, with its
    // error) for `why` and `start`; with --rm, or when the engine failed, it goes.
    if (req.host.auto_remove || !program_failed) (void)remove_container_fully(ctx, *cs, made->id, true);
    return ctx.fail(started.error(), code);
  }
  if (!foreground) {
    std::printf("%s\n", made->id.c_str());
    return;
  }
  if (!client) return ctx.fail(attach_error, kEngineError);
  // The monitor, held by a pidfd now, while its pid surely is its own.
  std::optional<sys::Fd> monitor;
  if (auto st = engine::read_state(cs->paths(made->id)); st && st->monitor_pid > 0)
    if (auto fd = sys::pidfd_open(st->monitor_pid)) monitor = std::move(*fd);
  AttachOptions ao;
  ao.tty = req.config.tty;
  ao.stdin_open = req.config.open_stdin;
  ao.proxy_signals = flags.sig_proxy;
  if (!flags.detach_keys.empty()) {
    auto keys = parse_detach_keys(flags.detach_keys);
    if (!keys) return ctx.fail(keys.error(), kEngineError);
    ao.detach_keys = *keys;
  }
  ao.send_signal = signal_forwarder(*cs, made->id);
  std::string id = made->id;
  auto code = attach_session(*client, ao);
  if (!code) return ctx.fail(code.error(), kEngineError);
  if (*code == kDetached) return;  // the container runs on, as after docker's ctrl-p ctrl-q
  // --rm: docker returns once the container is gone, and so does this: the monitor exits
  // right after removing it.
  if (req.host.auto_remove) {
    if (monitor) wait_for_exit(monitor->get(), 5000);
    for (int i = 0; i < 500 && ::access(cs->paths(id).dir.c_str(), F_OK) == 0; ++i) ::usleep(2000);
    // The container's own status stays the exit code; what failed here is told, not returned.
    if (engine::has_network_to_undo(req.host.network_mode))
      if (auto r = release_container_network(*cs, id); !r)
        std::fprintf(stderr, "WARNING: removing the network of %s: %s\n", id.c_str(), r.error().message().c_str());
  } else if (engine::has_network_to_undo(req.host.network_mode)) {
    // Stopped for good unless a restart policy brings it back (the monitor then still runs).
    if (auto v = engine::view_container(*cs, id); v && !v->running())
      if (auto r = teardown_container_network(*cs, id); !r)
        std::fprintf(stderr, "WARNING: tearing down the network of %s: %s\n", id.c_str(), r.error().message().c_str());
  }
  ctx.exit_code = *code;
}

}  // namespace

void register_run_commands(CLI::App& app, Context& ctx) {
  CLI::App* container = app.get_subcommand("container");
  static RunFlags rf;
  for (auto [parent, verb] : {std::pair{&app, "run"}, std::pair{container, "run"}, std::pair{&app, "create"},
                              std::pair{container, "create"}}) {
    bool start = std::string_view(verb) == "run";
    auto* c = parent->add_subcommand(verb, start ? "Create and run a new container from an image"
                                                 : "Create a new container");
    // Its eighty flags, on four commands, were half of what building the command line cost
    // every guise process: they are added only to the command being parsed, just before.
    c->preparse_callback([c](std::size_t) {
      add_run_flags(*c, rf);
      one_value_each(*c);
    });
    c->callback([&ctx, c, start] {
      std::vector<std::string> args = c->remaining();
      run(ctx, rf, args, start);
    });
  }
}

}  // namespace guise::cli
