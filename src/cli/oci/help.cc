#include "cli/oci/help.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <utility>
#include <vector>


namespace guise::cli {

namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

// urfave/cli's tabwriter: the first column as wide as its longest entry, plus 2.
std::string table(const Rows& rows) {
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  std::string out;
  for (const auto& [left, right] : rows)
    out += "   " + left + std::string(width + 2 - left.size(), ' ') + right + "\n";
  return out;
}

// "--format value, -f value", as urfave/cli names a flag that takes a value.
std::string flag_names(const CLI::Option* o) {
  std::string names, value = o->get_expected_max() == 0 ? "" : " value";  // a flag expects none
  for (const auto& l : o->get_lnames()) names += (names.empty() ? "--" : ", --") + l + value;
  for (const auto& s : o->get_snames()) names += (names.empty() ? "-" : ", -") + s + value;
  return names;
}

// What follows "[command options]" in a command's usage line.
std::string args_usage(const std::string& command) {
  static const std::map<std::string, std::string> usage = {
      {"exec", "<container-id> <command> [command options]  || -p process.json <container-id>"},
      {"kill", "<container-id> [signal]"},
      {"ps", "<container-id> [ps options]"},
      {"list", ""},
      {"spec", ""},
      {"features", ""},
      {"help", "[command]"},
  };
  auto it = usage.find(command);
  return it == usage.end() ? "<container-id>" : it->second;
}

std::vector<const CLI::App*> commands(const CLI::App* app) {
  auto subs = app->get_subcommands([](const CLI::App*) { return true; });
  std::vector<const CLI::App*> out(subs.begin(), subs.end());
  std::sort(out.begin(), out.end(), [](const CLI::App* a, const CLI::App* b) {
    // help last, as urfave/cli appends it
    if ((a->get_name() == "help") != (b->get_name() == "help")) return b->get_name() == "help";
    return a->get_name() < b->get_name();
  });
  return out;
}

}  // namespace

std::string RuncHelp::make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const {
  return app->get_parent() ? command_help(app) : program_help(app);
}

std::string RuncHelp::program_help(const CLI::App* app) const {
  const std::string& name = app->get_name();
  std::string out = "NAME:\n   " + name + " - Open Container Initiative runtime\n\n";
  if (!app->get_description().empty()) out += app->get_description() + "\n\n";
  out += "USAGE:\n   " + name + " [global options] command [command options] [arguments...]\n\n";
  out += "VERSION:\n   " + version_ + "\n\n";
  Rows cmds;
  for (const auto* sub : commands(app)) {
    std::string names = sub->get_name();
    for (const auto& alias : sub->get_aliases()) names += ", " + alias;
    cmds.emplace_back(names, sub->get_description());
  }
  out += "COMMANDS:\n" + table(cmds) + "\n";
  Rows flags;
  for (const auto* o : app->get_options()) {
    if (o->get_positional() || o == app->get_help_ptr() || o == app->get_version_ptr()) continue;
    flags.emplace_back(flag_names(o), o->get_description());
  }
  flags.emplace_back("--help, -h", "show help");
  flags.emplace_back("--version, -v", "print the version");
  out += "GLOBAL OPTIONS:\n" + table(flags);
  return out;
}

std::string RuncHelp::command_help(const CLI::App* app) const {
  std::string full = app->get_parent()->get_name() + " " + app->get_name();
  std::string out = "NAME:\n   " + full + " - " + app->get_description() + "\n\n";
  out += "USAGE:\n   " + full + " [command options] " + args_usage(app->get_name()) + "\n";
  Rows flags;
  for (const auto* o : app->get_options()) {
    if (o->get_positional() || o == app->get_help_ptr()) continue;
    flags.emplace_back(flag_names(o), o->get_description());
  }
  if (!flags.empty()) out += "\nOPTIONS:\n" + table(flags);
  return out;
}

void register_help(CLI::App& app, int& exit_code) {
  static std::string topic;
  auto* sub = app.add_subcommand("help", "Shows a list of commands or help for one command");
  sub->alias("h");
  sub->add_option("command", topic);
  sub->callback([&app, &exit_code] {
    // Through the formatter: App::help() would describe `help` itself, the command parsed.
    auto formatter = app.get_formatter();
    if (topic.empty()) {
      std::cout << formatter->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
      return;
    }
    for (const auto* cmd : app.get_subcommands([](CLI::App*) { return true; }))
      if (cmd->check_name(topic)) {
        std::cout << formatter->make_help(cmd, cmd->get_name(), CLI::AppFormatMode::Normal);
        return;
      }
    std::fprintf(stderr, "%s: No help topic for '%s'\n", app.get_name().c_str(), topic.c_str());
    exit_code = 3;  // urfave/cli's code for it
  });
}

}  // namespace guise::cli
