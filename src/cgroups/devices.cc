#include "cgroups/devices.h"

namespace guise::cgroups {

std::vector<oci::DeviceRule> default_device_rules() {
  auto allow = [](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor, const char* access) {
    return oci::DeviceRule{true, type, major, minor, access};
  };
  return {
      allow("c", std::nullopt, std::nullopt, "m"),  // mknod, not use
      allow("b", std::nullopt, std::nullopt, "m"),
      allow("c", 1, 3, "rwm"),               // /dev/null
      allow("c", 1, 8, "rwm"),               // /dev/random
      allow("c", 1, 7, "rwm"),               // /dev/full
      allow("c", 5, 0, "rwm"),               // /dev/tty
      allow("c", 1, 5, "rwm"),               // /dev/zero
      allow("c", 1, 9, "rwm"),               // /dev/urandom
      allow("c", 136, std::nullopt, "rwm"),  // /dev/pts/*
      allow("c", 5, 2, "rwm"),               // /dev/ptmx
  };
}

}  // namespace guise::cgroups
