// Each parser follows the docker CLI function named beside it (docker/cli opts/*.go,
// go-connections nat, go-units), and keeps its error words.
#include "cli/guise/run_flag_values.h"
#include "sys/text.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/common/size.h"
#include "linux/capabilities.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

// Go's strings.Cut.
bool cut(const std::string& s, char sep, std::string& before, std::string& after) {
  size_t p = s.find(sep);
  if (p == std::string::npos) {
    before = s;
    after.clear();
    return false;
  }
  before = s.substr(0, p);
  after = s.substr(p + 1);
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// strconv.ParseUint(s, 10, bits)
std::optional<uint64_t> parse_uint(const std::string& s, int bits) {
  if (!all_digits(s)) return std::nullopt;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (errno == ERANGE) return std::nullopt;
  if (bits < 64 && v >= (1ULL << bits)) return std::nullopt;
  return v;
}

bool absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

std::string mount_path_error(const char* type, const std::string& path) {
  return std::string("invalid mount config for type \"") + type + "\": invalid mount path: '" + path +
         "' mount path must be absolute";
}

std::string volume_name_error(const std::string& name) {
  return "\"" + name +
         "\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are "
         "allowed. If you intended to pass a host directory, use absolute path";
}

// docker's linux volume modes (volume/mounts/linux_parser.go ValidMountMode): at most one
// of each kind.
bool valid_volume_mode(const std::string& mode) {
  if (mode.empty()) return true;
  int rw = 0, label = 0, propagation = 0, copy = 0, consistency = 0;
  for (const auto& m : sys::split(mode, ',')) {
    if (m == "rw" || m == "ro") ++rw;
    else if (m == "z" || m == "Z") ++label;
    else if (m == "shared" || m == "rshared" || m == "slave" || m == "rslave" || m == "private" || m == "rprivate")
      ++propagation;
    else if (m == "nocopy") ++copy;
    else if (m == "consistent" || m == "cached" || m == "delegated") ++consistency;
    else return false;
  }
  return rw <= 1 && label <= 1 && propagation <= 1 && copy <= 1 && consistency <= 1;
}

// A relative bind source starting with "." is taken from the working directory, as docker's CLI does.
std::string absolute_source(const std::string& src) {
  if (src.empty() || src[0] != '.') return src;
  char buf[4096];
  if (!::getcwd(buf, sizeof buf)) return src;
  std::string base = buf;
  std::string rest = src == "." ? "" : (src.rfind("./", 0) == 0 ? src.substr(2) : src);
  return rest.empty() ? base : base + "/" + rest;
}

// nat.ParsePortRange
bool parse_port_range(const std::string& s, uint64_t& start, uint64_t& end) {
  if (s.empty()) return false;
  std::string a, b;
  if (!cut(s, '-', a, b)) {
    auto v = parse_uint(s, 16);
    if (!v) return false;
    start = end = *v;
    return true;
  }
  auto va = parse_uint(a, 16), vb = parse_uint(b, 16);
  if (!va || !vb || *vb < *va) return false;
  start = *va;
  end = *vb;
  return true;
}

// nat.SplitProtoPort
void split_proto_port(const std::string& raw, std::string& proto, std::string& port) {
  auto parts = sys::split(raw, '/');
  if (raw.empty() || parts[0].empty()) {
    proto.clear();
    port.clear();
    return;
  }
  port = parts[0];
  proto = parts.size() == 1 || parts[1].empty() ? "tcp" : parts[1];
}

bool valid_ip(std::string ip) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (ip.find(':') != std::string::npos)  // IPv6: hex groups and colons (and a dotted tail)
    return std::all_of(ip.begin(), ip.end(), [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; });
  auto parts = sys::split(ip, '.');
  if (parts.size() != 4) return false;
  for (const auto& p : parts) {
    auto v = parse_uint(p, 64);
    if (!v || *v > 255 || p.size() > 3) return false;
  }
  return true;
}

const std::set<std::string> kUlimitNames = {"core",  "cpu",    "data",    "fsize",  "locks",
                                             "memlock", "msgqueue", "nice", "nofile", "nproc",
                                             "rss",   "rtprio", "rttime", "sigpending", "stack"};

}  // namespace

Error invalid_argument(const std::string& value, const std::string& flag, const std::string& why) {
  return sys::user_error("invalid argument \"" + value + "\" for \"" + flag + "\" flag: " + why);
}

Result<int64_t> parse_size_flag(const std::string& text, const std::string& flag, bool allow_unlimited) {
  if (text == "-1" && allow_unlimited) return int64_t{-1};
  auto bad = [&] { return invalid_argument(text, flag, "invalid size: '" + text + "'"); };
  if (text.empty() || text[0] == '-') return bad();
  auto r = parse_ram_bytes(text, flag);
  if (!r) return bad();
  return r.value();
}

Result<int64_t> parse_cpus(const std::string& text, long host_cpus) {
  const std::string flag = "--cpus";
  char* end = nullptr;
  errno = 0;
  double cpus = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || errno == ERANGE || !std::isfinite(cpus))
    return invalid_argument(text, flag, "failed to parse " + text + " as a rational number");
  double nano = cpus * 1e9;
  if (std::fabs(nano - std::round(nano)) > 1e-3) return invalid_argument(text, flag, "value is too precise");
  auto value = static_cast<int64_t>(std::llround(nano));
  if (value == 0) return int64_t{0};  // docker: 0 means unset
  if (value < 10'000'000 || value > host_cpus * 1'000'000'000LL)
    return invalid_argument(text, flag,
                            "range of CPUs is from 0.01 to " + std::to_string(host_cpus) + ".00, as there are only " +
                                std::to_string(host_cpus) + " CPUs available");
  return value;
}

Result<std::string> parse_env(const std::string& text, const EnvLookup& env) {
  std::string key, value;
  bool has = cut(text, '=', key, value);
  if (key.empty()) return sys::user_error("invalid environment variable: " + text);
  if (has) return text;
  if (auto v = env(key)) return key + "=" + *v;
  return text;
}

Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& path,
                                                const EnvLookup& env) {
  std::vector<std::string> out;
  std::string body = text.rfind("\xEF\xBB\xBF", 0) == 0 ? text.substr(3) : text;  // a UTF-8 BOM
  for (auto line : sys::split(body, '\n')) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    std::string trimmed = first == std::string::npos ? "" : line.substr(first);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    std::string key, value;
    bool has = cut(trimmed, '=', key, value);
    if (key.find_first_of(" \t") != std::string::npos)
      return sys::user_error("poorly formatted environment: variable '" + key + "' contains whitespaces (in " + path +
                             ")");
    if (key.empty()) return sys::user_error("poorly formatted environment: no variable name on line '" + line +
                                            "' (in " + path + ")");
    if (has) out.push_back(key + "=" + value);
    else if (auto v = env(trimmed)) out.push_back(trimmed + "=" + *v);
    else out.push_back(trimmed);
  }
  return out;
}

std::vector<std::string> parse_label_file(const std::string& text) {
  std::vector<std::string> out;
  for (auto line : sys::split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    out.push_back(line.substr(first));
  }
  return out;
}

Result<void> add_volume(const std::string& text, engine::HostConfig& h, engine::ContainerConfig& c) {
  auto spec_error = [&](const std::string& why) {
    return sys::user_error("invalid volume specification: '" + text + "'" + (why.empty() ? "" : ": " + why));
  };
  auto parts = sys::split(text, ':');
  if (parts[0].empty() || parts.size() > 3) return spec_error("");
  std::string src, dst, mode;
  if (parts.size() == 1) {
    dst = parts[0];
  } else if (parts.size() == 2) {
    if (valid_volume_mode(parts[1])) return spec_error("");  // "/foo:rw": a volume has no mode without a source
    src = parts[0];
    dst = parts[1];
  } else {
    src = parts[0];
    dst = parts[1];
    mode = parts[2];
  }
  if (!valid_volume_mode(mode)) return sys::user_error("invalid mode: " + mode);
  bool bind = !src.empty() && (src[0] == '/' || src[0] == '.');
  const char* type = bind ? "bind" : "volume";
  if (!absolute(dst)) return spec_error(mount_path_error(type, dst));
  if (dst == "/") return sys::user_error("invalid specification: destination can't be '/'");
  if (src.empty()) {
    c.volumes.insert(dst);
    return Ok();
  }
  if (!bind && !valid_name(src)) return spec_error(volume_name_error(src));
  std::string stored = bind ? absolute_source(src) : src;
  stored += ":" + dst;
  if (!mode.empty()) stored += ":" + mode;
  h.binds.push_back(stored);
  return Ok();
}

Result<engine::MountSpec> parse_mount(const std::string& text) {
  const std::string flag = "--mount";
  engine::MountSpec m;
  m.type = "volume";
  auto bind = [&]() -> engine::BindOptions& { if (!m.bind_options) m.bind_options.emplace(); return *m.bind_options; };
  auto volume = [&]() -> engine::VolumeOptions& { if (!m.volume_options) m.volume_options.emplace(); return *m.volume_options; };
  auto tmpfs = [&]() -> engine::TmpfsOptions& { if (!m.tmpfs_options) m.tmpfs_options.emplace(); return *m.tmpfs_options; };
  auto parse_bool = [&](const std::string& key, const std::string& v) -> Result<bool> {
    std::string l = lower(v);
    if (l == "1" || l == "t" || l == "true") return true;
    if (l == "0" || l == "f" || l == "false") return false;
    return invalid_argument(text, flag, "invalid value for " + key + ": " + v);
  };
  for (const auto& field : sys::split(text, ',')) {
    std::string key, value;
    bool has = cut(field, '=', key, value);
    key = lower(key);
    if (!has) {
      if (key == "readonly" || key == "ro") m.read_only = true;
      else if (key == "volume-nocopy") volume().no_copy = true;
      else if (key == "bind-nonrecursive") bind().non_recursive = true;
      else return invalid_argument(text, flag, "invalid field '" + field + "' must be a key=value pair");
      continue;
    }
    if (key == "type") m.type = lower(value);
    else if (key == "source" || key == "src") m.source = value;
    else if (key == "target" || key == "dst" || key == "destination") m.target = value;
    else if (key == "readonly" || key == "ro") m.read_only = GUISE_TRY(parse_bool(key, value));
    else if (key == "consistency") continue;
    else if (key == "bind-propagation") bind().propagation = lower(value);
    else if (key == "bind-nonrecursive") bind().non_recursive = GUISE_TRY(parse_bool(key, value));
    else if (key == "volume-nocopy") volume().no_copy = GUISE_TRY(parse_bool(key, value));
    else if (key == "volume-subpath") volume().subpath = value;
    else if (key == "volume-label") {
      std::string k, v;
      cut(value, '=', k, v);
      volume().labels[k] = v;
    } else if (key == "tmpfs-size") {
      auto r = parse_ram_bytes(value, key);
      if (!r || value[0] == '-') return invalid_argument(text, flag, "invalid value for " + key + ": " + value);
      tmpfs().size_bytes = r.value();
    } else if (key == "tmpfs-mode") {
      char* end = nullptr;
      errno = 0;
      unsigned long mode = std::strtoul(value.c_str(), &end, 8);
      if (value.empty() || *end || errno || mode > 07777 || value[0] == '-')
        return invalid_argument(text, flag, "invalid value for " + key + ": " + value);
      tmpfs().mode = static_cast<uint32_t>(mode);
    } else {
      return invalid_argument(text, flag, "unexpected key '" + key + "' in '" + field + "'");
    }
  }
  if (m.type != "bind" && m.type != "volume" && m.type != "tmpfs")
    return invalid_argument(text, flag, "mount type '" + m.type + "' is not supported");
  if (m.target.empty()) return invalid_argument(text, flag, "target is required");
  for (auto [set, kind] : {std::pair{m.volume_options.has_value(), "volume"}, {m.bind_options.has_value(), "bind"},
                           {m.tmpfs_options.has_value(), "tmpfs"}})
    if (set && m.type != kind)
      return invalid_argument(text, flag,
                              std::string("cannot mix '") + kind + "-*' options with mount type '" + m.type + "'");
  const std::string config = "invalid mount config for type \"" + m.type + "\": ";
  if (!absolute(m.target)) return invalid_argument(text, flag, mount_path_error(m.type.c_str(), m.target));
  if (m.type == "bind") {
    if (m.source.empty()) return invalid_argument(text, flag, config + "field Source must not be empty");
    m.source = absolute_source(m.source);
    if (!absolute(m.source)) return invalid_argument(text, flag, config + "invalid mount path: '" + m.source + "' mount path must be absolute");
    static const std::set<std::string> kPropagation = {"", "private", "rprivate", "shared", "rshared", "slave", "rslave"};
    if (m.bind_options && !kPropagation.count(m.bind_options->propagation))
      return invalid_argument(text, flag, config + "invalid propagation mode: " + m.bind_options->propagation);
  } else if (m.type == "tmpfs") {
    if (!m.source.empty()) return invalid_argument(text, flag, config + "field Source must not be specified");
  } else if (!m.source.empty() && !valid_name(m.source)) {
    return invalid_argument(text, flag, config + volume_name_error(m.source));
  }
  return m;
}

Result<std::pair<std::string, std::string>> parse_tmpfs(const std::string& text) {
  std::string dst, options;
  cut(text, ':', dst, options);
  if (!absolute(dst)) return invalid_argument(text, "--tmpfs", mount_path_error("tmpfs", dst));
  static const std::set<std::string> kFlags = {"rw",    "ro",     "exec",     "noexec", "suid",    "nosuid",
                                               "dev",   "nodev",  "atime",    "noatime", "relatime", "strictatime",
                                               "diratime", "nodiratime", "sync", "async", "dirsync", "mand", "nomand",
                                               "tmpcopyup", "notmpcopyup"};
  static const std::set<std::string> kKeyed = {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"};
  if (!options.empty())
    for (const auto& o : sys::split(options, ',')) {
      std::string k, v;
      bool keyed = cut(o, '=', k, v);
      if (keyed ? !kKeyed.count(k) : !kFlags.count(o))
        return invalid_argument(text, "--tmpfs", "invalid tmpfs option [\"" + o + "\"]");
    }
  return std::pair{dst, options};
}

Result<void> add_publish(const std::string& text, engine::HostConfig& h, engine::ContainerConfig& c) {
  const std::string flag = "-p, --publish";
  auto parts = sys::split(text, ':');
  std::string container_part = parts.back(), host_port, ip;
  if (parts.size() == 2) host_port = parts[0];
  else if (parts.size() >= 3) {
    host_port = parts[parts.size() - 2];
    for (size_t i = 0; i + 2 < parts.size(); ++i) ip += (i ? ":" : "") + parts[i];
  }
  std::string proto, container_port;
  split_proto_port(container_part, proto, container_port);
  if (ip.size() >= 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  if (!ip.empty() && !valid_ip(ip)) return invalid_argument(text, flag, "invalid IP address: " + ip);
  if (container_port.empty()) return invalid_argument(text, flag, "no port specified: " + text + "<empty>");
  uint64_t start = 0, end = 0, host_start = 0, host_end = 0;
  if (!parse_port_range(container_port, start, end))
    return invalid_argument(text, flag, "invalid containerPort: " + container_port);
  if (!host_port.empty() && !parse_port_range(host_port, host_start, host_end))
    return invalid_argument(text, flag, "invalid hostPort: " + host_port);
  if (!host_port.empty() && end - start != host_end - host_start && end != start)
    return invalid_argument(text, flag, "invalid ranges specified for container and host Ports: " + container_port +
                                            " and " + host_port);
  proto = lower(proto);
  if (proto != "tcp" && proto != "udp" && proto != "sctp") return invalid_argument(text, flag, "invalid proto: " + proto);
  for (uint64_t i = 0; i <= end - start; ++i) {
    std::string key = std::to_string(start + i) + "/" + proto;
    std::string hp;
    if (!host_port.empty()) {
      hp = std::to_string(host_start + i);
      if (end == start && host_start != host_end) hp += "-" + std::to_string(host_end);
    }
    h.port_bindings[key].push_back({ip, hp});
    c.exposed_ports.insert(key);
  }
  return Ok();
}

Result<void> add_expose(const std::string& text, engine::ContainerConfig& c) {
  std::string proto, port;
  split_proto_port(text, proto, port);
  uint64_t start = 0, end = 0;
  if (!parse_port_range(port, start, end)) return invalid_argument(text, "--expose", "invalid range format for --expose: " + text);
  proto = lower(proto);
  if (proto != "tcp" && proto != "udp" && proto != "sctp") return invalid_argument(text, "--expose", "invalid proto: " + proto);
  for (uint64_t p = start; p <= end; ++p) c.exposed_ports.insert(std::to_string(p) + "/" + proto);
  return Ok();
}

Result<engine::RestartPolicy> parse_restart(const std::string& text) {
  const std::string flag = "--restart";
  engine::RestartPolicy p;
  std::string name, count;
  bool has = cut(text, ':', name, count);
  if (has && name.empty())
    return invalid_argument(text, flag, "invalid restart policy format: no policy provided before colon");
  if (!count.empty()) {
    bool negative = count[0] == '-';
    auto v = parse_uint(negative ? count.substr(1) : count, 31);
    if (!v) return invalid_argument(text, flag, "invalid restart policy format: maximum retry count must be an integer");
    p.maximum_retry_count = negative ? -static_cast<int>(*v) : static_cast<int>(*v);
  }
  p.name = name.empty() ? "no" : name;
  if (p.name == "no" || p.name == "always" || p.name == "unless-stopped") {
    if (p.maximum_retry_count != 0)
      return invalid_argument(text, flag,
                              std::string("invalid restart policy: maximum retry count can only be used with 'on-failure'") +
                                  (p.maximum_retry_count < 0 ? " and cannot be negative" : ""));
  } else if (p.name == "on-failure") {
    if (p.maximum_retry_count < 0)
      return invalid_argument(text, flag, "invalid restart policy: maximum retry count cannot be negative");
  } else {
    return invalid_argument(text, flag,
                            "invalid restart policy: unknown policy '" + p.name +
                                "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
  }
  return p;
}

Result<engine::Ulimit> parse_ulimit(const std::string& text) {
  const std::string flag = "--ulimit";
  std::string name, limits;
  if (!cut(text, '=', name, limits)) return invalid_argument(text, flag, "invalid ulimit argument: " + text);
  if (!kUlimitNames.count(name)) return invalid_argument(text, flag, "invalid ulimit type: " + name);
  auto parse = [&](const std::string& s) -> Result<int64_t> {
    bool negative = !s.empty() && s[0] == '-';
    auto v = parse_uint(negative ? s.substr(1) : s, 63);
    if (!v) return invalid_argument(text, flag, "strconv.ParseInt: parsing \"" + s + "\": invalid syntax");
    return negative ? -static_cast<int64_t>(*v) : static_cast<int64_t>(*v);
  };
  std::string soft_text, hard_text;
  bool has_hard = cut(limits, ':', soft_text, hard_text);
  if (has_hard && hard_text.find(':') != std::string::npos)
    return invalid_argument(text, flag, "too many limit value arguments - " + limits +
                                            ", can only have up to two, `soft[:hard]`");
  engine::Ulimit u{name, 0, 0};
  u.soft = GUISE_TRY(parse(soft_text));
  u.hard = has_hard ? GUISE_TRY(parse(hard_text)) : u.soft;
  if (u.soft > u.hard)
    return invalid_argument(text, flag, "ulimit soft limit must be less than or equal to hard limit: " +
                                            std::to_string(u.soft) + " > " + std::to_string(u.hard));
  return u;
}

Result<std::pair<std::string, std::string>> parse_sysctl(const std::string& text) {
  static const std::set<std::string> kAllowed = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                                 "kernel.sem",    "kernel.shmall", "kernel.shmmax",
                                                 "kernel.shmmni", "kernel.shm_rmid_forced"};
  std::string key, value;
  bool has = cut(text, '=', key, value);
  bool ok = has && (kAllowed.count(key) || key.rfind("net.", 0) == 0 || key.rfind("fs.mqueue.", 0) == 0);
  if (!ok) return invalid_argument(text, "--sysctl", "sysctl '" + text + "' is not allowed");
  return std::pair{key, value};
}

Result<engine::DeviceMapping> parse_device(const std::string& text) {
  const std::string flag = "--device";
  auto valid_mode = [](const std::string& m) {
    if (m.empty() || m.size() > 3) return false;
    std::set<char> seen;
    for (char c : m)
      if ((c != 'r' && c != 'w' && c != 'm') || !seen.insert(c).second) return false;
    return true;
  };
  auto parts = sys::split(text, ':');
  engine::DeviceMapping d{"", "", "rwm"};
  if (parts.size() > 3) return invalid_argument(text, flag, "invalid device specification: " + text);
  if (parts.size() == 3) d.cgroup_permissions = parts[2];
  if (parts.size() >= 2) {
    if (parts.size() == 2 && valid_mode(parts[1])) d.cgroup_permissions = parts[1];
    else d.path_in_container = parts[1];
  }
  d.path_on_host = parts[0];
  if (d.path_in_container.empty()) d.path_in_container = d.path_on_host;
  if (!valid_mode(d.cgroup_permissions)) return invalid_argument(text, flag, "bad mode specified: " + d.cgroup_permissions);
  if (!absolute(d.path_on_host)) return invalid_argument(text, flag, d.path_on_host + " is not an absolute path");
  if (!absolute(d.path_in_container))
    return invalid_argument(text, flag, d.path_in_container + " is not an absolute path");
  return d;
}

Result<engine::ThrottleDevice> parse_throttle(const std::string& text, const std::string& flag, bool bytes) {
  std::string path, rate;
  if (!cut(text, ':', path, rate) || path.empty()) return invalid_argument(text, flag, "bad format: " + text);
  if (path.rfind("/dev/", 0) != 0) return invalid_argument(text, flag, "bad format for device path: " + text);
  if (bytes) {
    auto r = parse_ram_bytes(rate, flag);
    if (!r || rate.empty() || rate[0] == '-')
      return invalid_argument(text, flag, "invalid rate for device: " + text +
                                              ". The correct format is <device-path>:<number>[<unit>]. Number must be "
                                              "a positive integer. Unit is optional and can be kb, mb, or gb");
    return engine::ThrottleDevice{path, static_cast<uint64_t>(r.value())};
  }
  auto v = parse_uint(rate, 64);
  if (!v)
    return invalid_argument(text, flag, "invalid rate for device: " + text +
                                            ". The correct format is <device-path>:<number>. Number must be a "
                                            "positive integer");
  return engine::ThrottleDevice{path, *v};
}

Result<std::string> parse_security_opt(const std::string& text) {
  std::string key, value;
  bool has = cut(text, '=', key, value);
  if (!has && key != "no-new-privileges") has = cut(text, ':', key, value);
  auto bad = [&] { return sys::user_error("Invalid --security-opt: \"" + text + "\""); };
  if ((!has || value.empty()) && key != "no-new-privileges") return bad();
  static const std::set<std::string> kKeys = {"seccomp", "apparmor", "label", "no-new-privileges", "systempaths",
                                              "writable-cgroups"};
  if (!kKeys.count(key)) return bad();
  if (key == "no-new-privileges" && has && value != "true" && value != "false") return bad();
  if (key == "systempaths" && value != "unconfined") return bad();
  if (key != "seccomp" || value == "unconfined" || value == "builtin") return text;
  auto content = sys::read_file(value);
  if (!content) return sys::user_error("opening seccomp profile (" + value + ") failed: " + content.error().message());
  auto json = nlohmann::json::parse(content.value(), nullptr, false);
  if (json.is_discarded()) return sys::user_error("compacting json for seccomp profile (" + value + ") failed");
  return "seccomp=" + json.dump();
}

Result<void> check_capability(const std::string& text, const std::string& flag) {
  std::string name = text;
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name == "ALL") return Ok();
  if (name.rfind("CAP_", 0) != 0) name = "CAP_" + name;
  if (!linux::capability_number(name)) return invalid_argument(text, flag, "unknown capability: \"" + name + "\"");
  return Ok();
}

bool valid_name(const std::string& name) {
  if (name.size() < 2 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin() + 1, name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

Result<void> check_userns(const std::string& text) {
  if (text.empty() || text == "host") return Ok();
  for (const auto& range : sys::split(text, ',')) {
    auto f = sys::split(range, ':');
    bool ok = f.size() == 3;
    for (const auto& n : f) ok = ok && parse_uint(n, 32).has_value();
    if (ok && *parse_uint(f[2], 32) == 0) ok = false;
    if (!ok)
      return invalid_argument(text, "--userns",
                              "invalid USER mode: use host, or a map CONTAINER_ID:HOST_ID:SIZE[,CONTAINER_ID:HOST_ID:SIZE]");
  }
  return Ok();
}

}  // namespace guise::cli
