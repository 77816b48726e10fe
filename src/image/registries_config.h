// Which registries guise talks to without TLS verification (and over plain HTTP when
// they have no TLS): those in registries.json's "insecure-registries", loopback ones
// (as docker treats them), and any when --tls-verify=false.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sys/result.h"

namespace guise::image {

struct RegistriesConfig {
  std::vector<std::string> insecure;  // "host:port", "host", or a CIDR ("10.0.0.0/8")
};

// $GUISE_REGISTRIES_CONFIG, else /etc/guise/registries.json.
std::string registries_config_path();
// A missing file is an empty config; a malformed one is an error naming it.
Result<RegistriesConfig> load_registries_config(const std::string& path);
Result<RegistriesConfig> parse_registries_config(std::string_view json, const std::string& path);

// The host of "host", "host:port", "[v6]:port" or "v6".
std::string registry_host(std::string_view domain);
// localhost, 127.0.0.0/8, ::1.
bool is_loopback_registry(std::string_view domain);
bool registry_is_insecure(std::string_view domain, bool tls_verify, const RegistriesConfig& config);

}  // namespace guise::image
