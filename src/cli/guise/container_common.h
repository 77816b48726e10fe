// What the container commands share: the stores, docker's lookups, stopping and removing.
#pragma once

#include <functional>
#include <string>

#include "cli/guise/context.h"
#include "engine/container_store.h"
#include "engine/container_view.h"
#include "engine/oci_runtime.h"
#include "runtime/runtime.h"

namespace CLI {
class App;
}

namespace guise::cli {

std::string store_root(const Context& ctx);
Result<engine::ContainerStore> open_containers(const Context& ctx);
runtime::Globals runtime_globals(const engine::ContainerStore& cs);
// The runtime the container was run with (its record's `runtime`); the library when the
// record says guise, or cannot be read.
Result<std::unique_ptr<engine::OciRuntime>> container_runtime(const engine::ContainerStore& cs, const std::string& id);

// Signals the container (noting the request in `stopping` first, so no restart policy
// brings it back; `by`: stop, stop-timeout, kill or rm, for `why`).
Result<void> signal_container(const engine::ContainerStore& cs, const std::string& id, int signal, bool all,
                              const char* by = "kill");
// docker stop: the stop signal, then SIGKILL after `timeout_s`; returns once it has exited.
Result<void> stop_container(const engine::ContainerStore& cs, const std::string& id, int signal, int timeout_s);
// Waits until the process behind `pidfd` has exited (a zombie counts); false on timeout.
bool wait_for_exit(int pidfd, int timeout_ms);
// Polls state.json until the container is no longer running (or its monitor is gone).
// false: still running after timeout_ms (< 0: wait forever).
bool wait_not_running(const engine::ContainerStore& cs, const std::string& id, int timeout_ms);
// Everything of a container: its process (with force), runtime state, monitor, rootfs,
// name and directory.
// With `volumes`, its anonymous volumes too (rm -v), as docker does; named ones stay.
Result<void> remove_container_fully(Context& ctx, engine::ContainerStore& cs, const std::string& id, bool force,
                                    bool volumes = false);

// What an attached CLI does with a signal it receives: passes it to the container,
// through the container's own runtime (the library or a binary).
std::function<void(int)> signal_forwarder(const engine::ContainerStore& cs, const std::string& id);

// docker's prune prompt: the warning, then "Are you sure you want to continue? [y/N]".
bool confirm(const char* warning);

// ps's STATUS column: "Up 5 seconds", "Up 2 minutes (Paused)", "Exited (0) 3 seconds ago",
// "Created", "Restarting (1) 2 seconds ago", with " (healthy)" when there is a health check.
std::string status_line(const engine::ContainerView& v, int64_t now);

// A file of the container's rootfs read inside it (RESOLVE_IN_ROOT): a symlink in the
// image cannot point the read at the host. "" when missing.
std::string read_in_rootfs(const std::string& rootfs, const std::string& path);

void register_container_commands(CLI::App& app, Context& ctx);
void register_logs_command(CLI::App& app, Context& ctx);
void register_run_commands(CLI::App& app, Context& ctx);
void register_container_inspect(CLI::App& container, Context& ctx);
void register_exec_command(CLI::App& app, Context& ctx);
void register_attach_command(CLI::App& app, Context& ctx);
void register_cp_command(CLI::App& app, Context& ctx);
void register_port_command(CLI::App& app, Context& ctx);
void register_why_command(CLI::App& app, Context& ctx);
void register_update_command(CLI::App& app, Context& ctx);
void register_volume_commands(CLI::App& app, Context& ctx);
void register_commit_command(CLI::App& app, Context& ctx);
void register_export_command(CLI::App& app, Context& ctx);
void register_stats_command(CLI::App& app, Context& ctx);
void register_events_command(CLI::App& app, Context& ctx);

}  // namespace guise::cli
