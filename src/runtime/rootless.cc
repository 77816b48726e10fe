#include "runtime/rootless.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "linux/namespaces.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

bool in_user_namespace() {
  auto map = sys::read_file("/proc/self/uid_map");
  // The initial namespace maps all of 0..2^32-2 onto itself.
  return map.ok() && map.value().find("4294967295") == std::string::npos;
}

bool own_id_only(const std::vector<oci::IdMapping>& maps, uint32_t own) {
  return maps.size() == 1 && maps[0].host_id == own && maps[0].size == 1;
}

Result<void> run_helper(const char* helper, pid_t pid, const std::vector<oci::IdMapping>& maps, const char* field) {
  std::vector<std::string> args = {helper, std::to_string(pid)};
  for (const auto& m : maps) {
    args.push_back(std::to_string(m.container_id));
    args.push_back(std::to_string(m.host_id));
    args.push_back(std::to_string(m.size));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) return sys::sys_error(std::string("fork for ") + helper);
  if (child == 0) {
    ::execvp(helper, argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return sys::sys_error(std::string("wait for ") + helper);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return sys::user_error(std::string(field) + ": mapping more than your own id needs " + helper +
                           " (Debian package uidmap) and ranges in /etc/sub" + (field[6] == 'u' ? "uid" : "gid"));
  return sys::user_error(std::string(field) + ": " + helper + " refused the mapping (exit " +
                         std::to_string(WEXITSTATUS(status)) + "); check /etc/sub" +
                         (field[6] == 'u' ? "uid" : "gid"));
}

class NoCgroup final : public cgroups::Cgroup {
 public:
  explicit NoCgroup(pid_t pid) : pid_(pid) {}
  std::map<std::string, std::string> paths() const override { return {}; }
  Result<void> apply(const oci::Resources& r) override {
    bool limits = r.memory || r.cpu || r.pids_limit || r.block_io || !r.hugepage_limits.empty() || r.network ||
                  !r.rdma.empty() || !r.unified.empty();
    if (limits) return refuse("linux.resources");
    return Ok();  // device rules are moot: an unprivileged container cannot mknod
  }
  bool is_v2() const override { return false; }
  int clone_into_fd() const override { return -1; }
  Result<cgroups::TaskFiles> open_task_files() const override { return cgroups::TaskFiles{}; }
  Result<std::vector<pid_t>> pids() const override {
    if (pid_ > 0 && ::kill(pid_, 0) == 0) return std::vector<pid_t>{pid_};
    return std::vector<pid_t>{};
  }
  Result<void> kill_all(int signal) override {
    if (pid_ > 0 && ::kill(pid_, signal) < 0 && errno != ESRCH) return sys::sys_error("kill", std::to_string(pid_));
    return Ok();
  }
  Result<void> freeze() override { return refuse("pause"); }
  Result<void> thaw() override { return refuse("resume"); }
  Result<bool> frozen() const override { return false; }
  Result<void> destroy() override { return Ok(); }
  Result<cgroups::Stats> stats() const override { return refuse("stats"); }

 private:
  static Error refuse(const std::string& what) {
    return sys::user_error(what + ": this container has no cgroup (rootless, and no cgroup is delegated to the user)");
  }
  pid_t pid_;
};

}  // namespace

bool rootless_mode(const std::string& flag) {
  if (flag == "true") return true;
  if (flag == "false") return false;
  return ::geteuid() != 0 || in_user_namespace();
}

std::string default_state_root() {
  if (::geteuid() == 0) return "/run/guise";
  const char* xdg = ::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) return std::string(xdg) + "/guise";
  return "/tmp/guise-" + std::to_string(::geteuid());
}

Result<void> write_id_mappings(pid_t pid, const oci::Linux& linux) {
  if (::geteuid() == 0 && !in_user_namespace()) return linux::write_id_mappings(pid, linux);
  std::string proc = "/proc/" + std::to_string(pid);
  if (own_id_only(linux.uid_mappings, ::geteuid()))
    GUISE_TRY(sys::write_file(proc + "/uid_map", std::to_string(linux.uid_mappings[0].container_id) + " " +
                                                     std::to_string(::geteuid()) + " 1\n"),
              "linux.uidMappings");
  else
    GUISE_TRY(run_helper("newuidmap", pid, linux.uid_mappings, "linux.uidMappings"));
  if (own_id_only(linux.gid_mappings, ::getegid())) {
    // Without privilege the kernel takes a gid map only once setgroups is denied.
    GUISE_TRY(sys::write_file(proc + "/setgroups", "deny"), "linux.gidMappings");
    GUISE_TRY(sys::write_file(proc + "/gid_map", std::to_string(linux.gid_mappings[0].container_id) + " " +
                                                     std::to_string(::getegid()) + " 1\n"),
              "linux.gidMappings");
  } else {
    GUISE_TRY(run_helper("newgidmap", pid, linux.gid_mappings, "linux.gidMappings"));
  }
  return Ok();
}

std::unique_ptr<cgroups::Cgroup> no_cgroup(pid_t init_pid) { return std::make_unique<NoCgroup>(init_pid); }

}  // namespace guise::runtime
