#include "engine/user_mode_network.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "network/netns.h"
#include "sys/child_process.h"
#include "sys/fd.h"
#include "sys/file_lock.h"
#include "sys/syscalls.h"

namespace guise::engine {

namespace {

std::string find_program(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

constexpr const char* kPastaDns = "169.254.1.1";  // podman's choice too

std::string dir_of(const std::string& store_root) { return store_root + "/user-netns"; }
std::string pid_path(const std::string& store_root, const std::string& id) {
  return dir_of(store_root) + "/" + id + ".pid";
}

// "8080", "127.0.0.1/8080", "8080-8082:80-82": pasta's -t/-u spec for one request.
std::string pasta_port(const network::PortRequest& p) {
  std::string spec = p.host_ip.empty() ? "" : p.host_ip + "/";
  spec += std::to_string(p.host_port_first);
  uint16_t last = p.host_port_last ? p.host_port_last : p.host_port_first;
  if (last != p.host_port_first) spec += "-" + std::to_string(last);
  spec += ":" + std::to_string(p.container_port);
  if (last != p.host_port_first) spec += "-" + std::to_string(p.container_port + (last - p.host_port_first));
  return spec;
}

// The helper's own words when it refused, its last line.
std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

// The helper of a pid file: pasta wrote it, slirp4netns was forked with it. Checked by
// name through a pidfd opened first (a pid reused meanwhile is never signalled), and
// gone before this returns: a start right after must find its ports free.
void end_helper(pid_t pid) {
  if (pid <= 0) return;
  auto pidfd = sys::pidfd_open(pid);
  if (!pidfd) return;
  auto comm = sys::read_file("/proc/" + std::to_string(pid) + "/comm");
  if (!comm || !(comm->starts_with("pasta") || comm->starts_with("passt") || comm->starts_with("slirp4netns")))
    return;
  for (int sig : {SIGTERM, SIGKILL}) {
    if (::syscall(SYS_pidfd_send_signal, pidfd->get(), sig, nullptr, 0) < 0) return;
    pollfd w{pidfd->get(), POLLIN, 0};
    if (::poll(&w, 1, 2000) > 0) return;
  }
}

Result<void> start_pasta(const std::string& netns, const std::string& pid_file,
                         const std::vector<network::PortRequest>& ports) {
  std::vector<std::string> argv = pasta_command(netns, ports);
  argv.insert(argv.end(), {"--pid", pid_file});
  std::string errors_path = pid_file + ".err";
  sys::Fd err(::open(errors_path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600));
  if (!err.valid()) return sys::sys_error("open", errors_path);
  sys::SpawnOptions o;
  o.stderr_fd = err.get();
  o.stdout_fd = err.get();
  o.only_stdio = true;
  sys::ChildProcess child = GUISE_TRY(sys::spawn(argv[0], argv, o), "starting pasta");
  // pasta forks into the background once the namespace is configured and its ports bound.
  int status = GUISE_TRY(child.wait(), "starting pasta");
  auto said = sys::read_file(errors_path);
  ::unlink(errors_path.c_str());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  return sys::user_error("pasta failed (exit " + std::to_string(sys::exit_code(status)) +
                         "): " + last_line(said ? *said : ""));
}

Result<void> forward_slirp_ports(const std::string& api, const std::vector<network::PortRequest>& ports);

// slirp4netns stays in the foreground: started in a session of its own, it says "1" on
// its ready pipe once the namespace is configured; ports are added through its API socket.
Result<void> slirp_api(const std::string& socket_path, const std::string& request) {
  sys::Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof a.sun_path) return sys::user_error("slirp4netns: socket path too long: " + socket_path);
  std::copy(socket_path.begin(), socket_path.end(), a.sun_path);
  if (!s.valid() || ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
    return sys::sys_error("connect to slirp4netns", socket_path);
  if (::write(s.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size()))
    return sys::sys_error("write to slirp4netns", socket_path);
  ::shutdown(s.get(), SHUT_WR);
  std::string answer;
  char buf[512];
  for (ssize_t n; (n = ::read(s.get(), buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
  if (answer.find("\"error\"") != std::string::npos) return sys::user_error("slirp4netns refused a port: " + answer);
  return Ok();
}

Result<void> start_slirp(const std::string& netns, const std::string& pid_file,
                         const std::vector<network::PortRequest>& ports) {
  std::string program = find_program("slirp4netns");
  // The API socket's path, as slirp4netns binds it (relative to the directory it starts
  // in) and as this process reaches it (through an fd of that directory): a full path
  // under a home can pass the 108 bytes a socket's name may have.
  std::string dir = pid_file.substr(0, pid_file.rfind('/'));
  std::string api_name = pid_file.substr(dir.size() + 1, pid_file.size() - dir.size() - 5) + ".sock";
  sys::Fd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return sys::sys_error("open", dir);
  std::string api = "/proc/self/fd/" + std::to_string(dir_fd.get()) + "/" + api_name;
  std::string errors_path = pid_file + ".err";
  sys::Fd err(::open(errors_path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600));
  if (!err.valid()) return sys::sys_error("open", errors_path);
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) return sys::sys_error("pipe");
  sys::Fd ready_r(ready[0]), ready_w(ready[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys::sys_error("fork slirp4netns");
  if (pid == 0) {
    ::setsid();
    if (::fchdir(dir_fd.get()) < 0) ::_exit(127);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(err.get(), 2);  // until it is ready; it says little after
    // Nothing else of this process's goes with it (a caller's pipe held open by a daemon
    // keeps the caller waiting): every fd above 2 closes at exec but the ready pipe.
    ::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    int w = ::dup(ready_w.get());  // without O_CLOEXEC: slirp4netns writes to it
    std::string ready_fd = "--ready-fd=" + std::to_string(w);
    ::execl(program.c_str(), program.c_str(), "--configure", "--mtu=65520", "--disable-host-loopback",
            "--netns-type=path", ready_fd.c_str(), ("--api-socket=" + api_name).c_str(), netns.c_str(), "tap0",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ready_w.reset();
  char c = 0;
  ssize_t n = ::read(ready_r.get(), &c, 1);
  auto said = sys::read_file(errors_path);
  ::unlink(errors_path.c_str());
  if (n != 1 || c != '1') {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return sys::user_error("slirp4netns ended before it configured the network namespace: " +
                           last_line(said ? *said : ""));
  }
  auto forwarded = [&]() -> Result<void> {
    GUISE_TRY(sys::write_file(pid_file, std::to_string(pid) + "\n", O_CREAT | O_TRUNC, 0600));
    return forward_slirp_ports(api, ports);
  }();
  if (!forwarded) {
    // Its ports bound so far go with it.
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return forwarded.error();
  }
  return Ok();
}

Result<void> forward_slirp_ports(const std::string& api, const std::vector<network::PortRequest>& ports) {
  for (const auto& p : ports) {
    uint16_t last = p.host_port_last ? p.host_port_last : p.host_port_first;
    for (uint32_t port = p.host_port_first; port <= last; ++port) {
      std::string req = "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"" + p.protocol +
                        "\",\"host_addr\":\"" + (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) +
                        "\",\"host_port\":" + std::to_string(port) +
                        ",\"guest_port\":" + std::to_string(p.container_port + (port - p.host_port_first)) + "}}";
      GUISE_TRY(slirp_api(api, req), "-p " + std::to_string(port));
    }
  }
  return Ok();
}

}  // namespace

bool is_user_mode_network(const std::string& mode) { return mode == "pasta" || mode == "slirp4netns"; }

std::string default_user_mode_network() {
  if (!find_program("pasta").empty()) return "pasta";
  if (!find_program("slirp4netns").empty()) return "slirp4netns";
  return "";
}

std::string user_mode_network_problem(const std::string& mode) {
  std::string package = mode == "pasta" ? "passt" : "slirp4netns";
  if (find_program(mode).empty())
    return mode + " is not installed (as root: apt-get install " + package + ")";
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return "/dev/net/tun is missing (as root: modprobe tun)";
    return std::string("/dev/net/tun cannot be opened by this user (") + std::strerror(e) +
           "; as root: chmod 0666 /dev/net/tun)";
  }
  ::close(fd);
  return "";
}

std::string user_mode_resolv_conf(const std::string& mode, const std::string& host) {
  std::istringstream in(host);
  std::string out;
  bool reachable = false, replaced = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key, addr;
    words >> key >> addr;
    if (key == "nameserver" && (addr.starts_with("127.") || addr == "::1")) {
      replaced = true;
      continue;
    }
    if (key == "nameserver") reachable = true;
    out += line + "\n";
  }
  if (reachable || !replaced) return host;
  return "nameserver " + std::string(mode == "pasta" ? kPastaDns : "10.0.2.3") + "\n" + out;
}

std::string user_mode_netns_path(const std::string& store_root, const std::string& id) {
  return dir_of(store_root) + "/" + id;
}

std::vector<std::string> pasta_command(const std::string& netns_path, const std::vector<network::PortRequest>& ports) {
  std::string tcp, udp;
  for (const auto& p : ports) {
    std::string& list = p.protocol == "udp" ? udp : tcp;
    list += (list.empty() ? "" : ",") + pasta_port(p);
  }
  // Nothing forwarded but what was published, either way (pasta's default forwards every
  // port the namespace listens on to the host's loopback).
  return {find_program("pasta"), "--config-net", "--quiet", "--netns", netns_path, "-t", tcp.empty() ? "none" : tcp,
          "-u", udp.empty() ? "none" : udp, "-T", "none", "-U", "none", "--dns-forward", kPastaDns};
}

Result<void> start_user_mode_network(const std::string& mode, const std::string& store_root, const std::string& id,
                                     const std::vector<network::PortRequest>& ports) {
  if (std::string problem = user_mode_network_problem(mode); !problem.empty())
    return sys::user_error("--network " + mode + ": " + problem);
  std::error_code ec;
  std::filesystem::create_directories(dir_of(store_root), ec);
  if (ec) return sys::sys_error_n(ec.value(), "mkdir", dir_of(store_root));
  auto lock = GUISE_TRY(sys::FileLock::acquire(dir_of(store_root) + ".lock"));
  std::string netns = user_mode_netns_path(store_root, id);
  GUISE_TRY(network::create_pinned_netns(netns), "--network " + mode);
  auto started = mode == "pasta" ? start_pasta(netns, pid_path(store_root, id), ports)
                                 : start_slirp(netns, pid_path(store_root, id), ports);
  if (!started) {
    ::unlink(pid_path(store_root, id).c_str());
    (void)network::remove_pinned_netns(netns);
    return std::move(started.error()).with_context("--network " + mode);
  }
  return Ok();
}

Result<void> stop_user_mode_network(const std::string& store_root, const std::string& id, uint64_t only_netns_inode) {
  std::string netns = user_mode_netns_path(store_root, id), pids = pid_path(store_root, id);
  struct stat st {};
  if (::stat(netns.c_str(), &st) < 0 && ::stat(pids.c_str(), &st) < 0) return Ok();
  auto lock = GUISE_TRY(sys::FileLock::acquire(dir_of(store_root) + ".lock"));
  if (only_netns_inode != 0 && (::stat(netns.c_str(), &st) < 0 || st.st_ino != only_netns_inode)) return Ok();
  if (auto pid = sys::read_file(pids); pid) end_helper(static_cast<pid_t>(std::atoi(pid->c_str())));
  ::unlink(pids.c_str());
  ::unlink((pids.substr(0, pids.size() - 4) + ".sock").c_str());
  return network::remove_pinned_netns(netns);
}

}  // namespace guise::engine
