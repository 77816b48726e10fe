#include "runtime/criu.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "sys/child_process.h"
#include "sys/fd.h"
#include "sys/log.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

constexpr size_t kReasonLines = 6;
constexpr size_t kContextLines = 3;
constexpr int kCheckTimeoutMs = 60'000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// "(00.035862) Error (criu/vdso.c:381): vdso: ..." -> "Error (criu/vdso.c:381): vdso: ..."
std::string_view drop_timestamp(std::string_view line) {
  if (line.size() > 2 && line[0] == '(') {
    auto close = line.find(") ");
    if (close != std::string_view::npos) line.remove_prefix(close + 2);
  }
  return trim(line);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

Result<sys::Fd> output_file() {
  sys::Fd fd(::memfd_create("criu-output", MFD_CLOEXEC));
  if (!fd.valid()) return sys::sys_error("memfd_create", "criu output");
  return fd;
}

// The host (criu, or the kernel under it) failed, not the caller's input.
sys::Error host_error(std::string message) {
  sys::Error e = sys::user_error(std::move(message));
  e.kind = sys::ErrorKind::kSystem;
  return e;
}

std::string read_back(int fd) {
  std::string out;
  if (::lseek(fd, 0, SEEK_SET) < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < (1 << 20)) out.append(buf, n);
  return out;
}

}  // namespace

Result<std::string> find_criu(const std::string& name) {
  if (name.empty()) return sys::user_error("criu: the path to the binary is empty");
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) < 0) return sys::sys_error("criu binary", name);
    return name;
  }
  const char* path = ::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (true) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return sys::not_found("criu (" + name + ") is not installed: not found in PATH");
}

std::string criu_reason(std::string_view log) {
  std::vector<std::string> errors, lines;
  while (!log.empty()) {
    auto nl = log.find('\n');
    std::string_view line = drop_timestamp(log.substr(0, nl));
    log.remove_prefix(nl == std::string_view::npos ? log.size() : nl + 1);
    if (line.empty()) continue;
    lines.emplace_back(line);
    if (line.substr(0, 6) == "Error " && std::find(errors.begin(), errors.end(), line) == errors.end())
      errors.emplace_back(line);
  }
  // Without an Error line (criu gives up quietly on some broken images) the last few
  // lines show where it stopped.
  const auto& chosen = errors.empty() ? lines : errors;
  size_t keep = errors.empty() ? kContextLines : kReasonLines;
  size_t first = chosen.size() > keep ? chosen.size() - keep : 0;
  std::string out;
  for (size_t i = first; i < chosen.size(); ++i) out += (out.empty() ? "" : "; ") + chosen[i];
  return out;
}

Result<void> check_criu(const std::string& binary) {
  sys::Fd out = GUISE_TRY(output_file());
  sys::SpawnOptions so;
  so.stdout_fd = out.get();
  so.stderr_fd = out.get();
  sys::ChildProcess child = GUISE_TRY(sys::spawn(binary, {binary, "check"}, so));
  auto status = GUISE_TRY(child.wait_for(kCheckTimeoutMs));
  if (!status) return host_error("criu check (" + binary + ") did not finish in 60 s");
  if (*status == 0) return Ok();
  std::string reason = criu_reason(read_back(out.get()));
  return host_error("criu cannot work on this host: `" + binary + " check` failed (" + describe_status(*status) +
                    "): " + (reason.empty() ? "no output" : reason));
}

Result<void> make_criu_dir(const std::string& path, const char* what) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1))
    ::mkdir(path.substr(0, slash).c_str(), 0755);
  if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error(std::string("create ") + what, path);
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    return sys::user_error(std::string(what) + " " + path + " is not a directory");
  return Ok();
}

std::string criu_config_file(const oci::Spec& spec) {
  auto annotation = spec.annotations.find("org.criu.config");
  std::string file = annotation != spec.annotations.end() ? annotation->second : "/etc/criu/runc.conf";
  // A file that is not there is ignored, as criu's RPC (runc's way) ignores it.
  return !file.empty() && ::access(file.c_str(), F_OK) == 0 ? file : "";
}

Result<void> run_criu(const CriuRun& run, const char* action) {
  sys::Fd out;
  sys::SpawnOptions so;
  so.stdin_fd = run.stdin_fd;
  so.stdout_fd = run.stdout_fd;
  so.stderr_fd = run.stderr_fd;
  if (run.capture_output) {  // nothing of criu's on the caller's stdout
    out = GUISE_TRY(output_file());
    if (so.stdout_fd < 0) so.stdout_fd = out.get();
    if (so.stderr_fd < 0) so.stderr_fd = out.get();
  }
  std::vector<std::string> argv{run.binary};
  argv.insert(argv.end(), run.args.begin(), run.args.end());
  if (sys::log_enabled(sys::LogLevel::kDebug)) {
    std::string line = "running";
    for (const auto& a : argv) line += " " + a;
    sys::debug(line);
  }
  ::unlink(run.log_path.c_str());  // a failure is never explained by an older run's log
  sys::ChildProcess child = GUISE_TRY(sys::spawn(run.binary, argv, so));
  int status = GUISE_TRY(child.wait());
  if (status == 0) return Ok();
  auto log = sys::read_file(run.log_path);
  std::string reason = log.ok() ? criu_reason(log.value()) : "";
  if (reason.empty() && out.valid()) reason = criu_reason(read_back(out.get()));
  return host_error(std::string("criu ") + action + " failed (" + describe_status(status) +
                    "): " + (reason.empty() ? "no output" : reason) + " (log: " + run.log_path + ")");
}

}  // namespace guise::runtime
