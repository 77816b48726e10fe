// guise-oci: runc's command line, flag for flag. Parsing and output only; the work
// is in the runtime library, reached through runtime/runtime.h.
#include <seccomp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>

#include "cli/oci/commands.h"
#include "cli/oci/help.h"
#include "cli/common/log.h"
#include "guise_commit.h"
#include "oci/spec.h"

using namespace guise;

namespace {

int run(int argc, char** argv) {
  CLI::App app{
      "guise-oci runs containers from OCI bundles (a config.json and a root filesystem), with runc's\n"
      "command line, flag for flag, so that engines can use it in place of runc.\n\n"
      "To start a new instance of a container:\n\n"
      "    # guise-oci run [ -b bundle ] <container-id>",
      "guise-oci"};
  app.require_subcommand(1);
  cli::Options opt;
  opt.globals.root.clear();
  app.add_option("--root", opt.globals.root, "root directory for container state (default /run/guise; $XDG_RUNTIME_DIR/guise when not root)");
  app.add_option("--log", opt.log_path, "log file (default: stderr only)");
  app.add_option("--log-format", opt.log_format, "log format: text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", opt.debug, "enable debug output");
  app.add_flag("--systemd-cgroup", opt.systemd_cgroup, "use systemd to manage cgroups");
  app.add_option("--rootless", opt.rootless, "auto, true or false")->check(CLI::IsMember({"auto", "true", "false"}));
  app.add_option("--criu", opt.criu, "path to criu (for checkpoint)");
  const struct scmp_version* sv = seccomp_version();
  // runc's lines, less go's: the commit is `git describe` at build time ("unknown" outside git).
  std::string version_lines = std::string(GUISE_VERSION) + "\ncommit: " + GUISE_COMMIT + "\nspec: " +
                              oci::kSpecVersion + "\nlibseccomp: " + std::to_string(sv->major) + "." +
                              std::to_string(sv->minor) + "." + std::to_string(sv->micro);
  std::string version = "guise-oci version " + version_lines;
  app.set_version_flag("--version,-v", version);
  // Answered before parsing: CLI11 reports --version by throwing, and the first throw in
  // a static binary has libgcc sort every unwind entry of it (2 ms of a 3 ms call).
  if (argc == 2 && (std::string_view(argv[1]) == "--version" || std::string_view(argv[1]) == "-v")) {
    std::cout << version << "\n";
    return 0;
  }

  // The command word: the first argument that is neither a global flag nor its value.
  std::string command;
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") help = true;  // anywhere: then every command is registered
    if (!command.empty()) continue;
    if (a == "--root" || a == "--log" || a == "--log-format" || a == "--rootless" || a == "--criu") {
      ++i;
      continue;
    }
    if (!a.empty() && a[0] != '-') command = a;
  }
  app.formatter(std::make_shared<cli::RuncHelp>(version_lines));
  bool help_command = command == "help" || command == "h";
  cli::register_commands(app, opt, cli::Only{help || help_command ? "" : command});
  if (help || help_command) cli::register_help(app, opt.exit_code);
  // runc's wording for a command it does not have; CLI11 would only say one is required.
  if (!command.empty()) {
    bool known = false;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->check_name(command)) known = true;
    if (!known) {
      std::fprintf(stderr, "guise-oci: unknown command \"%s\" (see guise-oci --help)\n", command.c_str());
      return 1;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    std::cout << version << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "guise-oci: %s\n", e.what());
    return 1;
  }
  return opt.exit_code;
}

}  // namespace

// The library reports errors as values; this is a last resort, so that nothing a
// library throws aborts the runtime (exit 134, a core) half way through a command.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "guise-oci: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "guise-oci: internal error: unknown exception\n");
  }
  return 1;
}
