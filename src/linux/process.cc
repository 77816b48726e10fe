#include "linux/process.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <sched.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <cstdlib>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "linux/exec_trampoline.h"
#include "linux/paths.h"
#include "sys/syscalls.h"

namespace guise::linux {

Result<void> set_hostname(const std::string& hostname, const std::string& domainname) {
  if (!hostname.empty() && ::sethostname(hostname.data(), hostname.size()) < 0)
    return sys::sys_error("set hostname", hostname);
  if (!domainname.empty() && ::setdomainname(domainname.data(), domainname.size()) < 0)
    return sys::sys_error("set domainname", domainname);
  return Ok();
}

Result<void> bring_up_loopback() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return sys::sys_error("a socket to bring up the loopback");
  ifreq r{};
  std::memcpy(r.ifr_name, "lo", 3);
  int rc = ::ioctl(s, SIOCGIFFLAGS, &r);
  if (rc == 0 && !(r.ifr_flags & IFF_UP)) {
    r.ifr_flags |= IFF_UP;
    rc = ::ioctl(s, SIOCSIFFLAGS, &r);
  }
  int err = errno;
  ::close(s);
  if (rc < 0) return sys::sys_error_n(err, "bring up the loopback interface lo");
  return Ok();
}

namespace {
bool own_namespace(const oci::Spec& spec, oci::NamespaceType t, const char* proc_name) {
  const oci::Namespace* ns = spec.find_namespace(t);
  if (!ns) return false;
  if (ns->path.empty()) return true;
  struct stat joined {}, host {};
  if (::stat(ns->path.c_str(), &joined) < 0) return true;  // a bad path fails later, by name
  if (::stat((std::string("/proc/self/ns/") + proc_name).c_str(), &host) < 0) return true;
  return joined.st_ino != host.st_ino || joined.st_dev != host.st_dev;
}
}  // namespace

Result<void> check_sysctl_namespaces(const oci::Spec& spec) {
  if (!spec.linux) return Ok();
  static const char* ipc_names[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const auto& [name, value] : spec.linux->sysctl) {
    std::string where = "config.json: linux.sysctl[\"" + name + "\"]: ";
    bool is_ipc = name.rfind("fs.mqueue.", 0) == 0;
    for (const char* n : ipc_names) is_ipc = is_ipc || name == n;
    if (is_ipc) {
      if (!own_namespace(spec, oci::NamespaceType::kIpc, "ipc"))
        return sys::user_error(where + "needs a private ipc namespace; it would change the host's");
    } else if (name.rfind("net.", 0) == 0) {
      if (!own_namespace(spec, oci::NamespaceType::kNetwork, "net"))
        return sys::user_error(where + "needs a private network namespace; it would change the host's");
    } else if (name == "kernel.hostname" || name == "kernel.domainname") {
      if (!own_namespace(spec, oci::NamespaceType::kUts, "uts"))
        return sys::user_error(where + "needs a private uts namespace; it would change the host's");
    } else {
      return sys::user_error(where + "is not in a namespace of the container's own; refusing to change the host");
    }
  }
  return Ok();
}

Result<void> apply_sysctl(const ProcFs& proc, const std::map<std::string, std::string>& sysctl) {
  for (const auto& [name, value] : sysctl) {
    if (name.empty() || name.find("..") != std::string::npos || name.find('/') != std::string::npos)
      return sys::user_error("linux.sysctl: invalid name \"" + name + "\"");
    std::string rel = "sys/" + name;
    for (size_t i = 4; i < rel.size(); ++i)
      if (rel[i] == '.') rel[i] = '/';
    GUISE_TRY(proc.write(rel, value), "linux.sysctl." + name);
  }
  return Ok();
}

int rlimit_resource(const std::string& name) {
  static const std::pair<const char*, int> table[] = {
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_STACK", RLIMIT_STACK},
      {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME}};
  for (const auto& [n, r] : table)
    if (name == n) return r;
  return -1;
}

Result<void> apply_rlimits(const std::vector<oci::Rlimit>& rlimits) {
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const auto& r = rlimits[i];
    int res = rlimit_resource(r.type);
    if (res < 0) return sys::user_error("process.rlimits[" + std::to_string(i) + "].type: unknown rlimit \"" + r.type + "\"");
    struct rlimit lim {r.soft, r.hard};
    if (::setrlimit(res, &lim) < 0)
      return sys::sys_error("set " + r.type + " to " + std::to_string(r.soft) + ":" + std::to_string(r.hard));
  }
  return Ok();
}

Result<void> apply_oom_score_adj(const ProcFs& proc, int adj) {
  // Already so (the usual 0): nothing to write. A process made undumpable in a user
  // namespace (an exec of a rootless engine) may read the file but not open it to write.
  auto now = sys::read_file("/proc/self/oom_score_adj");
  if (now && std::atoi(now->c_str()) == adj) return Ok();
  return proc.write(proc.self() + "/oom_score_adj", std::to_string(adj));
}

Result<void> apply_personality(const oci::Personality& p) {
  unsigned long persona = p.domain == "LINUX32" ? PER_LINUX32 : PER_LINUX;
  if (::personality(persona) < 0) return sys::sys_error("set personality " + p.domain);
  return Ok();
}

Result<void> apply_io_priority(const oci::IoPriority& p) {
  int klass = p.klass == "IOPRIO_CLASS_RT" ? 1 : p.klass == "IOPRIO_CLASS_BE" ? 2 : p.klass == "IOPRIO_CLASS_IDLE" ? 3 : -1;
  if (klass < 0) return sys::user_error("process.ioPriority.class: unknown class \"" + p.klass + "\"");
  int prio = (klass << 13) | p.priority;
  if (::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, prio) < 0)
    return sys::sys_error("set I/O priority " + p.klass);
  return Ok();
}

Result<void> apply_scheduler(const oci::Scheduler& s) {
  static const std::pair<const char*, int> policies[] = {
      {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
      {"SCHED_BATCH", SCHED_BATCH}, {"SCHED_IDLE", SCHED_IDLE}};
  int policy = -1;
  for (const auto& [n, v] : policies)
    if (s.policy == n) policy = v;
  if (policy < 0) return sys::user_error("process.scheduler.policy: unsupported policy \"" + s.policy + "\"");
  struct sched_param param {};
  param.sched_priority = s.priority.value_or(0);
  if (::sched_setscheduler(0, policy, &param) < 0) return sys::sys_error("set scheduler " + s.policy);
  if (s.nice && ::setpriority(PRIO_PROCESS, 0, *s.nice) < 0) return sys::sys_error("set nice value");
  return Ok();
}

Result<void> become_user(const oci::User& user, const CapSets& caps) {
  GUISE_TRY(apply_bounding(caps));
  // Keep permitted capabilities across setuid; the exact sets are applied right after.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return sys::sys_error("prctl PR_SET_KEEPCAPS");
  std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  // setgroups is denied in a user namespace whose setgroups file says "deny".
  if (::setgroups(groups.size(), groups.data()) < 0 && !(errno == EPERM && groups.empty()))
    return sys::sys_error("setgroups");
  if (::setresgid(user.gid, user.gid, user.gid) < 0)
    return sys::sys_error("setgid " + std::to_string(user.gid));
  if (::setresuid(user.uid, user.uid, user.uid) < 0)
    return sys::sys_error("setuid " + std::to_string(user.uid));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return sys::sys_error("prctl PR_SET_KEEPCAPS");
  GUISE_TRY(apply_capabilities(caps));
  ::umask(user.umask.value_or(022));
  return Ok();
}

Result<void> set_no_new_privileges() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return sys::sys_error("prctl PR_SET_NO_NEW_PRIVS");
  return Ok();
}

Result<void> enter_cwd(const std::string& cwd) {
  sys::Fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return sys::sys_error("open", "/");
  auto dir = open_in_root(root.get(), cwd, O_DIRECTORY);
  if (!dir.ok()) return std::move(dir.error()).with_context("chdir to process.cwd " + cwd);
  if (::fchdir(dir.value().get()) < 0) return sys::sys_error("chdir to process.cwd", cwd);
  char here[PATH_MAX];
  // Outside the root the kernel's getcwd answers "(unreachable)/..." and glibc ENOENT.
  if (!::getcwd(here, sizeof here) || here[0] != '/')
    return sys::user_error("process.cwd " + cwd + " resolves outside the container's root; refusing it");
  return Ok();
}

Result<void> become_user_at(const oci::User& user, const CapSets& caps, const std::string& cwd) {
  auto early = enter_cwd(cwd);
  bool again = !early.ok() && (early.error().errnum == EACCES || early.error().errnum == EPERM);
  if (!early.ok() && !again) return std::move(early.error());
  GUISE_TRY(become_user(user, caps), "process.user");
  if (again) GUISE_TRY(enter_cwd(cwd));
  return Ok();
}

Result<void> close_fds_on_exec(int preserve_fds) {
  unsigned first = 3 + static_cast<unsigned>(preserve_fds);
  if (::close_range(first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) return sys::sys_error("close_range");
  return Ok();
}

static std::string env_value(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return e.substr(key.size() + 1);
  return {};
}

std::vector<std::string> with_home(std::vector<std::string> env, uint32_t uid) {
  for (const auto& e : env)
    if (e.rfind("HOME=", 0) == 0) return env;
  std::string home = "/";
  auto passwd = sys::read_file("/etc/passwd");
  if (passwd.ok()) {
    size_t start = 0;
    const std::string& text = passwd.value();
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      // name:password:uid:gid:gecos:home:shell
      std::vector<std::string> f;
      size_t p = start;
      while (p <= end) {
        size_t c = text.find(':', p);
        if (c == std::string::npos || c > end) c = end;
        f.push_back(text.substr(p, c - p));
        p = c + 1;
      }
      if (f.size() >= 6 && f[2] == std::to_string(uid)) {
        home = f[5];
        break;
      }
      start = end + 1;
    }
  }
  env.push_back("HOME=" + home);
  return env;
}

Result<std::string> resolve_executable(const std::string& file, const std::vector<std::string>& env) {
  if (file.find('/') != std::string::npos) {
    if (::access(file.c_str(), X_OK) < 0) return sys::sys_error("exec", file);
    return file;
  }
  std::string path = env_value(env, "PATH");
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(start, colon - start);
    start = colon + 1;
    std::string candidate = (dir.empty() ? "." : dir) + "/" + file;
    struct stat st {};
    if (::access(candidate.c_str(), X_OK) == 0 && ::stat(candidate.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
      return candidate;
  }
  return sys::user_error("exec: \"" + file + "\": executable file not found in $PATH");
}

Error exec_process(const std::string& path, const std::vector<std::string>& args,
                   const std::vector<std::string>& env, int trampoline, int report_fd) {
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  if (trampoline >= 0) {
    // [marker, path, argv...]; by its /proc/self/fd path with execve, not execveat:
    // the filter is in place, and a profile must allow execve but may not execveat.
    std::vector<char*> through;
    std::string marker = ExecTrampoline::argv0(report_fd);
    through.push_back(marker.data());
    through.push_back(const_cast<char*>(path.c_str()));
    through.insert(through.end(), argv.begin(), argv.end());
    std::string self = "/proc/self/fd/" + std::to_string(trampoline);
    ::execve(self.c_str(), through.data(), envp.data());
    // Refused (no /proc in the container, a kernel that will not exec memfds): direct,
    // and the report fd (kept open for the trampoline) must not reach the program.
  }
  if (report_fd >= 0) ::close(report_fd);
  ::execve(path.c_str(), argv.data(), envp.data());
  return sys::sys_error("exec", path);
}

}  // namespace guise::linux
