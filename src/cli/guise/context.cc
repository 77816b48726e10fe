#include "cli/guise/context.h"

#include <CLI/CLI.hpp>
#include <cstdio>

namespace guise::cli {

Result<image::Store> Context::open_store() const {
  return image::Store::open(globals.root.empty() ? image::Store::default_root() : globals.root);
}

void Context::fail(const Error& e, int code) { fail(e.message(), code); }

void Context::fail(const std::string& message, int code) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  exit_code = code;
}

void RegistryFlags::add_to(CLI::App& cmd) {
  cmd.add_option("--tls-verify", tls_verify, "require HTTPS and verify certificates (true or false)")
      ->expected(0, 1)
      ->check(CLI::IsMember({"true", "false"}));
  cmd.add_option("--cert-dir", cert_dir, "directory with ca.crt, client.cert and client.key for the registry");
  cmd.add_option("--authfile", authfile, "credentials file (docker's config.json format)");
  cmd.add_option("--creds", creds, "USERNAME[:PASSWORD] for the registry");
}

void one_value_each(CLI::App& app) {
  for (CLI::Option* o : app.get_options())
    if (o->get_positional() == false && o->get_items_expected_max() > 1) o->allow_extra_args(false);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) one_value_each(*sub);
}

Result<image::RegistryOptions> RegistryFlags::options() const {
  image::RegistryOptions o;
  o.tls_verify = tls_verify != "false";
  o.tls_verify_forced = tls_verify == "true";
  o.cert_dir = cert_dir;
  o.auth_file = authfile;
  if (!creds.empty()) {
    auto colon = creds.find(':');
    if (colon == std::string::npos) return sys::user_error("--creds: expected USERNAME:PASSWORD");
    o.credentials = image::Credentials{creds.substr(0, colon), creds.substr(colon + 1)};
  }
  return o;
}

}  // namespace guise::cli
