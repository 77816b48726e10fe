#include "cgroups/values.h"

#include <cctype>

namespace guise::cgroups {

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;  // the kernel's minimum; keeps the formula from wrapping
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  if (weight < 10) weight = 10;
  return 1 + (weight - 10) * 9999 / 990;
}

std::string pids_max(int64_t limit) { return limit > 0 ? std::to_string(limit) : "max"; }

namespace {

// Splits "50000 100000" / "max 100000" into its two words.
std::pair<std::string, std::string> split_cpu_max(std::string_view current) {
  while (!current.empty() && std::isspace(static_cast<unsigned char>(current.back()))) current.remove_suffix(1);
  auto space = current.find(' ');
  if (space == std::string_view::npos) return {std::string(current), ""};
  return {std::string(current.substr(0, space)), std::string(current.substr(space + 1))};
}

}  // namespace

std::string cpu_max(std::optional<int64_t> quota, std::optional<uint64_t> period, std::string_view current) {
  bool set_quota = quota && *quota != 0;
  bool set_period = period && *period != 0;
  if (!set_quota && !set_period) return "";
  auto [cur_quota, cur_period] = split_cpu_max(current);
  std::string q = set_quota ? (*quota > 0 ? std::to_string(*quota) : "max") : (cur_quota.empty() ? "max" : cur_quota);
  std::string p = set_period ? std::to_string(*period) : cur_period;
  return p.empty() ? q : q + " " + p;
}

std::string v2_memory_value(int64_t bytes) {
  if (bytes == 0) return "";
  if (bytes < 0) return "max";
  return std::to_string(bytes);
}

Result<std::string> v2_swap_max(std::optional<int64_t> swap, std::optional<int64_t> limit) {
  int64_t total = swap.value_or(0), memory = limit.value_or(0);
  if (memory == -1 && total == 0) return std::string("max");  // "unlimited memory" lifts swap too
  if (total == 0) return std::string();
  if (total == -1) return std::string("max");
  if (total < -1) return sys::user_error("invalid swap value " + std::to_string(total));
  if (memory == 0 || memory == -1) return sys::user_error("a swap limit needs a memory limit");
  if (memory < 0) return sys::user_error("invalid memory value " + std::to_string(memory));
  if (total < memory)
    return sys::user_error("memory+swap limit " + std::to_string(total) + " is below the memory limit " +
                           std::to_string(memory));
  return std::to_string(total - memory);
}

std::string device_value(int64_t major, int64_t minor, uint64_t value) {
  return std::to_string(major) + ":" + std::to_string(minor) + " " + std::to_string(value);
}

std::string kernel_memory_ignored(std::string_view field, std::string_view why) {
  return std::string(field) + ": kernel memory settings are ignored (" + std::string(why) + ")";
}

std::vector<std::string> io_max_lines(const oci::BlockIoResources& blkio) {
  std::vector<std::string> lines;
  auto add = [&](const std::vector<oci::ThrottleDevice>& devices, const char* key) {
    for (const auto& d : devices)
      lines.push_back(std::to_string(d.major) + ":" + std::to_string(d.minor) + " " + key + "=" +
                      (d.rate == 0 ? std::string("max") : std::to_string(d.rate)));
  };
  add(blkio.throttle_read_bps_device, "rbps");
  add(blkio.throttle_write_bps_device, "wbps");
  add(blkio.throttle_read_iops_device, "riops");
  add(blkio.throttle_write_iops_device, "wiops");
  return lines;
}

Result<std::string> device_rule_line(const oci::DeviceRule& rule) {
  std::string type = rule.type.empty() ? "a" : rule.type;
  if (type != "a" && type != "b" && type != "c")
    return sys::user_error("device type \"" + rule.type + "\" is not one of a, b, c");
  std::string access = rule.access.empty() ? "rwm" : rule.access;
  for (char c : access)
    if (c != 'r' && c != 'w' && c != 'm')
      return sys::user_error("device access \"" + rule.access + "\" is not a subset of rwm");
  auto number = [](const std::optional<int64_t>& n) { return n && *n >= 0 ? std::to_string(*n) : std::string("*"); };
  return type + " " + number(rule.major) + ":" + number(rule.minor) + " " + access;
}

std::string rdma_line(const std::string& device, const oci::RdmaLimit& limit) {
  if (!limit.hca_handles && !limit.hca_objects) return "";
  std::string line = device;
  if (limit.hca_handles) line += " hca_handle=" + std::to_string(*limit.hca_handles);
  if (limit.hca_objects) line += " hca_object=" + std::to_string(*limit.hca_objects);
  return line;
}

Result<void> check_page_size(std::string_view size) {
  size_t digits = 0;
  while (digits < size.size() && std::isdigit(static_cast<unsigned char>(size[digits]))) ++digits;
  auto unit = size.substr(digits);
  if (digits == 0 || (unit != "KB" && unit != "MB" && unit != "GB"))
    return sys::user_error("hugepage size \"" + std::string(size) + "\" is not like 2MB or 1GB");
  return Ok();
}

Result<void> check_unified_key(std::string_view key) {
  if (key.empty() || key.find('/') != std::string_view::npos || key.find("..") != std::string_view::npos)
    return sys::user_error("\"" + std::string(key) + "\" is not a cgroup file name (no '/' or '..' allowed)");
  if (key == "cgroup.procs" || key == "cgroup.threads" || key == "cgroup.kill")
    return sys::user_error("\"" + std::string(key) + "\" moves or kills processes; it is not a resource");
  return Ok();
}

}  // namespace guise::cgroups
