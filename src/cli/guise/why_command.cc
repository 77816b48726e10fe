// guise why NAME: the cause of the container's last exit in one paragraph, with the
// evidence and what to do about it (engine/exit_cause.h), from the facts its monitor
// recorded; for an exit by itself, the last lines of its log. --format json: the same
// as fields.
#include <seccomp.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cli/guise/container_common.h"
#include "engine/exit_cause.h"

namespace guise::cli {

namespace {

constexpr size_t kTailLines = 5;
constexpr std::streamoff kTailBytes = 64 * 1024;

// The last lines the container wrote (json-file or k8s-file), read from the log's end.
std::vector<std::string> log_tail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(size > kTailBytes ? size - kTailBytes : 0);
  std::string raw, text;
  if (size > kTailBytes) std::getline(in, raw);  // a partial record
  while (std::getline(in, raw)) {
    if (raw.empty()) continue;
    if (raw[0] == '{') {
      auto j = nlohmann::json::parse(raw, nullptr, false);
      if (j.is_object()) text += j.value("log", "");
      continue;
    }
    // k8s-file: TIME STREAM F|P TEXT
    size_t a = raw.find(' '), b = a == std::string::npos ? a : raw.find(' ', a + 1);
    size_t c = b == std::string::npos ? b : raw.find(' ', b + 1);
    if (c == std::string::npos) continue;
    text += raw.substr(c + 1) + (raw.compare(b + 1, c - b - 1, "P") == 0 ? "" : "\n");
  }
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() > kTailLines) lines.erase(lines.begin(), lines.end() - long(kTailLines));
  return lines;
}

std::string syscall_name(int nr) {
  if (nr < 0) return {};
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  if (!name) return {};
  std::string s = name;
  std::free(name);
  return s;
}

void why(Context& ctx, const std::string& name, const std::string& format) {
  if (!format.empty() && format != "json") return ctx.fail("--format: json is the only format `why` takes");
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  auto id = cs->resolve(name);
  if (!id) return ctx.fail(id.error());
  auto v = engine::view_container(*cs, *id);
  if (!v) return ctx.fail(v.error());
  engine::WhyInput in;
  in.state = v->state;
  in.status = v->status();
  if (in.state.exit_facts) in.syscall_name = syscall_name(in.state.exit_facts->seccomp_syscall);
  in.log_tail = log_tail(cs->paths(*id).log());
  engine::Diagnosis d = engine::diagnose(in);
  if (format == "json") {
    auto j = engine::diagnosis_json(d, in);
    j["container"] = v->record.name;
    j["id"] = *id;
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("%s: %s\n", v->record.name.c_str(), d.paragraph().c_str());
  if (!d.log_tail.empty()) {
    std::printf("Last lines of its log:\n");
    for (const auto& l : d.log_tail) std::printf("  %s\n", l.c_str());
  }
}

}  // namespace

void register_why_command(CLI::App& app, Context& ctx) {
  static std::string name, format;
  for (auto* c : {app.add_subcommand("why", "Explain why a container exited"),
                  app.get_subcommand("container")->add_subcommand("why", "Explain why a container exited")}) {
    c->add_option("CONTAINER", name)->required();
    c->add_option("-f,--format", format, "json: the same as fields");
    c->callback([&ctx] { why(ctx, name, format); });
  }
}

}  // namespace guise::cli
