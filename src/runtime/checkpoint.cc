// checkpoint: the container's process tree dumped by criu into image files. Nothing
// is done to the container before `criu check` has passed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

#include "oci/parse.h"
#include "runtime/criu.h"
#include "runtime/criu_args.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

// The init's fds 0-2 as runc records them: restore hands pipes among them back to
// whoever restores (containerd's shim gives new pipes).
std::string stdio_descriptors(pid_t pid) {
  std::vector<std::string> names;
  for (int fd = 0; fd < 3; ++fd) {
    char buf[PATH_MAX];
    std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    names.emplace_back(n > 0 ? std::string(buf, n) : std::string());
  }
  return descriptors_json(names);
}

// A namespace joined by path stays outside the images, known by its inode (runc's keys).
Result<std::vector<std::string>> external_namespaces(const oci::Spec& spec) {
  std::vector<std::string> out;
  for (auto t : {oci::NamespaceType::kNetwork, oci::NamespaceType::kPid}) {
    const oci::Namespace* ns = spec.find_namespace(t);
    if (!ns || ns->path.empty()) continue;
    struct stat st {};
    if (::stat(ns->path.c_str(), &st) < 0) return sys::sys_error("stat namespace", ns->path);
    out.push_back(std::string(criu_ns_name(t)) + "[" + std::to_string(st.st_ino) + "]:" + external_ns_key(t));
  }
  return out;
}

// criu freezes through the cgroup freezer where there is one (v2's cgroup.freeze
// included), else it stops each task with ptrace.
std::string freezer_dir(const ContainerState& st) {
  auto freezer = st.cgroup_paths.find("freezer");
  if (freezer != st.cgroup_paths.end()) return freezer->second;
  auto unified = st.cgroup_paths.find("unified");
  if (unified != st.cgroup_paths.end() && st.cgroup_paths.size() == 1) return unified->second;
  return "";
}

Result<void> dump(const Opened& c, const CheckpointOptions& o, const std::string& criu) {
  oci::Spec spec = GUISE_TRY(oci::parse_spec(GUISE_TRY(sys::read_file(c.dir.config_path())), "config.json"));
  CriuPlan plan;
  plan.flags = o;
  plan.leave_running = o.leave_running;
  plan.images = o.image_path;
  plan.work = o.work_path.empty() ? o.image_path : o.work_path;
  plan.log_file = "dump.log";
  plan.root = c.state.rootfs;
  plan.pid = c.state.pid;
  plan.freeze_cgroup = freezer_dir(c.state);
  plan.config_file = criu_config_file(spec);
  plan.external_mounts = external_mounts(spec, c.state.bundle, false);
  plan.externals = GUISE_TRY(external_namespaces(spec));
  // The terminal's master is outside the container, and criu's command line has no
  // --orphan-pts-master (runc's RPC option): the terminal is dumped as a shell job's,
  // and /dev/console (a bind of its peer) as an external mount that restore binds from
  // the new terminal.
  if (spec.process && spec.process->terminal) {
    plan.flags.shell_job = true;
    plan.external_mounts.emplace_back("/dev/console", "/dev/console");
  }

  GUISE_TRY(make_criu_dir(plan.images, "image path"));
  GUISE_TRY(make_criu_dir(plan.work, "work path"));
  GUISE_TRY(sys::write_file(plan.images + "/descriptors.json", stdio_descriptors(c.state.pid), O_CREAT | O_TRUNC, 0600));
  CriuRun run{criu, dump_args(plan), plan.work + "/" + plan.log_file};
  return run_criu(run, "dump");
}

}  // namespace

Result<void> checkpoint_container(const Globals& g, const std::string& id, const CheckpointOptions& o) {
  if (o.image_path.empty()) return sys::user_error("checkpoint: an image path is required");
  {
    Opened c = GUISE_TRY(open_container(g.root, id));
    if (c.status == Status::kCreated || c.status == Status::kStopped)
      return sys::wrong_state(std::string("container cannot be checkpointed in ") + status_name(c.status) + " state");
    std::string criu = GUISE_TRY(find_criu(o.criu), "checkpoint");
    GUISE_TRY(check_criu(criu), "checkpoint");
    GUISE_TRY(dump(c, o, criu), "checkpoint");
  }
  if (o.leave_running) return Ok();
  // criu has ended every process; what is left is the cgroup and the state, as runc
  // destroys them.
  return remove_container(g, id, true);
}

}  // namespace guise::runtime
