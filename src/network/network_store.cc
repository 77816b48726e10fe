#include "network/network_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "sys/syscalls.h"
#include "sys/text.h"

namespace guise::network {

using nlohmann::json;

namespace {

Result<void> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error("mkdir", path);
  return Ok();
}

// Write to a temporary beside `path`, then rename over it.
Result<void> replace_file(const std::string& path, const std::string& data, mode_t mode = 0600) {
  std::string tmp = path + ".tmp-" + sys::random_hex(8);
  GUISE_TRY(sys::write_file(tmp, data, O_CREAT | O_EXCL | O_WRONLY, mode));
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return sys::sys_error_n(e, "rename", path);
  }
  return Ok();
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') out.push_back(e->d_name);
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string ip_or_empty(const IpAddress& a) { return a.empty() ? "" : a.str(); }

Result<IpAddress> ip_field(const json& j, const char* key, const std::string& origin) {
  std::string text = j.value(key, "");
  if (text.empty()) return IpAddress{};
  return parse_ip(text, origin + ": " + key);
}

}  // namespace

std::string network_to_json(const NetworkRecord& n) {
  json labels = json::object();
  for (const auto& [k, v] : n.labels) labels[k] = v;
  json j{{"id", n.id},         {"name", n.name},         {"created", n.created},
         {"bridge", n.bridge}, {"subnet", n.subnet.str()}, {"gateway", n.gateway.str()},
         {"internal", n.internal}, {"dns", n.dns},       {"labels", labels}};
  if (n.subnet6) {
    j["subnet6"] = n.subnet6->str();
    j["gateway6"] = n.gateway6.str();
  }
  return j.dump(2) + "\n";
}

Result<NetworkRecord> network_from_json(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return sys::user_error(origin + ": not a JSON object");
  NetworkRecord n;
  try {
    n.id = j.at("id").get<std::string>();
    n.name = j.at("name").get<std::string>();
    n.created = j.value("created", "");
    n.bridge = j.at("bridge").get<std::string>();
    n.subnet = GUISE_TRY(parse_prefix(j.at("subnet").get<std::string>(), origin + ": subnet"));
    n.gateway = GUISE_TRY(parse_ip(j.at("gateway").get<std::string>(), origin + ": gateway"));
    if (j.contains("subnet6")) {
      n.subnet6 = GUISE_TRY(parse_prefix(j["subnet6"].get<std::string>(), origin + ": subnet6"));
      n.gateway6 = GUISE_TRY(ip_field(j, "gateway6", origin));
    }
    n.internal = j.value("internal", false);
    n.dns = j.value("dns", true);
    if (j.contains("labels") && j["labels"].is_object())
      for (const auto& [k, v] : j["labels"].items()) n.labels.emplace_back(k, v.get<std::string>());
  } catch (const json::exception& e) {
    return sys::user_error(origin + ": " + e.what());
  }
  return n;
}

std::string endpoint_to_json(const Endpoint& e) {
  json ports = json::array();
  for (const auto& p : e.ports)
    ports.push_back({{"protocol", p.protocol}, {"host_ip", p.host_ip}, {"host_port", p.host_port},
                     {"container_port", p.container_port}});
  json j{{"container_id", e.container_id}, {"container_name", e.container_name}, {"aliases", e.aliases},
         {"ip", ip_or_empty(e.ip)},         {"ip6", ip_or_empty(e.ip6)},           {"mac", e.mac},
         {"interface", e.interface},        {"veth", e.veth},                      {"ports", ports},
         {"active", e.active}};
  return j.dump(2) + "\n";
}

Result<Endpoint> endpoint_from_json(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return sys::user_error(origin + ": not a JSON object");
  Endpoint e;
  try {
    e.container_id = j.at("container_id").get<std::string>();
    e.container_name = j.value("container_name", "");
    if (j.contains("aliases")) e.aliases = j["aliases"].get<std::vector<std::string>>();
    e.ip = GUISE_TRY(ip_field(j, "ip", origin));
    e.ip6 = GUISE_TRY(ip_field(j, "ip6", origin));
    e.mac = j.value("mac", "");
    e.interface = j.value("interface", "");
    e.veth = j.value("veth", "");
    for (const auto& p : j.value("ports", json::array()))
      e.ports.push_back({p.value("protocol", "tcp"), p.value("host_ip", ""), p.value("host_port", uint16_t{0}),
                         p.value("container_port", uint16_t{0})});
    e.active = j.value("active", false);
  } catch (const json::exception& ex) {
    return sys::user_error(origin + ": " + ex.what());
  }
  return e;
}

Result<NetworkStore> NetworkStore::open(const std::string& store_root) {
  GUISE_TRY(make_dir(store_root));
  GUISE_TRY(make_dir(store_root + "/networks"));
  return NetworkStore(store_root + "/networks");
}

Result<sys::FileLock> NetworkStore::lock() const {
  auto held = GUISE_TRY(sys::FileLock::acquire(dir_ + "/lock"));
  // Every change happens under this lock: a temp file seen now is a killed writer's.
  for (const auto& id : entries(dir_)) {
    std::string endpoints = dir_ + "/" + id + "/endpoints";
    for (const auto& f : entries(endpoints))
      if (f.find(".tmp-") != std::string::npos) ::unlink((endpoints + "/" + f).c_str());
  }
  return held;
}

Result<std::vector<NetworkRecord>> NetworkStore::list() const {
  std::vector<NetworkRecord> out;
  for (const auto& id : entries(dir_)) {
    std::string path = dir_ + "/" + id + "/network.json";
    auto text = sys::read_file(path);
    if (!text) continue;  // a directory being made or removed
    out.push_back(GUISE_TRY(network_from_json(*text, path)));
  }
  return out;
}

Result<NetworkRecord> NetworkStore::find(const std::string& name_or_id) const {
  auto all = GUISE_TRY(list());
  for (const auto& n : all)
    if (n.name == name_or_id || n.id == name_or_id) return n;
  const NetworkRecord* match = nullptr;
  if (!name_or_id.empty())
    for (const auto& n : all)
      if (n.id.rfind(name_or_id, 0) == 0) {
        if (match) return sys::user_error("network " + name_or_id + " is ambiguous (" + match->name + ", " + n.name + ")");
        match = &n;
      }
  if (match) return *match;
  return sys::not_found("network " + name_or_id + " not found");
}

Result<void> NetworkStore::write(const NetworkRecord& n) const {
  GUISE_TRY(make_dir(network_dir(n)));
  GUISE_TRY(make_dir(network_dir(n) + "/endpoints"));
  return replace_file(network_dir(n) + "/network.json", network_to_json(n));
}

Result<void> NetworkStore::remove(const NetworkRecord& n) const {
  std::error_code ec;
  std::filesystem::remove_all(network_dir(n), ec);
  if (ec) return sys::sys_error_n(ec.value(), "removing", network_dir(n));
  return Ok();
}

Result<void> NetworkStore::write_hosts(const NetworkRecord& n, const std::string& text) const {
  return replace_file(hosts_file(n), text, 0644);
}

Result<std::vector<Endpoint>> NetworkStore::endpoints(const NetworkRecord& n) const {
  std::vector<Endpoint> out;
  std::string dir = network_dir(n) + "/endpoints";
  for (const auto& f : entries(dir)) {
    if (f.size() < 6 || f.compare(f.size() - 5, 5, ".json") != 0) continue;
    auto text = sys::read_file(dir + "/" + f);
    if (!text) continue;
    out.push_back(GUISE_TRY(endpoint_from_json(*text, dir + "/" + f)));
  }
  return out;
}

Result<std::optional<Endpoint>> NetworkStore::endpoint(const NetworkRecord& n, const std::string& container_id) const {
  std::string path = network_dir(n) + "/endpoints/" + container_id + ".json";
  auto text = sys::read_file(path);
  if (!text) return std::optional<Endpoint>();
  return std::optional<Endpoint>(GUISE_TRY(endpoint_from_json(*text, path)));
}

Result<void> NetworkStore::write_endpoint(const NetworkRecord& n, const Endpoint& e) const {
  GUISE_TRY(make_dir(network_dir(n) + "/endpoints"));
  return replace_file(network_dir(n) + "/endpoints/" + e.container_id + ".json", endpoint_to_json(e));
}

Result<void> NetworkStore::remove_endpoint(const NetworkRecord& n, const std::string& container_id) const {
  std::string path = network_dir(n) + "/endpoints/" + container_id + ".json";
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys::sys_error("unlink", path);
  return Ok();
}

}  // namespace guise::network
