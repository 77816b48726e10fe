// Forwarding: each query to upstream[0], then to the next when a try times out or is
// refused; SERVFAIL once none is left. UDP clients are forwarded over UDP (a truncated
// answer relayed as it came: the client retries over TCP), TCP clients over TCP, all
// without blocking the loop.
#include <poll.h>

#include <cerrno>

#include "network/dns_message.h"
#include "network/dns_server.h"

namespace guise::network::dns {
namespace {

std::string framed(const std::string& message) {
  std::string out;
  out.push_back(static_cast<char>(message.size() >> 8));
  out.push_back(static_cast<char>(message.size() & 0xff));
  return out + message;
}

// The answer to `query`: the same id, and a reply.
bool answers(std::string_view answer, std::string_view query) {
  auto a = parse_header(answer);
  auto q = parse_header(query);
  return a && q && a->qr() && a->id == q->id;
}

}  // namespace

void Server::servfail(std::string_view query, const Client& client) {
  auto q = parse_question(query);
  if (q) reply(client, make_reply(query, *q, kServFail, {}, kUdpMax, false));
}

void Server::forward(std::string_view query, const Client& client) {
  if (forwards_.size() >= kMaxForwards) return servfail(query, client);
  Forward f;
  f.query = std::string(query);
  f.client = client;
  f.tcp = client.conn != 0;
  if (!try_upstream(f)) return servfail(query, client);
  if (f.tcp) ++connections_.at(client.conn).pending;
  forwards_.emplace(next_id_++, std::move(f));
}

// Starts a try on f.upstream, or on the next one that takes it; false when none is left.
bool Server::try_upstream(Forward& f) {
  for (; f.upstream < o_.upstream.size(); ++f.upstream) {
    const IpAddress& to = o_.upstream[f.upstream];
    f.fd.reset(::socket(to.family, (f.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!f.fd.valid()) continue;
    Endpoint e = endpoint_of(to, o_.upstream_port);
    if (::connect(f.fd.get(), reinterpret_cast<sockaddr*>(&e.addr), e.len) != 0 && errno != EINPROGRESS)
      continue;
    f.sent = 0;
    f.in.clear();
    if (!f.tcp && ::send(f.fd.get(), f.query.data(), f.query.size(), MSG_DONTWAIT) < 0) continue;
    f.deadline = now_ms() + o_.upstream_timeout_ms;
    return true;
  }
  f.fd.reset();
  return false;
}

void Server::next_upstream(uint64_t id) {
  auto it = forwards_.find(id);
  if (it == forwards_.end()) return;
  Forward& f = it->second;
  ++f.upstream;
  if (try_upstream(f)) return;
  Client client = f.client;
  std::string query = std::move(f.query);
  finish(id, {});
  servfail(query, client);
}

// Relays `answer` (none when empty) to the client and forgets the forward.
void Server::finish(uint64_t id, std::string_view answer) {
  auto it = forwards_.find(id);
  if (it == forwards_.end()) return;
  Client client = it->second.client;
  if (client.conn) {
    auto c = connections_.find(client.conn);
    if (c != connections_.end()) --c->second.pending;
  }
  if (!answer.empty()) reply(client, answer);
  forwards_.erase(it);
}

void Server::on_forward(uint64_t id, short revents) {
  auto it = forwards_.find(id);
  if (it == forwards_.end()) return;
  Forward& f = it->second;
  if (!f.tcp) {
    for (;;) {
      ssize_t n = ::recv(f.fd.get(), buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) next_upstream(id);  // ECONNREFUSED: no server there
        return;
      }
      std::string_view answer(buf_.data(), static_cast<size_t>(n));
      if (answers(answer, f.query)) return finish(id, answer);
    }
  }
  std::string out = framed(f.query);
  if (f.sent < out.size()) {
    if (!(revents & (POLLOUT | POLLERR | POLLHUP))) return;
    ssize_t n = ::send(f.fd.get(), out.data() + f.sent, out.size() - f.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return next_upstream(id);  // refused, unreachable
    if (n > 0) f.sent += static_cast<size_t>(n);
    return;
  }
  ssize_t n = ::recv(f.fd.get(), buf_.data(), buf_.size(), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) return next_upstream(id);  // closed before a whole answer
  f.in.append(buf_.data(), static_cast<size_t>(n));
  if (f.in.size() < 2) return;
  size_t len = static_cast<uint8_t>(f.in[0]) << 8 | static_cast<uint8_t>(f.in[1]);
  if (f.in.size() < 2 + len) return;
  std::string answer = f.in.substr(2, len);
  if (!answers(answer, f.query)) return next_upstream(id);
  finish(id, answer);
}

void Server::expire_forwards(int64_t now) {
  std::vector<uint64_t> late;
  for (const auto& [id, f] : forwards_)
    if (f.deadline <= now) late.push_back(id);
  for (uint64_t id : late) next_upstream(id);
}

}  // namespace guise::network::dns
