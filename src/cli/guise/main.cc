// guise: a daemonless engine with docker's commands, flags and output. Parsing and
// printing only; images are src/image's work.
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/guise/container_common.h"
#include "cli/guise/container_network.h"
#include "cli/guise/context.h"

using namespace guise;

int main(int argc, char** argv) {
  // A registry closing its end must be an error of the call, not the end of the process.
  std::signal(SIGPIPE, SIG_IGN);
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
