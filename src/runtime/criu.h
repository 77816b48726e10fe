// Running the criu binary: found once, gated by `criu check`, and every failure
// quoting criu's own reason (the Error lines of its log), never only an exit status.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::runtime {

// The binary: `name` itself when it holds a '/', else the first executable in PATH.
Result<std::string> find_criu(const std::string& name);

// What criu says went wrong, from its log or its output: the "Error (file:line): ..."
// lines with the timestamps dropped, repeats dropped, the last few kept, joined by
// "; ". With no Error line, the last three lines; "" for empty text.
std::string criu_reason(std::string_view log);

// `criu check`: an error with criu's reason where criu cannot work on this kernel.
Result<void> check_criu(const std::string& binary);

struct CriuRun {
  std::string binary;
  std::vector<std::string> args;  // after argv[0]
  std::string log_path;           // criu's -o file: quoted when criu fails
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // -1: inherited
  // criu's stdout and stderr (where -1) go to a buffer, quoted when its log says nothing.
  bool capture_output = true;
};
// mkdir -p, the last one 0700 (an image or work directory); `what` names it in errors.
Result<void> make_criu_dir(const std::string& path, const char* what);

// criu's own configuration file for this container, as runc chooses it: the
// annotation org.criu.config ("" there: none), else /etc/criu/runc.conf; only where
// the file exists.
std::string criu_config_file(const oci::Spec& spec);

// Runs criu to its end; "criu ACTION failed (exit status N): REASON (log: PATH)" when
// it does not succeed.
Result<void> run_criu(const CriuRun& run, const char* action);

}  // namespace guise::runtime
