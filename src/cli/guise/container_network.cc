#include "cli/guise/container_network.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <unistd.h>

#include <thread>

#include "cli/guise/container_common.h"
#include "cli/guise/joined_namespaces.h"
#include "engine/attach.h"
#include "engine/container.h"
#include "engine/networking.h"
#include "engine/user_mode_network.h"
#include "sys/fault.h"
#include "sys/child_process.h"
#include "sys/file_lock.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

std::string self_exe() {
  std::string self = engine::self_binary();
  return self.empty() ? std::string("/usr/local/bin/guise") : self;
}

std::string host_resolv_conf() {
  auto text = sys::read_file("/etc/resolv.conf");
  return text ? *text : std::string();
}

// `guise network dns-serve ID` holds dns.lock while it serves: a lock taken here means
// none runs. Started, it says "ready" on stdout once its sockets are bound.
Result<void> start_dns_responder(const std::string& store_root, const network::NetworkStore& store,
                                 const network::NetworkRecord& n) {
  if (!engine::needs_dns_responder(n, host_resolv_conf())) return Ok();
  std::string lock_path = store.network_dir(n) + "/dns.lock";
  {
    auto probe = GUISE_TRY(sys::FileLock::try_acquire(lock_path));
    if (!probe.held()) return Ok();  // one serves already
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return sys::sys_error("pipe");
  sys::Fd read_end(p[0]), write_end(p[1]);
  sys::Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  sys::SpawnOptions o;
  o.stdin_fd = null.get();
  o.stdout_fd = write_end.get();
  o.stderr_fd = null.get();
  std::string exe = self_exe();
  auto child = GUISE_TRY(sys::spawn(exe, {exe, "--root", store_root, "network", "dns-serve", n.id}, o),
                         "starting the DNS responder");
  write_end.reset();
  std::string said;
  char buf[256];
  for (;;) {
    pollfd p{read_end.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, 5000);  // binding two sockets: far less; never wait forever under the lock
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    ssize_t got = ::read(read_end.get(), buf, sizeof buf);
    if (got <= 0) break;
    said.append(buf, static_cast<size_t>(got));
    if (said.find('\n') != std::string::npos) break;
  }
  if (said.rfind("ready", 0) != 0) {
    auto st = child.wait_for(1000);
    (void)st;
    std::string why = said.empty() ? "it exited" : said.substr(0, said.find('\n'));
    return sys::user_error("DNS responder for network " + n.name + " did not start: " + why);
  }
  child.release();  // it serves on by itself, until the network has no container left
  return Ok();
}

Result<void> write_name_files(const engine::ContainerStore& cs, const engine::ContainerRecord& rec,
                              const std::vector<network::Attached>& attached) {
  engine::ContainerPaths paths = cs.paths(rec.id);
  std::string hostname = rec.config.value("Hostname", rec.id.substr(0, 12));
  std::vector<std::string> extra = rec.host_config.contains("ExtraHosts") && rec.host_config["ExtraHosts"].is_array()
                                       ? rec.host_config["ExtraHosts"].get<std::vector<std::string>>()
                                       : std::vector<std::string>{};
  auto list = [&](const char* key) {
    return rec.host_config.contains(key) && rec.host_config[key].is_array()
               ? rec.host_config[key].get<std::vector<std::string>>()
               : std::vector<std::string>{};
  };
  // In place (O_TRUNC), not by rename: a running container (connect) has them bound.
  GUISE_TRY(sys::write_file(paths.dir + "/hosts", engine::hosts_text(hostname, attached, extra), O_CREAT | O_TRUNC | O_WRONLY, 0644));
  GUISE_TRY(sys::write_file(paths.dir + "/resolv.conf",
                            engine::resolv_conf_text(host_resolv_conf(), attached, list("Dns"), list("DnsSearch"),
                                                     list("DnsOptions")),
                            O_CREAT | O_TRUNC | O_WRONLY, 0644));
  return Ok();
}

}  // namespace

Result<network::NetworkLayer> open_network_layer(const engine::ContainerStore& cs) {
  std::string root = cs.root();
  auto config = engine::network_layer_config(
      cs, [root](const network::NetworkRecord& n, const std::string&) -> Result<void> {
        auto s = GUISE_TRY(network::NetworkStore::open(root));
        return start_dns_responder(root, s, n);
      });
  return network::NetworkLayer::open(std::move(config));
}

std::vector<std::string> cleanup_command(const std::string& store_root, const std::string& id) {
  return {self_exe(), "--root", store_root, "container", "cleanup", id};
}

Result<void> start_container(engine::ContainerStore& cs, const std::string& id, const std::function<void()>& on_listening) {
  // Before this container's lock: a pod's member starts its infra, whose lock comes first.
  GUISE_TRY(start_infra_of_member(cs, id));
  // Held from the network's setup until the monitor runs: another setup meanwhile sees a
  // container being started, not a stopped one whose network it may reclaim; an `rm`
  // waits for it, or it finds the container gone.
  auto starting = GUISE_TRY(cs.lock_container(id));
  // Started by another command while this one waited for the lock: docker's start of a
  // running container does nothing (a second setup would undo the first's namespace).
  if (GUISE_TRY(engine::view_container(cs, id)).running()) return Ok();
  // Under the lock: a concurrent update of the spec or monitor config is not undone.
  GUISE_TRY(aim_joined_namespaces(cs, id));
  auto rec = GUISE_TRY(cs.read_record(id));
  std::string mode = rec.host_config.value("NetworkMode", "bridge");
  std::optional<network::NetworkLayer> layer;
  bool user_mode = engine::is_user_mode_network(mode);
  if (user_mode) {
    auto request = GUISE_TRY(engine::network_request(rec));
    GUISE_TRY(engine::start_user_mode_network(mode, cs.root(), id, request.ports));
  }
  if (engine::uses_network_layer(mode)) {
    layer.emplace(GUISE_TRY(open_network_layer(cs)));
    auto request = GUISE_TRY(engine::network_request(rec));
    auto attached = GUISE_TRY(layer->setup(request));
    auto named = write_name_files(cs, rec, attached);
    if (named) {
      auto fault = [&]() -> Result<void> { GUISE_FAULT_POINT("start: network set up"); return Ok(); }();
      if (!fault) named = std::move(fault.error());
    }
    if (!named) {
      (void)layer->teardown(id);
      return std::move(named.error());
    }
  }
  auto started = [&]() -> Result<pid_t> {
    GUISE_FAULT_POINT("start: monitor to start");
    return engine::start_monitor(cs.root(), id, on_listening);
  }();
  if (!started) {
    if (layer) (void)layer->teardown(id);
    if (user_mode) (void)engine::stop_user_mode_network(cs.root(), id);
    return std::move(started.error());
  }
  return Ok();
}

Result<void> teardown_container_network(const engine::ContainerStore& cs, const std::string& id,
                                        uint64_t only_netns_inode) {
  GUISE_TRY(engine::stop_user_mode_network(cs.root(), id, only_netns_inode));
  auto layer = GUISE_TRY(open_network_layer(cs));
  return layer.teardown(id, only_netns_inode);
}

uint64_t container_netns_inode(const engine::ContainerStore& cs, const std::string& id) {
  struct stat st {};
  if (::stat(engine::user_mode_netns_path(cs.root(), id).c_str(), &st) == 0) return st.st_ino;
  auto layer = open_network_layer(cs);
  if (!layer || ::stat(layer->netns_path(id).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

Result<void> release_container_network(const engine::ContainerStore& cs, const std::string& id,
                                       uint64_t only_netns_inode) {
  GUISE_TRY(engine::stop_user_mode_network(cs.root(), id, only_netns_inode));
  auto layer = GUISE_TRY(open_network_layer(cs));
  return layer.release(id, only_netns_inode);
}

}  // namespace guise::cli
