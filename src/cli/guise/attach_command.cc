// docker attach: this terminal (or these pipes) joined to a running container through its
// monitor's attach socket, until the container exits; the exit code is the container's.
#include <CLI/CLI.hpp>

#include "cli/guise/attach_session.h"
#include "cli/guise/container_common.h"
#include "engine/attach.h"

namespace guise::cli {

namespace {

struct AttachFlags {
  std::string name;
  bool no_stdin = false;
  bool sig_proxy = true;
  std::string detach_keys;
};

void attach(Context& ctx, const AttachFlags& f) {
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  auto id = cs->resolve(f.name);
  if (!id) return ctx.fail(id.error());
  auto v = engine::view_container(*cs, *id);
  if (!v) return ctx.fail(v.error());
  if (v->status() == "paused") return ctx.fail("You cannot attach to a paused container, unpause it first");
  if (!v->running()) return ctx.fail("You cannot attach to a stopped container, start it first");
  auto client = engine::AttachClient::connect(cs->paths(*id).attach_socket());
  if (!client) return ctx.fail(client.error());
  AttachOptions ao;
  ao.tty = v->record.config.value("Tty", false);
  ao.stdin_open = !f.no_stdin && v->record.config.value("OpenStdin", false);
  ao.proxy_signals = f.sig_proxy;
  if (!f.detach_keys.empty()) {
    auto keys = parse_detach_keys(f.detach_keys);
    if (!keys) return ctx.fail(keys.error());
    ao.detach_keys = *keys;
  }
  ao.send_signal = signal_forwarder(*cs, *id);
  auto code = attach_session(*client, ao);
  if (!code) return ctx.fail(code.error());
  if (*code == kDetached) return;  // the container runs on, as after docker's ctrl-p ctrl-q
  ctx.exit_code = *code;
}

}  // namespace

void register_attach_command(CLI::App& app, Context& ctx) {
  static AttachFlags f;
  for (auto* c : {app.add_subcommand("attach", "Attach local standard input, output, and error streams to a running container"),
                  app.get_subcommand("container")->add_subcommand("attach", "Attach to a running container")}) {
    c->add_flag("--no-stdin", f.no_stdin, "do not attach STDIN");
    c->add_option("--sig-proxy", f.sig_proxy, "proxy all received signals to the process (default true)")
        ->default_str("true")->expected(0, 1)->default_val(true);
    c->add_option("--detach-keys", f.detach_keys, "the key sequence that detaches (default ctrl-p,ctrl-q)");
    c->add_option("CONTAINER", f.name)->required();
    c->callback([&ctx] { attach(ctx, f); });
  }
}

}  // namespace guise::cli
