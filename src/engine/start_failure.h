// Why a program could not start, found by looking into the container's rootfs as the
// kernel would have: the file (in process.cwd, or along PATH), its mode, its mount, its
// first line or ELF headers, its interpreter, loader and libraries. Every path is
// resolved inside the rootfs (or inside a bind mount's source), never through a symlink
// out of it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/container.h"
#include "oci/spec.h"

namespace guise::engine {

struct ProgramContext {
  std::string rootfs;  // absolute, on the host
  std::vector<std::string> args, env;
  std::string cwd = "/";
  std::vector<oci::Mount> mounts;
};

// The context of the bundle's config.json (root.path relative to the bundle).
std::optional<ProgramContext> program_context(const oci::Spec& spec, const std::string& bundle);

// For a failed start (`errnum`: the exec's errno, 0 when the runtime did not say; `error`:
// its message): always a StartFailure, of kind "exec" when nothing in the rootfs explains
// it. With `must_explain` (the container exited 127 or 126 by itself: its loader may have
// failed after the exec, or guise-init's exec of it), nullopt when nothing does.
std::optional<StartFailure> diagnose_start(const ProgramContext& p, int errnum, const std::string& error,
                                           bool must_explain = false);

// docker's status for a program that could not start: 127 not found, 126 not runnable.
int start_failure_exit_code(const StartFailure& f);

}  // namespace guise::engine
