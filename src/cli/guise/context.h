// What every `guise` command shares: the global flags, the store they name, and
// docker's way of ending with an error.
#pragma once

#include <string>

#include "image/registry.h"
#include "image/store.h"
#include "sys/result.h"

namespace CLI {
class App;
}

namespace guise::cli {

struct Globals {
  std::string root;  // the store; "" = image::Store::default_root()
};

struct Context {
  Globals globals;
  int exit_code = 0;
  char** argv = nullptr;  // as main got it: what guise passes on to guise-full (transfer.h)

  Result<image::Store> open_store() const;
  // Prints "Error: MESSAGE" on stderr and sets the exit code (1, as docker's client).
  void fail(const Error& e, int code = 1);
  void fail(const std::string& message, int code = 1);
};

// The registry flags pull, push and login share (podman's names; docker has none).
struct RegistryFlags {
  std::string tls_verify;  // "", "true" (forced) or "false"
  std::string cert_dir, authfile, creds;
  void add_to(CLI::App& cmd);
  Result<image::RegistryOptions> options() const;
};

// docker's repeatable flags take one value each time (-e A -e B), never the words after
// them: `commit -c 'ENV X=1' c1 img` must leave c1 and img to the positionals. Applied
// to `app`, its subcommands and theirs, as they are when called.
void one_value_each(CLI::App& app);

void register_image_commands(CLI::App& app, Context& ctx);
void register_archive_commands(CLI::App& app, Context& ctx);
void register_login_commands(CLI::App& app, Context& ctx);
void register_system_commands(CLI::App& app, Context& ctx);

}  // namespace guise::cli
