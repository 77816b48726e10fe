#include "network/dns_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>

#include "network/dns_message.h"

namespace guise::network::dns {
namespace {

constexpr size_t kMaxTcpOut = 1 << 20;  // a client that reads nothing is dropped

std::string endpoint_text(const IpAddress& a, uint16_t port) {
  return (a.v6() ? "[" + a.str() + "]" : a.str()) + ":" + std::to_string(port);
}

Result<sys::Fd> bound_socket(const IpAddress& a, uint16_t port, int type) {
  auto fail = [&] { return sys::sys_error("dns: binding " + endpoint_text(a, port)); };
  sys::Fd fd(::socket(a.family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fail();
  int one = 1;
  // The gateway's v6 address may still be tentative (DAD) when the server starts.
  ::setsockopt(fd.get(), SOL_IP, IP_FREEBIND, &one, sizeof one);
  if (a.v6()) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  Endpoint e = endpoint_of(a, port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&e.addr), e.len) != 0) return fail();
  if (type == SOCK_STREAM && ::listen(fd.get(), 64) != 0) return fail();
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

}  // namespace

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Endpoint endpoint_of(const IpAddress& a, uint16_t port) {
  Endpoint e;
  if (a.v4()) {
    auto* s = reinterpret_cast<sockaddr_in*>(&e.addr);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::copy_n(a.bytes.begin(), 4, reinterpret_cast<uint8_t*>(&s->sin_addr));
    e.len = sizeof(sockaddr_in);
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&e.addr);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    std::copy_n(a.bytes.begin(), 16, s->sin6_addr.s6_addr);
    e.len = sizeof(sockaddr_in6);
  }
  return e;
}

Result<void> Server::listen() {
  if (o_.listen.empty()) return sys::user_error("dns: no address to listen on");
  uint16_t port = o_.port;
  for (const auto& a : o_.listen) {
    if (a.empty()) return sys::user_error("dns: an empty listen address");
    Listener l;
    l.udp = GUISE_TRY(bound_socket(a, port, SOCK_DGRAM));
    if (port == 0) port = local_port(l.udp.get());  // the others take the same port
    l.tcp = GUISE_TRY(bound_socket(a, port, SOCK_STREAM));
    listeners_.push_back(std::move(l));
  }
  if (o_.on_listening) o_.on_listening(port);
  return Ok();
}

Result<void> Server::run(int sigfd) {
  // What each pollfd is, by index: 0 the signalfd, then these.
  enum Kind { kUdp, kTcp, kConnection, kForward };
  std::vector<std::pair<Kind, uint64_t>> what;
  std::vector<pollfd> fds;
  int64_t next_check = now_ms() + 1000;
  for (;;) {
    fds.assign(1, pollfd{sigfd, POLLIN, 0});
    what.assign(1, {kUdp, 0});
    for (const auto& l : listeners_) {
      fds.push_back({l.udp.get(), POLLIN, 0});
      what.push_back({kUdp, static_cast<uint64_t>(l.udp.get())});
      if (connections_.size() < kMaxConnections) {  // else the backlog waits
        fds.push_back({l.tcp.get(), POLLIN, 0});
        what.push_back({kTcp, static_cast<uint64_t>(l.tcp.get())});
      }
    }
    for (const auto& [id, c] : connections_) {
      short ev = static_cast<short>((c.eof ? 0 : POLLIN) | (c.out.empty() ? 0 : POLLOUT));
      fds.push_back({c.fd.get(), ev, 0});
      what.push_back({kConnection, id});
    }
    for (const auto& [id, f] : forwards_) {
      bool writing = f.tcp && f.sent < f.query.size() + 2;
      fds.push_back({f.fd.get(), static_cast<short>(writing ? POLLOUT : POLLIN), 0});
      what.push_back({kForward, id});
    }
    int64_t now = now_ms();
    int timeout = static_cast<int>(std::clamp<int64_t>(std::min(next_deadline(), next_check) - now, 0, 1000));
    int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) return sys::sys_error("dns: poll");
    if (n > 0 && fds[0].revents) {  // SIGTERM or SIGINT: taken, so that the old mask lets none through
      signalfd_siginfo si;
      while (::read(sigfd, &si, sizeof si) == sizeof si) {
      }
      return Ok();
    }
    for (size_t i = 1; n > 0 && i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      auto [kind, key] = what[i];
      if (kind == kUdp) on_udp(static_cast<int>(key));
      if (kind == kTcp) on_accept(static_cast<int>(key));
      if (kind == kConnection) on_connection(key, fds[i].revents);
      if (kind == kForward) on_forward(key, fds[i].revents);
    }
    now = now_ms();
    expire_forwards(now);
    sweep(now);
    if (now >= next_check) {
      if (o_.keep_running && !o_.keep_running()) return Ok();
      next_check = now + 1000;
    }
  }
}

int64_t Server::next_deadline() const {
  int64_t t = INT64_MAX;
  for (const auto& [id, f] : forwards_) t = std::min(t, f.deadline);
  for (const auto& [id, c] : connections_) t = std::min(t, c.last_ms + kIdleMs);
  return t;
}

void Server::on_udp(int fd) {
  for (int i = 0; i < 64; ++i) {  // a burst, then the others get their turn
    Client c;
    c.udp = fd;
    c.peer.len = sizeof c.peer.addr;
    ssize_t n = ::recvfrom(fd, buf_.data(), buf_.size(), 0, reinterpret_cast<sockaddr*>(&c.peer.addr),
                           &c.peer.len);
    if (n < 0) return;
    handle_query(std::string_view(buf_.data(), static_cast<size_t>(n)), c);
  }
}

void Server::on_accept(int fd) {
  while (connections_.size() < kMaxConnections) {
    sys::Fd conn(::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!conn.valid()) return;
    Connection c;
    c.fd = std::move(conn);
    c.last_ms = now_ms();
    connections_.emplace(next_id_++, std::move(c));
  }
}

void Server::on_connection(uint64_t id, short revents) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second.dead) return;
  Connection& c = it->second;
  // POLLHUP: both ways shut (a FIN alone reads as POLLIN and EOF); no one to answer.
  if (revents & (POLLHUP | POLLERR)) c.dead = true;
  if (revents & POLLOUT) flush(c);
  if ((revents & POLLIN) && !c.dead) {
    ssize_t n = ::recv(c.fd.get(), buf_.data(), buf_.size(), 0);
    if (n < 0 && errno != EAGAIN && errno != EINTR) c.dead = true;
    if (n == 0) c.eof = true;
    if (n <= 0) return;
    c.in.append(buf_.data(), static_cast<size_t>(n));
    c.last_ms = now_ms();
  }
  if (c.dead) return;
  // Every whole message in; handle_query may add to the maps, but never erases.
  for (;;) {
    auto& in = connections_.at(id).in;
    if (in.size() < 2) return;
    size_t len = static_cast<uint8_t>(in[0]) << 8 | static_cast<uint8_t>(in[1]);
    if (in.size() < 2 + len) return;
    std::string query = in.substr(2, len);
    in.erase(0, 2 + len);
    Client c;
    c.conn = id;
    handle_query(query, c);
  }
}

void Server::handle_query(std::string_view query, const Client& client) {
  size_t max = client.conn ? 0xffff : kUdpMax;
  auto out = answer_locally(query, hosts_.table(), o_.ttl, max);
  if (out.verdict == Verdict::kReply) reply(client, out.reply);
  if (out.verdict == Verdict::kForward) forward(query, client);
}

void Server::reply(const Client& client, std::string_view message) {
  if (!client.conn) {
    ::sendto(client.udp, message.data(), message.size(), MSG_DONTWAIT,
             reinterpret_cast<const sockaddr*>(&client.peer.addr), client.peer.len);
    return;
  }
  auto it = connections_.find(client.conn);
  if (it == connections_.end() || message.size() > 0xffff) return;
  auto& c = it->second;
  c.out.push_back(static_cast<char>(message.size() >> 8));
  c.out.push_back(static_cast<char>(message.size() & 0xff));
  c.out.append(message);
  flush(c);
}

void Server::flush(Connection& c) {
  while (!c.out.empty() && !c.dead) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) c.dead = true;
      if (errno != EINTR) break;
      continue;
    }
    c.out.erase(0, static_cast<size_t>(n));
    c.last_ms = now_ms();
  }
  if (c.out.size() > kMaxTcpOut) c.dead = true;
}

// Closes the connections that are done: broken, idle, or shut by the client with
// nothing left to answer.
void Server::sweep(int64_t now) {
  std::erase_if(connections_, [&](const auto& entry) {
    const Connection& c = entry.second;
    bool idle = now - c.last_ms >= kIdleMs;
    bool done = c.eof && c.pending == 0 && c.out.empty();
    bool oversized = c.in.size() > 2 + 0xffff;  // cannot happen with whole messages taken
    return c.dead || idle || done || oversized;
  });
}

}  // namespace guise::network::dns

namespace guise::network {

Result<void> serve_dns(const DnsServerOptions& o) {
  sigset_t stop, old;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  // Only this thread's mask: the signals reach the signalfd when this is the process's
  // only thread (the responder's own process), as they should. Blocked before the
  // sockets are bound, so that one sent as soon as they are is not lost.
  ::pthread_sigmask(SIG_BLOCK, &stop, &old);
  struct Restore {
    sigset_t* old;
    ~Restore() { ::pthread_sigmask(SIG_SETMASK, old, nullptr); }
  } restore{&old};
  sys::Fd sigfd(::signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!sigfd.valid()) return sys::sys_error("dns: signalfd");
  dns::Server server(o);
  GUISE_TRY(server.listen());
  return server.run(sigfd.get());
}

}  // namespace guise::network
