// `guise why` from facts: the exit classified and told in words with its numbers; the
// facts' JSON; the kernel log lines it reads; the program files it looks into (scripts,
// ELF headers) and the rootfs diagnosis of a start that failed.
#include <elf.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "engine/container.h"
#include "engine/exit_cause.h"
#include "engine/exit_facts_json.h"
#include "engine/kernel_log.h"
#include "engine/monitor_exit_facts.h"
#include "engine/program_file.h"
#include "engine/start_failure.h"

namespace fs = std::filesystem;
using namespace guise::engine;

namespace {

constexpr int64_t kMiB = 1 << 20;

ExitFacts oom_pid1() {
  ExitFacts f;
  f.cgroup = "v1";
  f.exit_code = 137;
  f.signal = SIGKILL;
  f.oom_kills = 1;
  f.main_oom_killed = true;
  f.memory_limit = 32 * kMiB;
  f.memory_peak = 32 * kMiB;
  f.memory_peak_source = "max_usage_in_bytes";
  f.cache_at_oom = 2 * kMiB;
  f.usage_at_oom = 32 * kMiB;
  f.memory_cache = kMiB;
  return f;
}

Diagnosis why_of(const ExitFacts& f, std::vector<std::string> log = {}, std::string syscall = {}) {
  WhyInput in;
  in.state.status = "exited";
  in.state.exit_code = f.exit_code;
  in.state.exit_signal = f.init ? 0 : f.signal;
  in.state.exit_cause = classify_exit(f);
  in.state.exit_facts = f;
  in.status = "exited";
  in.log_tail = std::move(log);
  in.syscall_name = std::move(syscall);
  return diagnose(in);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(ExitCause, OomOfPid1NamesLimitPeakAndPageCache) {
  ExitFacts f = oom_pid1();
  EXPECT_EQ(classify_exit(f), "oom");
  Diagnosis d = why_of(f);
  std::string p = d.paragraph();
  EXPECT_TRUE(has(p, "OOM killer killed PID 1")) << p;
  EXPECT_TRUE(has(p, "memory limit 32 MiB")) << p;
  EXPECT_TRUE(has(p, "peak usage 32 MiB")) << p;
  EXPECT_TRUE(has(p, "page cache 2 MiB at the OOM kill (6% of the usage)")) << p;
  EXPECT_TRUE(has(p, "--memory (above 32 MiB)")) << p;
  EXPECT_TRUE(has(p, "exit code 137, SIGKILL")) << p;
}

TEST(ExitCause, OomOfAChildWhilePid1ExitsZero) {
  ExitFacts f = oom_pid1();
  f.exit_code = 0;
  f.signal = 0;
  f.main_oom_killed = false;
  f.oom_victims = {{4242, "testbin"}};
  EXPECT_EQ(classify_exit(f), "oom-child");
  std::string p = why_of(f).paragraph();
  EXPECT_TRUE(has(p, "killed testbin (host pid 4242), while PID 1 lived on")) << p;
  EXPECT_TRUE(has(p, "exited by itself with code 0")) << p;
  EXPECT_TRUE(has(p, "The exit code alone (0) hides this kill")) << p;
}

TEST(ExitCause, PageCacheHeavyOomSaysCacheCounts) {
  ExitFacts f = oom_pid1();
  f.cache_at_oom = 20 * kMiB;
  EXPECT_TRUE(has(why_of(f).advice, "page cache, which counts toward the limit"));
  f.cache_at_oom = kMiB;
  EXPECT_FALSE(has(why_of(f).advice, "page cache"));
}

TEST(ExitCause, StopTimeoutIsNotOom) {
  ExitFacts f;
  f.cgroup = "v1";
  f.exit_code = 137;
  f.signal = SIGKILL;
  f.stop_requests = {{SIGTERM, "stop"}, {SIGKILL, "stop-timeout"}};
  f.stop_timeout_elapsed = true;
  f.ran_ms = 4000;
  EXPECT_EQ(classify_exit(f), "stop-timeout");
  std::string p = why_of(f).paragraph();
  EXPECT_TRUE(has(p, "`guise stop` sent SIGTERM")) << p;
  EXPECT_TRUE(has(p, "no OOM kill in this run")) << p;
  EXPECT_TRUE(has(p, "--stop-timeout")) << p;
}

TEST(ExitCause, AnOomDuringAStopStillCountsAsOomUnlessStopKilled) {
  ExitFacts f = oom_pid1();
  f.stop_requests = {{SIGTERM, "stop"}};
  EXPECT_EQ(classify_exit(f), "oom");
  f.main_oom_killed = false;
  f.stop_requests.push_back({SIGKILL, "stop-timeout"});
  f.stop_timeout_elapsed = true;
  EXPECT_EQ(classify_exit(f), "stop-timeout");
}

TEST(ExitCause, StopThatWorkedKillAndOutsideSignal) {
  ExitFacts f;
  f.exit_code = 143;
  f.signal = SIGTERM;
  f.stop_requests = {{SIGTERM, "stop"}};
  EXPECT_EQ(classify_exit(f), "stopped");
  f.exit_code = 137;
  f.signal = SIGKILL;
  f.stop_requests = {{SIGKILL, "kill"}};
  EXPECT_EQ(classify_exit(f), "killed");
  EXPECT_TRUE(has(why_of(f).summary, "`guise kill` sent SIGKILL")) << why_of(f).summary;
  f.stop_requests.clear();
  EXPECT_EQ(classify_exit(f), "signal");
  EXPECT_TRUE(has(why_of(f).evidence, "came from outside")) << why_of(f).evidence;
  f.signal = SIGSEGV;
  f.exit_code = 139;
  EXPECT_EQ(classify_exit(f), "signal");
  EXPECT_TRUE(has(why_of(f).evidence, "crashed")) << why_of(f).evidence;
}

TEST(ExitCause, SeccompNamesTheSyscallOrSaysItIsUnknown) {
  ExitFacts f;
  f.exit_code = 159;
  f.signal = SIGSYS;
  f.seccomp_syscall = 83;
  EXPECT_EQ(classify_exit(f), "seccomp");
  std::string p = why_of(f, {}, "mkdir").paragraph();
  EXPECT_TRUE(has(p, "syscall 83 (mkdir)")) << p;
  EXPECT_TRUE(has(p, "Allow mkdir in the seccomp profile")) << p;
  f.seccomp_syscall = -1;
  EXPECT_TRUE(has(why_of(f).evidence, "did not say which syscall"));
}

TEST(ExitCause, PidsLimitCountsTheRefusedForks) {
  ExitFacts f;
  f.exit_code = 2;
  f.pids_limit = 10;
  f.pids_limit_hits = 7;
  EXPECT_EQ(classify_exit(f), "pids-limit");
  std::string p = why_of(f).paragraph();
  EXPECT_TRUE(has(p, "pids limit 10; the kernel refused 7 forks")) << p;
  EXPECT_TRUE(has(p, "Raise --pids-limit (above 10)")) << p;
}

TEST(ExitCause, ExitByItselfShowsTheLogTail) {
  ExitFacts f;
  f.exit_code = 3;
  f.ran_ms = 1250;
  f.pids_limit = 0;
  f.pids_limit_hits = 0;
  EXPECT_EQ(classify_exit(f), "exited");
  Diagnosis d = why_of(f, {"bye"});
  EXPECT_TRUE(has(d.summary, "exited by itself with code 3 after 1.2 s")) << d.summary;
  EXPECT_EQ(d.log_tail, std::vector<std::string>{"bye"});
}

TEST(ExitCause, AnEpermInTheLogNamesTheCapability) {
  EXPECT_EQ(capability_for("ip: RTNETLINK answers: Operation not permitted"), "NET_ADMIN");
  EXPECT_EQ(capability_for("date: can't set date: Operation not permitted"), "SYS_TIME");
  EXPECT_EQ(capability_for("mount: permission denied (are you root?)"), "SYS_ADMIN");
  EXPECT_EQ(capability_for("hostname: sethostname: Operation not permitted"), "SYS_ADMIN");
  EXPECT_EQ(capability_for("cat: can't open 'x': Permission denied"), "");
  ExitFacts f;
  f.exit_code = 1;
  Diagnosis d = why_of(f, {"starting", "ip: RTNETLINK answers: Operation not permitted"});
  EXPECT_EQ(d.capability, "NET_ADMIN");
  EXPECT_TRUE(has(d.paragraph(), "needs CAP_NET_ADMIN")) << d.paragraph();
  EXPECT_TRUE(has(d.advice, "--cap-add NET_ADMIN")) << d.advice;
  f.exit_code = 0;  // an exit 0 is no failure, whatever the log says
  EXPECT_EQ(why_of(f, {"ip: RTNETLINK answers: Operation not permitted"}).capability, "");
}

TEST(ExitCause, WithInitTheChildIsTheProgram) {
  ExitFacts f = oom_pid1();
  f.init = true;
  f.child_deaths = {{2, SIGKILL}};
  EXPECT_EQ(classify_exit(f), "oom");
  EXPECT_TRUE(has(why_of(f).summary, "guise-init's child")) << why_of(f).summary;
}

TEST(ExitCause, StartFailuresInPlainWords) {
  ExitFacts f;
  f.exit_code = 126;
  f.start = StartFailure{"wrong-arch", "/app/arm64", "/app/arm64", "", "arm64", "exec /app/arm64: ENOEXEC"};
  EXPECT_EQ(classify_exit(f), "exec");
  EXPECT_TRUE(has(why_of(f).summary, "built for arm64, this host is " + elf_machine_name(host_elf_machine())));
  f.start = StartFailure{"crlf-shebang", "/app/crlf.sh", "/app/crlf.sh", "", "/bin/sh\r", ""};
  std::string p = why_of(f).paragraph();
  EXPECT_TRUE(has(p, "Windows line endings")) << p;
  EXPECT_TRUE(has(p, "\"/bin/sh\\r\"")) << p;
  EXPECT_TRUE(has(p, "dos2unix")) << p;
  f.start = StartFailure{"not-found", "nothere", "", "/usr/bin:/bin", "", ""};
  p = why_of(f).paragraph();
  EXPECT_TRUE(has(p, "\"nothere\" could not start: executable file not found in $PATH")) << p;
  EXPECT_TRUE(has(p, "/usr/bin:/bin")) << p;
  f.start = StartFailure{"no-library", "/app/dyn", "/app/dyn", "", "libc.so.6", ""};
  EXPECT_TRUE(has(why_of(f).summary, "shared library libc.so.6"));
  f.start = StartFailure{"no-loader", "/app/dyn", "/app/dyn", "", "/lib64/ld-linux-x86-64.so.2", ""};
  EXPECT_TRUE(has(why_of(f).summary, "loader /lib64/ld-linux-x86-64.so.2"));
}

TEST(ExitCause, RunningAndNeverStarted) {
  WhyInput in;
  in.status = "running";
  in.state.status = "running";
  in.state.pid = 1234;
  EXPECT_EQ(diagnose(in).cause, "running");
  EXPECT_TRUE(has(diagnose(in).evidence, "host pid 1234"));
  in.status = in.state.status = "created";
  in.state.pid = 0;
  EXPECT_EQ(diagnose(in).cause, "created");
  EXPECT_TRUE(has(diagnose(in).summary, "never run"));
}

TEST(ExitCause, HumanBytes) {
  EXPECT_EQ(human_bytes(256 * kMiB), "256 MiB");
  EXPECT_EQ(human_bytes(1536 * kMiB), "1.5 GiB");
  EXPECT_EQ(human_bytes(812), "812 B");
}

TEST(ExitFactsJson, RoundTrips) {
  ExitFacts f = oom_pid1();
  f.oom_victims = {{7, "hog"}};
  f.stop_requests = {{15, "stop"}};
  f.child_deaths = {{2, 9}};
  f.seccomp_syscall = 83;
  f.start = StartFailure{"no-loader", "p", "/p", "", "/lib/ld.so", "e"};
  ContainerStateFile s;
  s.exit_cause = "oom";
  s.exit_facts = f;
  auto back = parse_state(state_json(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->exit_cause, "oom");
  ASSERT_TRUE(back->exit_facts.has_value());
  EXPECT_EQ(exit_facts_json(*back->exit_facts).dump(), exit_facts_json(f).dump());
}

TEST(KernelLog, OomKillLine) {
  auto r = parse_oom_kill(
      "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/guise/abc,"
      "task_memcg=/guise/abc,task=testbin,pid=4242,uid=0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->pid, 4242);
  EXPECT_EQ(r->task, "testbin");
  EXPECT_EQ(r->task_memcg, "/guise/abc");
  EXPECT_FALSE(parse_oom_kill("Memory cgroup out of memory: Killed process 4242 (testbin)"));
  EXPECT_TRUE(memcg_within("/sys/fs/cgroup/memory/guise/abc", "/guise/abc"));
  EXPECT_TRUE(memcg_within("/sys/fs/cgroup/memory/guise/abc", "/guise/abc/sub"));
  EXPECT_FALSE(memcg_within("/sys/fs/cgroup/memory/guise/abc", "/guise/abcd"));
  EXPECT_FALSE(memcg_within("/sys/fs/cgroup/memory/guise/abc", "/other"));
}

TEST(KernelLog, SeccompAuditLine) {
  auto r = parse_seccomp_audit(
      "audit: type=1326 audit(1733390000.123:88): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=unconfined "
      "pid=5151 comm=\"mkdir\" exe=\"/bin/busybox\" sig=31 arch=c000003e syscall=83 compat=0 ip=0x4a1b2c "
      "code=0x80000000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->pid, 5151);
  EXPECT_EQ(r->signal, 31);
  EXPECT_EQ(r->syscall, 83);
  EXPECT_FALSE(parse_seccomp_audit("audit: type=1400 pid=1 syscall=2"));
}

TEST(StopRequests, ParsedInOrderBadLinesSkipped) {
  auto r = parse_stop_requests("15 stop\ngarbage\n9 stop-timeout\n0 x\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].signal, 15);
  EXPECT_EQ(r[0].by, "stop");
  EXPECT_EQ(r[1].by, "stop-timeout");
}

TEST(ProgramFile, Shebang) {
  auto s = parse_shebang("#!/bin/sh\r\necho hi\r\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->interpreter, "/bin/sh\r");
  EXPECT_TRUE(s->crlf);
  s = parse_shebang("#! /usr/bin/env python3\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->interpreter, "/usr/bin/env");
  EXPECT_FALSE(s->crlf);
  EXPECT_FALSE(parse_shebang("\x7f" "ELF"));
}

std::string arm64_elf() {
  Elf64_Ehdr h{};
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS64;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  h.e_type = ET_EXEC;
  h.e_machine = EM_AARCH64;
  h.e_version = EV_CURRENT;
  h.e_ehsize = sizeof h;
  return std::string(reinterpret_cast<const char*>(&h), sizeof h);
}

// A small dynamic program of the host (coreutils' true): its loader and libc.
std::string host_dynamic_program() {
  for (const char* path : {"/usr/bin/true", "/bin/true"}) {
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto elf = parse_elf(data);
    if (elf && !elf->interp.empty()) return data;
  }
  return {};
}

TEST(ProgramFile, ElfMachineAndDynamicNeeds) {
  auto arm = parse_elf(arm64_elf());
  ASSERT_TRUE(arm);
  EXPECT_EQ(elf_machine_name(arm->machine), "arm64");
  EXPECT_EQ(runs_on_host(arm->machine), host_elf_machine() == EM_AARCH64);
  std::string dyn = host_dynamic_program();
  if (dyn.empty()) GTEST_SKIP() << "host: no dynamic /usr/bin/true";
  auto me = parse_elf(dyn);
  ASSERT_TRUE(me);
  EXPECT_EQ(me->machine, host_elf_machine());
  EXPECT_FALSE(me->interp.empty());
  EXPECT_NE(std::find(me->needed.begin(), me->needed.end(), "libc.so.6"), me->needed.end());
}

class Rootfs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-why-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    fs::create_directories(dir + "/bin");
    fs::create_directories(dir + "/app");
    put("bin/sh", "\x7f" "ELF", 0755);
  }
  void TearDown() override { fs::remove_all(dir); }
  void put(const std::string& rel, const std::string& data, mode_t mode) {
    std::ofstream(dir + "/" + rel, std::ios::binary) << data;
    ::chmod((dir + "/" + rel).c_str(), mode);
  }
  std::optional<StartFailure> diagnose_cmd(std::vector<std::string> args, int err = ENOENT) {
    ProgramContext p;
    p.rootfs = dir;
    p.args = std::move(args);
    p.env = {"PATH=/usr/bin:/bin"};
    return diagnose_start(p, err, "exec failed");
  }
  std::string dir;
};

TEST_F(Rootfs, EachKindOfStartFailure) {
  put("app/crlf.sh", "#!/bin/sh\r\necho\r\n", 0755);
  put("app/bash.sh", "#!/bin/bash\necho\n", 0755);
  put("app/plain", "data", 0644);
  put("app/arm", arm64_elf(), 0755);
  EXPECT_EQ(diagnose_cmd({"nothere"})->kind, "not-found");
  EXPECT_EQ(diagnose_cmd({"nothere"})->searched, "/usr/bin:/bin");
  EXPECT_EQ(diagnose_cmd({"/app/none"})->kind, "not-found");
  EXPECT_EQ(diagnose_cmd({"/app"}, EACCES)->kind, "directory");
  EXPECT_EQ(diagnose_cmd({"/app/plain"}, EACCES)->kind, "not-executable");
  auto crlf = diagnose_cmd({"/app/crlf.sh"});
  EXPECT_EQ(crlf->kind, "crlf-shebang");
  EXPECT_EQ(crlf->detail, "/bin/sh\r");
  EXPECT_EQ(diagnose_cmd({"/app/bash.sh"})->kind, "no-interpreter");
  auto arm = diagnose_cmd({"/app/arm"}, ENOEXEC);
  if (host_elf_machine() != EM_AARCH64) {
    EXPECT_EQ(arm->kind, "wrong-arch");
    EXPECT_EQ(arm->detail, "arm64");
    EXPECT_EQ(start_failure_exit_code(*arm), 126);
  }
}

TEST_F(Rootfs, ASymlinkOutOfTheRootfsIsResolvedInside) {
  // /app/run -> /etc/hostname of the host would exist there; inside it does not.
  fs::create_symlink("/etc/hostname", dir + "/app/run");
  EXPECT_EQ(diagnose_cmd({"/app/run"})->kind, "not-found");
}

TEST_F(Rootfs, DynamicProgramMissingItsLoaderThenALibrary) {
  std::string self = host_dynamic_program();
  if (self.empty()) GTEST_SKIP() << "host: no dynamic /usr/bin/true";
  put("app/dyn", self, 0755);
  auto elf = parse_elf(self);
  auto f = diagnose_cmd({"/app/dyn"});
  EXPECT_EQ(f->kind, "no-loader");
  EXPECT_EQ(f->detail, elf->interp);
  fs::create_directories(fs::path(dir + elf->interp).parent_path());
  put(elf->interp.substr(1), "loader", 0755);
  ProgramContext p;
  p.rootfs = dir;
  p.args = {"/app/dyn"};
  auto lib = diagnose_start(p, 0, "", true);  // exit 127 from the loader
  ASSERT_TRUE(lib);
  EXPECT_EQ(lib->kind, "no-library");
  // Nothing missing (a plain program that exited 127 itself): no start failure.
  put("app/ok.sh", "#!/bin/sh\nexit 127\n", 0755);
  p.args = {"/app/ok.sh"};
  EXPECT_FALSE(diagnose_start(p, 0, "", true));
}
