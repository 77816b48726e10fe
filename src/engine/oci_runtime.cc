#include "engine/oci_runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <nlohmann/json.hpp>

#include "sys/child_process.h"
#include "sys/syscalls.h"

namespace guise::engine {
namespace {

class LibraryRuntime final : public OciRuntime {
 public:
  explicit LibraryRuntime(runtime::Globals g) : g_(std::move(g)) {}
  std::string name() const override { return "guise"; }
  bool in_process() const override { return true; }
  Result<runtime::Created> start(runtime::CreateOptions o) override { return runtime::run_container(g_, std::move(o)); }
  Result<void> finish(runtime::Created& c) override { return runtime::remove_created(g_, c); }
  Result<void> kill(const std::string& id, int signal, bool all) override {
    return runtime::kill_container(g_, id, signal, all);
  }
  Result<void> pause(const std::string& id) override { return runtime::pause_container(g_, id); }
  Result<void> resume(const std::string& id) override { return runtime::resume_container(g_, id); }
  Result<void> remove(const std::string& id, bool force) override { return runtime::remove_container(g_, id, force); }
  Result<std::vector<pid_t>> pids(const std::string& id) override { return runtime::container_pids(g_, id); }
  Result<bool> paused(const std::string& id) override {
    auto info = GUISE_TRY(runtime::container_state(g_, id));
    return info.status == runtime::Status::kPaused;
  }

 private:
  runtime::Globals g_;
};

// A file of this call's own under the state root (the log, the pid file, the console
// socket), removed when the call is done whatever happened.
struct ScratchPath {
  std::string path;
  explicit ScratchPath(std::string p) : path(std::move(p)) { ::unlink(path.c_str()); }
  ~ScratchPath() { ::unlink(path.c_str()); }
};

// A directory of its own in /tmp for the console socket: a path under the state root may
// be longer than sun_path allows.
struct ConsoleDir {
  std::string dir;
  ConsoleDir() {
    char tmpl[] = "/tmp/guise-console-XXXXXX";
    if (::mkdtemp(tmpl)) dir = tmpl;
  }
  ~ConsoleDir() {
    if (dir.empty()) return;
    ::unlink(socket().c_str());
    ::rmdir(dir.c_str());
  }
  std::string socket() const { return dir + "/sock"; }
};

// The error the runtime wrote last to its JSON log ("" when none): runc, crun and youki
// all write one object a line with "level" and "msg".
std::string last_logged_error(const std::string& log) {
  auto text = sys::read_file(log);
  if (!text.ok()) return {};
  std::string last;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("msg") || !j["msg"].is_string()) continue;
    std::string level = j.value("level", "");
    if (level == "error" || level == "fatal" || level == "panic") last = j["msg"].get<std::string>();
  }
  while (!last.empty() && (last.back() == '\n' || last.back() == ' ')) last.pop_back();
  for (char& c : last)
    if (c == '\n') c = ' ';
  return last;
}

sys::ErrorKind kind_of(const std::string& msg) {
  for (const char* s : {"does not exist", "not exist", "not found"})
    if (msg.find(s) != std::string::npos) return sys::ErrorKind::kNotFound;
  for (const char* s : {"not running", "not paused", "is paused", "is stopped"})
    if (msg.find(s) != std::string::npos) return sys::ErrorKind::kWrongState;
  return sys::ErrorKind::kSystem;
}

Result<sys::Fd> listen_unix(const std::string& path) {
  sys::Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return sys::sys_error("socket for", path);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) return sys::user_error("console socket path too long: " + path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return sys::sys_error("bind", path);
  if (::listen(s.get(), 1) < 0) return sys::sys_error("listen", path);
  return s;
}

// The terminal master the runtime sent over the console socket (it connected while it ran).
Result<sys::Fd> receive_master(int listen_fd, const std::string& what) {
  pollfd p{listen_fd, POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, 5000)) < 0 && errno == EINTR) {
  }
  if (n <= 0) return sys::user_error(what + ": no terminal came on the console socket");
  sys::Fd c(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (!c.valid()) return sys::sys_error("accept on the console socket of", what);
  char data[4096];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t got;
  while ((got = ::recvmsg(c.get(), &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (got < 0) return sys::sys_error("recvmsg on the console socket of", what);
  for (cmsghdr* h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
    if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(h), sizeof fd);
      return sys::Fd(fd);
    }
  }
  return sys::user_error(what + ": the console socket carried no terminal");
}

class ExecRuntime final : public OciRuntime {
 public:
  ExecRuntime(std::string binary, std::string state_root) : bin_(std::move(binary)), state_root_(std::move(state_root)) {
    base_ = bin_.substr(bin_.rfind('/') + 1);
  }
  std::string name() const override { return bin_; }
  bool in_process() const override { return false; }

  Result<runtime::Created> start(runtime::CreateOptions o) override {
    GUISE_TRY(make_state_root());
    ScratchPath pid_file(scratch(o.id, "pid"));
    std::vector<std::string> args = {"run", "--detach", "--bundle", o.bundle, "--pid-file", pid_file.path};
    std::optional<ConsoleDir> console;
    sys::Fd console_listen;
    if (o.keep_terminal_master) {
      console.emplace();
      if (console->dir.empty()) return sys::sys_error("mkdtemp for the console socket of", o.id);
      console_listen = GUISE_TRY(listen_unix(console->socket()));
      args.insert(args.end(), {"--console-socket", console->socket()});
    }
    if (o.preserve_fds > 0) args.insert(args.end(), {"--preserve-fds", std::to_string(o.preserve_fds)});
    args.push_back(o.id);
    sys::Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    runtime::Stdio io = o.stdio;
    if (o.keep_terminal_master) io = {};
    sys::SpawnOptions so;
    so.stdin_fd = io.in >= 0 ? io.in : null.get();
    so.stdout_fd = io.out >= 0 ? io.out : null.get();
    so.stderr_fd = io.err >= 0 ? io.err : null.get();
    GUISE_TRY(call(o.id, args, so, nullptr));
    runtime::Created c;
    // From here on a failure leaves nothing running: the container goes with it.
    auto fail = [&](Error e) -> Result<runtime::Created> {
      (void)call(o.id, {"delete", "--force", o.id}, {}, nullptr);
      return e;
    };
    auto text = sys::read_file(pid_file.path);
    if (!text.ok()) return fail(std::move(text.error()).with_context(bin_ + " wrote no pid file"));
    c.pid = pid_t(std::atoi(text->c_str()));
    if (c.pid <= 0) return fail(sys::user_error(bin_ + ": pid file holds no pid: " + *text));
    auto pidfd = sys::pidfd_open(c.pid);
    if (!pidfd.ok()) return fail(std::move(pidfd.error()));
    c.pidfd = std::move(pidfd).take();
    if (o.keep_terminal_master) {
      auto master = receive_master(console_listen.get(), bin_);
      if (!master.ok()) return fail(std::move(master.error()));
      c.terminal_master = std::move(master).take();
    }
    c.state.id = o.id;
    c.state.pid = c.pid;
    return c;
  }

  Result<void> finish(runtime::Created& c) override { return remove(c.state.id, true); }

  Result<void> kill(const std::string& id, int signal, bool all) override {
    std::vector<std::string> args = {"kill"};
    if (all) args.push_back("--all");
    args.insert(args.end(), {id, std::to_string(signal)});
    return call(id, args, {}, nullptr);
  }
  Result<void> pause(const std::string& id) override { return call(id, {"pause", id}, {}, nullptr); }
  Result<void> resume(const std::string& id) override { return call(id, {"resume", id}, {}, nullptr); }
  Result<void> remove(const std::string& id, bool force) override {
    // runc and crun keep a container's state in ROOT/ID: without it there is nothing to
    // delete, whatever the binary would say (one that fails at everything, too).
    if (::access((root() + "/" + id).c_str(), F_OK) < 0 && errno == ENOENT)
      return sys::not_found("runtime " + bin_ + ": container " + id + " does not exist");
    std::vector<std::string> args = {"delete"};
    if (force) args.push_back("--force");
    args.push_back(id);
    return call(id, args, {}, nullptr);
  }
  Result<std::vector<pid_t>> pids(const std::string& id) override {
    std::string out;
    GUISE_TRY(call(id, {"ps", "--format", "json", id}, {}, &out));
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (!j.is_array()) return sys::user_error(bin_ + " ps " + id + ": not a JSON list of pids");
    std::vector<pid_t> pids;
    for (const auto& p : j)
      if (p.is_number_integer()) pids.push_back(p.get<pid_t>());
    return pids;
  }
  Result<bool> paused(const std::string& id) override {
    std::string out;
    GUISE_TRY(call(id, {"state", id}, {}, &out));
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (!j.is_object()) return sys::user_error(bin_ + " state " + id + ": not a JSON object");
    return j.value("status", "") == "paused";
  }

 private:
  std::string root() const { return state_root_ + "/" + base_; }
  std::string scratch(const std::string& id, const char* what) const {
    return state_root_ + "/" + base_ + "-" + id + "-" + std::to_string(::getpid()) + "." + what;
  }
  Result<void> make_state_root() const {
    if (::mkdir(state_root_.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error("mkdir", state_root_);
    return Ok();
  }

  // BIN --root DIR --log LOG --log-format json ARGS...; with `out`, what it printed.
  Result<void> call(const std::string& id, const std::vector<std::string>& args, sys::SpawnOptions so,
                    std::string* out) {
    GUISE_TRY(make_state_root());
    ScratchPath log(scratch(id, "log"));
    std::vector<std::string> argv = {bin_, "--root", root(), "--log", log.path, "--log-format", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    sys::Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC)), out_r, out_w;
    if (so.stdin_fd < 0) so.stdin_fd = null.get();
    if (so.stderr_fd < 0) so.stderr_fd = null.get();
    if (out) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) < 0) return sys::sys_error("pipe for", bin_);
      out_r.reset(p[0]), out_w.reset(p[1]);
      so.stdout_fd = out_w.get();
    } else if (so.stdout_fd < 0) {
      so.stdout_fd = null.get();
    }
    auto child = GUISE_TRY(sys::spawn(bin_, argv, so));
    out_w.reset();
    if (out) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(out_r.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) out->append(buf, size_t(n));
    }
    int status = GUISE_TRY(child.wait());
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
    std::string msg = last_logged_error(log.path);
    if (msg.empty())
      msg = args[0] + " " + id + " exited with status " + std::to_string(sys::exit_code(status));
    return Error{0, "runtime " + bin_ + ": " + msg, {}, {}, kind_of(msg), {}};
  }

  std::string bin_, base_, state_root_;
};

Result<std::string> find_in_path(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::string path = env && *env ? env : "";
  path += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::istringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty() || dir[0] != '/') continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return sys::not_found("--runtime " + name + ": no " + name + " binary in PATH");
}

}  // namespace

Result<std::unique_ptr<OciRuntime>> runtime_for(const std::string& name, const runtime::Globals& g) {
  if (name.empty() || name == "guise") return std::unique_ptr<OciRuntime>(new LibraryRuntime(g));
  std::string bin;
  if (name == "runc" || name == "crun") {
    bin = GUISE_TRY(find_in_path(name));
  } else if (name[0] == '/') {
    struct stat st {};
    if (::stat(name.c_str(), &st) < 0 || !S_ISREG(st.st_mode) || ::access(name.c_str(), X_OK) < 0)
      return sys::not_found("--runtime " + name + ": not an executable file");
    bin = name;
  } else {
    return sys::user_error("--runtime " + name + ": not guise, runc, crun or an absolute path to an OCI runtime");
  }
  return std::unique_ptr<OciRuntime>(new ExecRuntime(bin, g.root));
}

Result<std::unique_ptr<OciRuntime>> runtime_for(const std::string& name, const std::string& state_root) {
  runtime::Globals g;
  g.root = state_root;
  return runtime_for(name, g);
}

}  // namespace guise::engine
