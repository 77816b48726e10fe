// cgroup-smoke: drives guise::cgroups on the real kernel, as root. Creates cgroups only
// below this process's own cgroup in each hierarchy, and removes all it made, on
// failure too. Prints one line per check; exits 0 when all passed.
//
//   ./cgroup-smoke            (here: hybrid; in the VM: v2, or VM_CGROUP=v1/hybrid)
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cgroups/cgroup.h"
#include "cgroups/layout.h"
#include "cgroups/path.h"
#include "sys/syscalls.h"

using namespace guise;
using namespace guise::cgroups;

namespace {

int failures = 0;

struct Fatal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(bool ok, const std::string& what, const std::string& detail = "") {
  std::printf("%s - %s%s%s\n", ok ? "ok  " : "FAIL", what.c_str(), detail.empty() ? "" : ": ", detail.c_str());
  std::fflush(stdout);
  if (!ok) ++failures;
}

template <class T>
T must(Result<T> r, const std::string& what) {
  if (!r.ok()) {
    check(false, what, r.error().message());
    throw Fatal(what);
  }
  check(true, what);
  return std::move(r).take();
}

void must(Result<void> r, const std::string& what) {
  if (!r.ok()) {
    check(false, what, r.error().message());
    throw Fatal(what);
  }
  check(true, what);
}

std::string file(const std::string& path) {
  auto text = sys::read_file(path);
  if (!text.ok()) return "<" + text.error().message() + ">";
  std::string s = *text;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void expect_file(const std::string& path, const std::string& want) {
  std::string got = file(path);
  check(got == want, "file " + path + " == \"" + want + "\"", got == want ? "" : "got \"" + got + "\"");
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Children we start; every one is killed and reaped on the way out.
struct Children {
  std::vector<pid_t> pids;
  ~Children() {
    for (pid_t p : pids) ::kill(p, SIGKILL);
    for (pid_t p : pids) ::waitpid(p, nullptr, 0);
    // Grandchildren die with their parent (PDEATHSIG) and come back to us (subreaper).
    for (int i = 0; i < 200; ++i) {
      pid_t got = ::waitpid(-1, nullptr, WNOHANG);
      if (got < 0) break;  // ECHILD: none left
      if (got == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  int reap(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::erase(pids, pid);
    return status;
  }
};

[[noreturn]] void sleep_forever() {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (;;) ::pause();
}

// The child forks its grandchild only once it is in the cgroup (told through `go`).
[[noreturn]] void child_body(int go) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  char byte;
  while (::read(go, &byte, 1) < 0 && errno == EINTR) {
  }
  if (::fork() == 0) sleep_forever();
  sleep_forever();
}

// A child (with one grandchild) that sleeps in the cgroup, entering it as a container
// init does: born in it through CLONE_INTO_CGROUP (cgroup2), and moving itself into each
// v1 hierarchy through the `tasks` files open_task_files() opened.
pid_t spawn(Cgroup& cg, Children& kids) {
  constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
  TaskFiles tasks = must(cg.open_task_files(), "open_task_files");
  int go[2];
  if (::pipe2(go, O_CLOEXEC) < 0) throw Fatal("pipe");
  pid_t pid;
  if (cg.clone_into_fd() >= 0) {
    sys::CloneArgs args;
    args.flags = kCloneIntoCgroup;
    args.cgroup_fd = cg.clone_into_fd();
    auto cloned = sys::clone3(args);  // checked in the parent only: the child must not print
    if (!cloned.ok()) {
      check(false, "clone3(CLONE_INTO_CGROUP)", cloned.error().message());
      throw Fatal("clone3");
    }
    pid = *cloned;
    if (pid > 0) check(true, "clone3(CLONE_INTO_CGROUP) " + std::to_string(pid));
  } else {
    pid = ::fork();
  }
  if (pid == 0) {
    if (!enter_self(tasks).ok()) ::_exit(3);  // the parent's pid count then fails
    child_body(go[0]);
  }
  ::close(go[0]);
  if (pid < 0) throw Fatal("fork");
  kids.pids.push_back(pid);
  (void)!::write(go[1], "g", 1);
  ::close(go[1]);
  return pid;
}

bool wait_for_pids(Cgroup& cg, size_t n) {
  for (int i = 0; i < 500; ++i) {
    auto pids = cg.pids();
    if (pids.ok() && pids->size() == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Refuses to run unless each directory lies strictly below this process's own cgroup.
void guard_below_own(const Layout& layout, const std::string& cgroups_path, const std::string& id) {
  std::vector<const Hierarchy*> all;
  for (const auto& h : layout.v1) all.push_back(&h);
  if (layout.unified) all.push_back(&*layout.unified);
  for (const Hierarchy* h : all) {
    if (layout.mode == Mode::kV2 && !h->is_v2()) continue;
    std::string own = must(own_dir(*h), "own cgroup in " + h->mountpoint);
    std::string dir = must(container_dir(*h, cgroups_path, id), "resolve in " + h->mountpoint);
    if (dir == own || !is_path_below(dir, own)) throw Fatal("refusing: " + dir + " is not below " + own);
  }
}

bool is_v1(const Cgroup& cg) { return cg.paths().count("memory") > 0; }
std::string dir_of(const Cgroup& cg, const char* key) {
  auto p = cg.paths();
  auto it = p.find(is_v1(cg) ? key : "unified");
  return it == p.end() ? "" : it->second;
}

oci::Resources limits() {
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  r.cpu = oci::CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.pids_limit = 32;
  oci::DeviceRule deny_all{false, "a", {}, {}, "rwm"};
  oci::DeviceRule null_dev{true, "c", 1, 3, "rwm"};
  r.devices = {deny_all, null_dev};
  return r;
}

void check_limits(const Cgroup& cg) {
  if (is_v1(cg)) {
    expect_file(dir_of(cg, "memory") + "/memory.limit_in_bytes", "67108864");
    if (exists(dir_of(cg, "memory") + "/memory.memsw.limit_in_bytes"))
      expect_file(dir_of(cg, "memory") + "/memory.memsw.limit_in_bytes", "134217728");
    expect_file(dir_of(cg, "pids") + "/pids.max", "32");
    expect_file(dir_of(cg, "cpu") + "/cpu.cfs_quota_us", "50000");
    expect_file(dir_of(cg, "cpu") + "/cpu.cfs_period_us", "100000");
    expect_file(dir_of(cg, "cpu") + "/cpu.shares", "512");
    expect_file(dir_of(cg, "devices") + "/devices.list", "c 1:3 rwm");
  } else {
    std::string d = dir_of(cg, "unified");
    expect_file(d + "/memory.max", "67108864");
    if (exists(d + "/memory.swap.max")) expect_file(d + "/memory.swap.max", "67108864");
    expect_file(d + "/pids.max", "32");
    expect_file(d + "/cpu.max", "50000 100000");
    expect_file(d + "/cpu.weight", "20");  // 1 + (510 * 9999) / 262142
  }
}

void check_in_cgroup(const Cgroup& cg, pid_t pid) {
  std::string self = file("/proc/" + std::to_string(pid) + "/cgroup");
  std::string want = is_v1(cg) ? dir_of(cg, "pids") : dir_of(cg, "unified");
  auto tail = want.substr(want.rfind('/'));
  check(self.find(tail + "\n") != std::string::npos || self.ends_with(tail),
        "/proc/" + std::to_string(pid) + "/cgroup names " + tail);
}

// Fields beyond the basic limits, where this host has the files.
void check_more(Cgroup& cg) {
  oci::Resources r;
  r.pids_limit = -1;
  r.cpu = oci::CpuResources{};
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  r.memory = oci::MemoryResources{};
  r.memory->reservation = 32 << 20;
  must(cg.apply(r), "apply(pids -1, cpus 0, mems 0, reservation)");
  std::string cpuset = dir_of(cg, "cpuset");
  expect_file(dir_of(cg, "pids") + "/pids.max", "max");
  expect_file(cpuset + "/cpuset.cpus", "0");
  expect_file(cpuset + "/cpuset.mems", "0");
  expect_file(dir_of(cg, "memory") + (is_v1(cg) ? "/memory.soft_limit_in_bytes" : "/memory.low"), "33554432");
  std::string huge = dir_of(cg, "hugetlb") + (is_v1(cg) ? "/hugetlb.2MB.limit_in_bytes" : "/hugetlb.2MB.max");
  if (!dir_of(cg, "hugetlb").empty() && exists(huge)) {
    oci::Resources h;
    h.hugepage_limits = {{"2MB", 4 << 20}};
    must(cg.apply(h), "apply(hugepageLimits 2MB)");
    expect_file(huge, "4194304");
  }
  r = {};
  r.pids_limit = 32;
  must(cg.apply(r), "apply(pids 32) again");
}

void check_errors(Cgroup& cg) {
  oci::Resources bad;
  bad.unified["../escape"] = "1";
  auto r = cg.apply(bad);
  check(!r.ok() && r.error().message().starts_with("linux.resources.unified"), "unified rejected, naming the field",
        r.ok() ? "applied" : r.error().message());
  if (is_v1(cg)) {
    oci::Resources shares;
    shares.cpu = oci::CpuResources{};
    shares.cpu->shares = 1;  // the kernel clamps to 2
    r = cg.apply(shares);
    check(!r.ok() && r.error().message().starts_with("linux.resources.cpu.shares"), "cpu.shares 1 refused",
          r.ok() ? "applied" : r.error().message());
    oci::Resources net;
    net.network = oci::NetworkResources{};
    net.network->class_id = 0x100001;
    r = cg.apply(net);
    if (cg.paths().count("net_cls")) {
      check(r.ok(), "net_cls.classid applied", r.ok() ? "" : r.error().message());
      if (r.ok()) expect_file(cg.paths()["net_cls"] + "/net_cls.classid", "1048577");
    } else {
      check(!r.ok() && r.error().message().find("net_cls") != std::string::npos, "classID without net_cls is an error",
            r.ok() ? "applied" : r.error().message());
    }
  } else {
    oci::Resources rt;
    rt.cpu = oci::CpuResources{};
    rt.cpu->realtime_runtime = 1000;
    r = cg.apply(rt);
    check(!r.ok() && r.error().message().starts_with("linux.resources.cpu.realtimeRuntime"), "realtime refused on v2",
          r.ok() ? "applied" : r.error().message());
    oci::Resources unified;
    unified.unified["memory.high"] = "100000000";
    must(cg.apply(unified), "unified memory.high");
    expect_file(dir_of(cg, "unified") + "/memory.high", "99999744");  // rounded down to pages
  }
}

void check_gone(const std::map<std::string, std::string>& paths) {
  for (const auto& [key, dir] : paths) check(!exists(dir), "removed " + key + " " + dir);
}

void print_stats(Cgroup& cg) {
  Stats s = must(cg.stats(), "stats()");
  if (s.cpu)
    std::printf("     cpu: total %lu ns, user %lu, kernel %lu, %zu per-cpu, periods %lu throttled %lu\n",
                s.cpu->usage_total_ns, s.cpu->usage_user_ns, s.cpu->usage_kernel_ns, s.cpu->usage_per_cpu_ns.size(),
                s.cpu->periods, s.cpu->throttled_periods);
  if (s.memory)
    std::printf("     memory: usage %lu max %lu limit %lu failcnt %lu oom_kill %lu (%zu stat keys)\n", s.memory->usage,
                s.memory->max_usage, s.memory->limit, s.memory->failcnt, s.memory->oom_kill, s.memory->raw.size());
  if (s.pids) std::printf("     pids: current %lu limit %lu\n", s.pids->current, s.pids->limit);
  check(s.pids && s.pids->current == 2 && s.pids->limit == 32, "stats: pids 2 of 32");
  check(s.memory && s.memory->limit == (64 << 20), "stats: memory limit 64 MiB");
}

// The main walk: one container cgroup at the default path.
void lifecycle(const Layout& layout, Children& kids, std::unique_ptr<Cgroup>& cg) {
  std::string id = "guise-smoke-" + std::to_string(::getpid());
  guard_below_own(layout, "", id);
  cg = must(cgroups::create("", id), "create(\"\", " + id + ")");
  for (const auto& [key, dir] : cg->paths()) std::printf("     %s -> %s\n", key.c_str(), dir.c_str());
  must(cg->apply(limits()), "apply(memory, swap, cpu, pids, devices)");
  check_limits(*cg);
  pid_t child = spawn(*cg, kids);
  check(wait_for_pids(*cg, 2), "pids() lists the child and its grandchild");
  auto pids = must(cg->pids(), "pids()");
  check(std::find(pids.begin(), pids.end(), child) != pids.end(), "pids() holds " + std::to_string(child));
  check_in_cgroup(*cg, child);
  must(cg->freeze(), "freeze()");
  check(must(cg->frozen(), "frozen()"), "frozen() is true after freeze()");
  must(cg->thaw(), "thaw()");
  check(!must(cg->frozen(), "frozen()"), "frozen() is false after thaw()");
  print_stats(*cg);
  check_more(*cg);
  check_errors(*cg);
  must(cg->kill_all(SIGTERM), "kill_all(SIGTERM)");
  int status = kids.reap(child);
  check(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "child died of SIGTERM");
  check(wait_for_pids(*cg, 0), "cgroup empty after kill_all");
  pid_t second = spawn(*cg, kids);
  check(wait_for_pids(*cg, 2), "second child in");
  must(cg->freeze(), "freeze() before destroy");
  auto reopened = must(cgroups::open(cg->paths()), "open(paths())");
  check(reopened->paths() == cg->paths(), "open(paths()).paths() == paths()");
  check(must(reopened->frozen(), "frozen() through the reopened cgroup"), "reopened cgroup is frozen");
  auto paths = reopened->paths();
  must(reopened->destroy(), "destroy() of the reopened, frozen cgroup with 2 processes in it");
  status = kids.reap(second);
  check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "second child died of SIGKILL");
  check_gone(paths);
  cg.reset();
}

// A nested relative cgroupsPath: the parent directories are made on the way.
void nested(const Layout& layout, Children& kids, std::vector<std::string>& extra) {
  std::string top = "guise-smoke-" + std::to_string(::getpid()) + "-nested";
  guard_below_own(layout, top + "/inner", "unused");
  auto cg = must(cgroups::create(top + "/inner", "unused"), "create(\"" + top + "/inner\")");
  for (const auto& [key, dir] : cg->paths()) extra.push_back(dir.substr(0, dir.rfind('/')));
  pid_t child = spawn(*cg, kids);
  check(wait_for_pids(*cg, 2), "nested: pids() lists 2");
  auto paths = cg->paths();
  must(cg->destroy(), "nested: destroy()");
  int status = kids.reap(child);
  check(WIFSIGNALED(status), "nested: child killed");
  check_gone(paths);
}

}  // namespace

int main() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // grandchildren come back to us to be reaped
  auto layout = host_layout();
  if (!layout.ok()) {
    std::printf("FAIL - host_layout: %s\n", layout.error().message().c_str());
    return 1;
  }
  std::printf("     mode: %s\n", mode_name(layout->mode));
  std::unique_ptr<Cgroup> cg;
  std::vector<std::string> extra;  // parents made for the nested case
  {
    Children kids;
    try {
      lifecycle(*layout, kids, cg);
      nested(*layout, kids, extra);
    } catch (const Fatal& e) {
      std::printf("     stopped at: %s\n", e.what());
    }
    if (cg) {
      auto paths = cg->paths();
      auto gone = cg->destroy();
      check(gone.ok(), "cleanup destroy()", gone.ok() ? "" : gone.error().message());
    }
  }
  std::sort(extra.begin(), extra.end());
  extra.erase(std::unique(extra.begin(), extra.end()), extra.end());
  for (const auto& dir : extra) {
    ::rmdir(dir.c_str());
    check(!exists(dir), "removed nested parent " + dir);
  }
  std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
  return failures ? 1 : 0;
}
