// guise: a daemonless engine with docker's commands, flags and output. Parsing and
// printing only; images are src/image's work.
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/guise/container_common.h"
#include "cli/guise/container_network.h"
#include "cli/guise/context.h"
#include "cli/guise/pod_common.h"
#include "engine/rootless_session.h"

using namespace guise;

namespace {

// The command and its first word ("system migrate" → {"system", "migrate"}), past the
// global options, read before CLI11 parses: entering the rootless namespaces must come
// before any command touches the store, and not for the few that must not enter them.
std::pair<std::string, std::string> command_words(int argc, char** argv) {
  std::vector<std::string> words;
  for (int i = 1; i < argc && words.size() < 2; ++i) {
    std::string a = argv[i];
    if (a == "--root") ++i;
    else if (a.starts_with("-")) continue;
    else words.push_back(a);
  }
  words.resize(2);
  return {words[0], words[1]};
}

// `guise --help` or `guise --version`: flags before the command only, since after it `-h`
// and `-v` are run's --hostname and --volume, and a container's own arguments follow.
bool asks_for_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h" || a == "--version" || a == "-v") return true;
    if (a == "--root") ++i;
    else if (!a.starts_with("-")) break;
  }
  return false;
}

// An unprivileged user's guise joins its user and mount namespaces first (see
// rootless_session.h). `doctor`, `info` and `system migrate` stay outside (and the few
// that need no store, below): the first two
// check what entering needs, as the user (inside, the user is root), and read the store
// as its owner; the last ends what holds the namespaces. false: it failed, and said so.
bool enter_rootless_namespaces_for(int argc, char** argv) {
  if (!engine::needs_rootless_namespaces() || asks_for_help(argc, argv)) return true;
  auto [command, sub] = command_words(argc, argv);
  // version, login and logout touch no store: they work without any subordinate range.
  if (command.empty() || command == "doctor" || command == "info" || command == "version" || command == "login" ||
      command == "logout" || (command == "system" && sub == "migrate"))
    return true;
  auto entered = engine::enter_rootless_namespaces();
  if (entered) return true;
  std::fprintf(stderr, "Error: %s\n", entered.error().message().c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // A registry closing its end must be an error of the call, not the end of the process.
  std::signal(SIGPIPE, SIG_IGN);
  if (!enter_rootless_namespaces_for(argc, argv)) return 125;
  CLI::App app{"guise runs containers from images, with docker's commands, and no daemon.", "guise"};
  app.require_subcommand(1);
  cli::Context ctx;
  ctx.argv = argv;
  app.add_option("--root", ctx.globals.root,
                 "storage root (default /var/lib/guise; $XDG_DATA_HOME/guise when not root)");
  app.set_version_flag("--version,-v", std::string("guise version ") + GUISE_VERSION);
  cli::register_image_commands(app, ctx);
  cli::register_container_commands(app, ctx);
  cli::register_container_inspect(*app.get_subcommand("container"), ctx);
  cli::register_logs_command(app, ctx);
  cli::register_run_commands(app, ctx);
  cli::register_exec_command(app, ctx);
  cli::register_attach_command(app, ctx);
  cli::register_cp_command(app, ctx);
  cli::register_port_command(app, ctx);
  cli::register_why_command(app, ctx);
  cli::register_update_command(app, ctx);
  cli::register_volume_commands(app, ctx);
  cli::register_commit_command(app, ctx);
  cli::register_export_command(app, ctx);
  cli::register_archive_commands(app, ctx);
  cli::register_login_commands(app, ctx);
  cli::register_system_commands(app, ctx);
  cli::register_network_commands(app, ctx);
  cli::register_pod_commands(app, ctx);
  cli::register_stats_command(app, ctx);
  cli::register_events_command(app, ctx);
  cli::one_value_each(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // docker's status for a command line it cannot take.
    std::fprintf(stderr, "Error: %s\nSee 'guise --help'.\n", e.what());
    return 125;
  }
  return ctx.exit_code;
}
