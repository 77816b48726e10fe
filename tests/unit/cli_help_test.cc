// guise-oci's help in runc's (urfave/cli's) layout.
#include "cli/oci/help.h"

#include <gtest/gtest.h>

namespace {

struct Sample {
  CLI::App app{"what it is", "prog"};
  std::string root, format;
  bool debug = false, all = false;
  Sample() {
    app.formatter(std::make_shared<guise::cli::RuncHelp>("1.0\ncommit: abc"));
    app.add_option("--root", root, "state here");
    app.add_flag("--debug", debug, "more output");
    auto* kill = app.add_subcommand("kill", "send a signal");
    kill->add_flag("-a,--all", all, "to every process");
    kill->add_option("id", root);
    auto* list = app.add_subcommand("list", "list containers");
    list->alias("ls");
    list->add_option("-f,--format", format, "table or json");
  }
};

}  // namespace

TEST(CliHelp, ProgramInRuncsLayout) {
  Sample s;
  EXPECT_EQ(s.app.help(),
            "NAME:\n   prog - Open Container Initiative runtime\n\n"
            "what it is\n\n"
            "USAGE:\n   prog [global options] command [command options] [arguments...]\n\n"
            "VERSION:\n   1.0\ncommit: abc\n\n"
            "COMMANDS:\n"
            "   kill      send a signal\n"
            "   list, ls  list containers\n\n"
            "GLOBAL OPTIONS:\n"
            "   --root value   state here\n"
            "   --debug        more output\n"
            "   --help, -h     show help\n"
            "   --version, -v  print the version\n");
}

TEST(CliHelp, CommandInRuncsLayout) {
  Sample s;
  const CLI::App* kill = s.app.get_subcommand("kill");
  EXPECT_EQ(s.app.get_formatter()->make_help(kill, "kill", CLI::AppFormatMode::Normal),
            "NAME:\n   prog kill - send a signal\n\n"
            "USAGE:\n   prog kill [command options] <container-id> [signal]\n\n"
            "OPTIONS:\n   --all, -a  to every process\n");
  const CLI::App* list = s.app.get_subcommand("list");
  EXPECT_EQ(s.app.get_formatter()->make_help(list, "list", CLI::AppFormatMode::Normal),
            "NAME:\n   prog list - list containers\n\n"
            "USAGE:\n   prog list [command options] \n\n"
            "OPTIONS:\n   --format value, -f value  table or json\n");
}
