// Each runc command: its flags, and the call into runtime/ that does the work.
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "runtime/runtime.h"

namespace guise::cli {

struct Options {
  runtime::Globals globals;
  std::string log_path, log_format = "text", rootless = "auto", criu;
  bool debug = false;
  bool systemd_cgroup = false;
  int exit_code = 0;
};

// The commands to register: building all of CLI11's options costs more than a fast
// command itself (0.3 ms), so a command line naming one registers only that one.
struct Only {
  std::string name;  // "": every command (help, or no command given)
  bool wants(std::string_view cmd, std::string_view alias = {}) const {
    return name.empty() || name == cmd || (!alias.empty() && name == alias);
  }
};

void register_commands(CLI::App& app, Options& opt, const Only& only = {});
void register_exec(CLI::App& app, Options& opt);
void register_cgroup_commands(CLI::App& app, Options& opt, const Only& only);
void register_criu_commands(CLI::App& app, Options& opt, const Only& only);

// A path given relative to the caller's directory, made absolute (pid files: the
// runtime may write them from elsewhere).
std::string absolute_path(const std::string& p);

// Runs before every command: log set-up and the checks on global flags.
bool prepare(Options& opt);

}  // namespace guise::cli
