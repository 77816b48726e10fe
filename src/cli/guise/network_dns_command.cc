// `guise network dns-serve ID`: the DNS responder of one network, started by the first
// container that needs it (container_network.cc) and gone a few seconds after the last
// of the network's containers stops. It holds the network's dns.lock while it serves.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "cli/guise/container_common.h"
#include "cli/guise/container_network.h"
#include "network/dns.h"
#include "sys/file_lock.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

bool has_active_endpoint(const network::NetworkStore& store, const network::NetworkRecord& n) {
  auto endpoints = store.endpoints(n);
  if (!endpoints) return true;  // unreadable for a moment: keep serving
  for (const auto& e : *endpoints)
    if (e.active) return true;
  return false;
}

void say_ready() {
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
  // stdout is the starter's pipe: closed now, the starter reads its end and goes on.
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::close(null);
  }
}

}  // namespace

Result<void> serve_network_dns(Context& ctx, const std::string& network_id) {
  ::setsid();  // no terminal's ^C reaches it; it outlives the `guise run` that started it
  auto cs = GUISE_TRY(open_containers(ctx));
  auto layer = GUISE_TRY(open_network_layer(cs));
  const network::NetworkStore& store = layer.store();
  network::NetworkRecord n = GUISE_TRY(store.find(network_id));
  auto lock = GUISE_TRY(sys::FileLock::try_acquire(store.network_dir(n) + "/dns.lock"));
  if (!lock.held()) {  // another one serves
    say_ready();
    return Ok();
  }
  network::DnsServerOptions o;
  o.listen.push_back(n.gateway);
  if (n.subnet6) o.listen.push_back(n.gateway6);
  o.hosts_file = store.hosts_file(n);
  auto resolv = sys::read_file("/etc/resolv.conf");
  for (const auto& s : network::nameservers_of(resolv ? *resolv : std::string()))
    if (!(s == n.gateway)) o.upstream.push_back(s);
  int idle_checks = 0;
  std::optional<sys::FileLock> store_lock;
  o.keep_running = [&] {
    idle_checks = has_active_endpoint(store, n) ? 0 : idle_checks + 1;
    if (idle_checks < 3) return true;
    // Going: decided under the store's lock, held until this process is gone (with
    // dns.lock), so a setup never finds dns.lock held by a responder about to exit.
    auto l = store.lock();
    if (!l) return true;
    store_lock.emplace(std::move(*l));
    if (has_active_endpoint(store, n)) {
      store_lock.reset();
      idle_checks = 0;
      return true;
    }
    return false;
  };
  o.on_listening = [](uint16_t) { say_ready(); };
  auto served = serve_dns(o);
  lock.release();  // dns.lock first: while the store's lock is still held, no setup looks
  store_lock.reset();
  return served;
}

}  // namespace guise::cli
