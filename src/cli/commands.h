// Each runc command: its flags, and the call into runtime/ that does the work.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "runtime/container.h"

namespace guise::cli {

struct Options {
  runtime::Globals globals;
  std::string log_path, log_format = "text", rootless = "auto", criu;
  bool debug = false;
  bool systemd_cgroup = false;
  int exit_code = 0;
};

void register_commands(CLI::App& app, Options& opt);
void register_exec(CLI::App& app, Options& opt);
void register_cgroup_commands(CLI::App& app, Options& opt);

// Runs before every command: log set-up and the checks on global flags.
bool prepare(Options& opt);

}  // namespace guise::cli
