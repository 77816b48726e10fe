// The OCI runtime a container is driven through, chosen per container (`--runtime`, kept
// in its record): the guise library in this process, or any runc-compatible binary run
// as a child (ExecRuntime: `BIN --root DIR --log FILE --log-format json VERB ...`, never
// through a shell, its JSON log's last error turned into a sys::Error).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "sys/result.h"

namespace guise::engine {

class OciRuntime {
 public:
  virtual ~OciRuntime() = default;
  // "guise", or the binary as it was found ("/usr/sbin/runc").
  virtual std::string name() const = 0;
  // Creates and starts the container at once (o.start_at_once is implied): its init is a
  // child of the caller (or, for a binary, reparented to the caller, a child subreaper),
  // with pid, pidfd and, with o.keep_terminal_master, the terminal's master end. Only
  // the library fills in state, spec and cgroup.
  virtual Result<runtime::Created> start(runtime::CreateOptions o) = 0;
  // Once the init that start() returned has exited: what is left of it, gone.
  virtual Result<void> finish(runtime::Created& c) = 0;
  // A container that is gone is an error of kind kNotFound; one not running, kWrongState.
  virtual Result<void> kill(const std::string& id, int signal, bool all) = 0;
  virtual Result<void> pause(const std::string& id) = 0;
  virtual Result<void> resume(const std::string& id) = 0;
  virtual Result<void> remove(const std::string& id, bool force) = 0;
  virtual Result<std::vector<pid_t>> pids(const std::string& id) = 0;
  virtual Result<bool> paused(const std::string& id) = 0;
  // Only the library runs processes in a container, or changes its resources, so far.
  virtual bool in_process() const = 0;
};

// "" or "guise": the library over `g`. "runc", "crun": that binary, looked up in PATH.
// An absolute path: that binary. Anything else is an error naming --runtime. A binary
// keeps its state under g.root/BASENAME.
Result<std::unique_ptr<OciRuntime>> runtime_for(const std::string& name, const runtime::Globals& g);
Result<std::unique_ptr<OciRuntime>> runtime_for(const std::string& name, const std::string& state_root);

}  // namespace guise::engine
