// The `guise pod` commands' own pieces (pod_create.cc, pod_commands.cc).
#pragma once

#include <string>
#include <vector>

#include "cli/guise/context.h"
#include "cli/guise/pod_common.h"

namespace guise::cli {

struct PodCreateFlags {
  std::string name, hostname, network = "default", share = "ipc,net,uts", pid, ipc, uts;
  std::vector<std::string> publish, dns, add_host, labels;
};

// The new pod's id; a failure leaves no record, name, infra container or directory.
Result<std::string> create_pod(Context& ctx, const PodCreateFlags& f);

}  // namespace guise::cli
