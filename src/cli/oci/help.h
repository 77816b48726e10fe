// Help in runc's shape (urfave/cli 1.22's templates, which scripts and people read):
// NAME, USAGE, VERSION, COMMANDS and GLOBAL OPTIONS for the program; NAME, USAGE and
// OPTIONS for a command; and the `help [command]` command, "No help topic for 'x'"
// (exit 3) for one it does not have.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace guise::cli {

class RuncHelp : public CLI::FormatterBase {
 public:
  // `version`: what --version prints, its first line's "PROGRAM version " left out.
  explicit RuncHelp(std::string version) : version_(std::move(version)) {}
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;

 private:
  std::string program_help(const CLI::App* app) const;
  std::string command_help(const CLI::App* app) const;
  std::string version_;
};

// Registers `help [command]` (alias h); its callback sets `exit_code`.
void register_help(CLI::App& app, int& exit_code);

}  // namespace guise::cli
