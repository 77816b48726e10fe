// `create` from a typed request: the rootfs, the container's files, its OCI spec and its
// record, all undone when a step fails. Shared by run/create (an image's rootfs) and
// `pod create` (the infra: no image).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/guise/context.h"
#include "engine/container_store.h"
#include "engine/run_request.h"
#include "image/manifest.h"
#include "image/store.h"

namespace guise::cli {

struct CreateInput {
  // nullopt: a pod's infra, whose rootfs is an empty directory of its own.
  std::optional<image::ImageRecord> image;
  image::ImageConfig image_config;
  std::string pod_id;     // the pod the container belongs to (its record's `pod`)
  std::string names_from; // a container whose /etc/hosts and /etc/resolv.conf are bound instead of its own
  std::vector<std::string> process_args;  // non-empty: the process's argv, as is (the infra's guise-init -P)
  // The infra: a tmpfs of the pod's own mounted at ContainerPaths::shm and bound at /dev/shm.
  bool pod_shm = false;
  std::string shm_from;   // a member sharing the infra's IPC namespace: that container's shm
};

struct Created {
  std::string id;
  engine::RunRequest req;
};

// `start`: the container is to start at once (a foreground one attached first).
Result<Created> create_container(Context& ctx, engine::RunRequest req, const CreateInput& in, image::Store& store,
                                 engine::ContainerStore& cs, bool start);

}  // namespace guise::cli
