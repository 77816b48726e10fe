// `guise run`'s command line, flags and IMAGE [ARG...], parsed as `guise run` parses it
// (add_run_flags, then to_run_request) into the typed request, without creating anything.
// The input is the arguments after `run`, one per line. Every refusal is CLI11's or one
// line naming the flag; nothing else may escape.
#include <cstddef>
#include <cstdint>
#include <CLI/CLI.hpp>

#include "cli/guise/run_flags.h"
#include "fuzz_check.h"

namespace {

std::optional<std::string> fake_env(const std::string& key) {
  if (key == "FROM_ENV") return std::string("value");
  return std::nullopt;
}

// --env-file, --label-file and --security-opt seccomp=FILE read files: not the kernel's
// endless or blocking ones (/dev/zero, /proc/self/fd/0).
bool names_special_file(const std::string& arg) {
  for (const char* part : {"dev/", "proc/", "sys/", "/dev", "/proc", "/sys"})
    if (arg.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace guise;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    args.emplace_back(text.substr(0, eol));
    if (names_special_file(args.back())) return 0;
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  }

  CLI::App app{"fuzz", "guise"};
  auto* cmd = app.add_subcommand("run");
  cli::RunFlags flags;
  cli::add_run_flags(*cmd, flags);
  std::vector<const char*> argv = {"guise", "run"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return 0;  // CLI11's own refusal (or --help), as `guise run` prints it
  }
  auto request = cli::to_run_request(flags, cmd->remaining(), fake_env);
  if (!request) fuzz::check_error_line(request.error().message());
  return 0;
}
