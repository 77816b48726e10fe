#include "network/host_ports.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>

#include "network/address.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace guise::network {

namespace {

// A socket bound to host_ip:port (port 0: the kernel picks). Both families for "": the
// v6 wildcard without V6ONLY covers v4 too where the host has v6.
Result<sys::Fd> bind_probe(const std::string& protocol, const std::string& host_ip, uint16_t port) {
  int type = protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  IpAddress ip;
  if (!host_ip.empty()) ip = GUISE_TRY(parse_ip(host_ip, "host IP"));
  int family = host_ip.empty() || ip.v4() ? AF_INET : AF_INET6;
  sys::Fd fd(::socket(family, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return sys::sys_error("socket");
  int one = 1;
  // As a listener would set it: a port left in TIME_WAIT by a past connection is free.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (!host_ip.empty()) std::memcpy(&sin->sin_addr, ip.bytes.data(), 4);
    len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, ip.bytes.data(), 16);
    len = sizeof *sin6;
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return sys::sys_error("bind");
  // A TCP port is taken by a listener, which a bind with SO_REUSEADDR does not always see.
  if (type == SOCK_STREAM && ::listen(fd.get(), 1) < 0) return sys::sys_error("listen");
  return fd;
}

std::set<unsigned long> socket_inodes(const std::string& protocol, uint16_t port) {
  std::set<unsigned long> out;
  for (const char* v : {"", "6"}) {
    auto text = sys::read_file("/proc/net/" + protocol + v);
    if (!text) continue;
    std::istringstream in(*text);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      unsigned local_port = 0, state = 0;
      unsigned long inode = 0;
      char local[64];
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      if (std::sscanf(line.c_str(), " %*d: %63[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*d %*d %lu", local, &local_port, &state,
                      &inode) != 4)
        continue;
      bool bound = protocol == "udp" || state == 0x0A;  // TCP_LISTEN
      if (local_port == port && bound && inode) out.insert(inode);
    }
  }
  return out;
}

}  // namespace

std::string port_holder(const std::string& protocol, uint16_t port) {
  std::set<unsigned long> inodes = socket_inodes(protocol, port);
  if (inodes.empty()) return "";
  DIR* proc = ::opendir("/proc");
  if (!proc) return "";
  std::string found;
  while (dirent* p = ::readdir(proc)) {
    if (p->d_name[0] < '1' || p->d_name[0] > '9') continue;
    std::string fd_dir = std::string("/proc/") + p->d_name + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (!fds) continue;
    while (dirent* f = ::readdir(fds)) {
      char target[64] = {};
      std::string link = fd_dir + "/" + f->d_name;
      if (::readlink(link.c_str(), target, sizeof target - 1) <= 0) continue;
      unsigned long inode = 0;
      if (std::sscanf(target, "socket:[%lu]", &inode) == 1 && inodes.count(inode)) {
        auto comm = sys::read_file(std::string("/proc/") + p->d_name + "/comm");
        std::string name = comm ? *comm : std::string("?");
        while (!name.empty() && name.back() == '\n') name.pop_back();
        found = name + " (pid " + p->d_name + ")";
        break;
      }
    }
    ::closedir(fds);
    if (!found.empty()) break;
  }
  ::closedir(proc);
  return found;
}

Result<void> check_host_port_free(const std::string& protocol, const std::string& host_ip, uint16_t port) {
  auto probe = bind_probe(protocol, host_ip, port);
  if (probe) return Ok();
  std::string where = std::to_string(port) + "/" + protocol;
  if (probe.error().errnum != EADDRINUSE)
    return std::move(probe.error()).with_context("checking host port " + where);
  std::string holder = port_holder(protocol, port);
  return sys::already_exists("host port " + where + (host_ip.empty() ? "" : " on " + host_ip) + " is already in use" +
                             (holder.empty() ? "" : " by " + holder));
}

Result<uint16_t> pick_free_host_port(const std::string& protocol, const std::string& host_ip) {
  sys::Fd fd = GUISE_TRY(bind_probe(protocol, host_ip, 0), "picking a free host port");
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) return sys::sys_error("getsockname");
  if (ss.ss_family == AF_INET) return static_cast<uint16_t>(ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port));
  return static_cast<uint16_t>(ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port));
}

}  // namespace guise::network
