// The responder's event loop, inside: one thread, one poll(2) over the listening
// sockets, the TCP clients, the pending forwards and a signalfd. dns_server.cc holds the
// loop and the clients, dns_forward.cc the way to the upstream nameservers.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "network/dns.h"
#include "network/dns_hosts.h"
#include "sys/fd.h"

namespace guise::network::dns {

constexpr size_t kMaxConnections = 64;
constexpr size_t kMaxForwards = 256;
constexpr int64_t kIdleMs = 10'000;

int64_t now_ms();  // monotonic

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};
Endpoint endpoint_of(const IpAddress& a, uint16_t port);

// Who asked: a UDP peer (through the listening socket `udp`), or a TCP connection.
struct Client {
  int udp = -1;
  Endpoint peer;
  uint64_t conn = 0;
};

struct Connection {
  sys::Fd fd;
  std::string in, out;  // framed, as on the wire
  int64_t last_ms = 0;
  int pending = 0;      // forwards that will still answer on it
  bool eof = false;     // the client shut its side: answer what is pending, then close
  bool dead = false;    // closed at the end of this turn of the loop
};

// One query on its way to an upstream nameserver, each try on a socket of its own (a
// fresh source port, and the kernel drops datagrams from anyone else), so the query
// goes out unchanged, its id included.
struct Forward {
  sys::Fd fd;
  std::string query;
  Client client;
  size_t upstream = 0;   // the index in o.upstream being tried
  int64_t deadline = 0;  // of this try
  bool tcp = false;      // TCP clients are forwarded over TCP: their answers may be big
  size_t sent = 0;       // TCP: bytes of the framed query written
  std::string in;        // TCP: the framed answer so far
};

class Server {
 public:
  explicit Server(const DnsServerOptions& o) : o_(o), hosts_(o.hosts_file) {}
  Result<void> listen();
  // Until keep_running says false, or a signal is read from `sigfd`.
  Result<void> run(int sigfd);

 private:
  struct Listener {
    sys::Fd udp, tcp;
  };

  void on_udp(int fd);
  void on_accept(int fd);
  void on_connection(uint64_t id, short revents);
  void handle_query(std::string_view query, const Client& client);
  void reply(const Client& client, std::string_view message);
  void flush(Connection& c);
  void sweep(int64_t now);
  int64_t next_deadline() const;

  // dns_forward.cc
  void forward(std::string_view query, const Client& client);
  bool try_upstream(Forward& f);
  void on_forward(uint64_t id, short revents);
  void next_upstream(uint64_t id);
  void finish(uint64_t id, std::string_view answer);
  void expire_forwards(int64_t now);
  void servfail(std::string_view query, const Client& client);

  const DnsServerOptions& o_;
  HostsFile hosts_;
  std::vector<Listener> listeners_;
  std::map<uint64_t, Connection> connections_;
  std::map<uint64_t, Forward> forwards_;
  uint64_t next_id_ = 1;
  std::string buf_ = std::string(65536, '\0');  // for whatever is being read
};

}  // namespace guise::network::dns
