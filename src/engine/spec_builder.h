// RunRequest + the image's config -> the OCI spec, as docker's daemon builds it
// (moby daemon/oci_linux.go, oci/defaults.go, daemon/create.go merge). Pure: whatever needs
// the host (a device's numbers, a container's namespaces, volume directories, the rootfs's
// /etc/passwd) comes in through SpecContext, read or made by the caller.
//
// --init: the caller bind-mounts nothing itself; the spec binds ctx.init_path read-only at
// /run/guise-init and runs `/run/guise-init -- ENTRYPOINT CMD...`. guise-init reports its
// children's deaths on fd 3, so the caller creates the container with that fd in
// preserve_fds (runtime CreateOptions).
//
// Users: a numeric -u UID[:GID] needs nothing; a name is looked up in ctx.passwd and
// ctx.group (the rootfs's /etc/passwd and /etc/group, read by the caller inside the rootfs),
// as runc's user.GetExecUser does, so the spec holds numbers only and any OCI runtime runs it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/run_request.h"
#include "image/manifest.h"
#include "oci/spec.h"
#include "sys/result.h"

namespace guise::engine {

struct SpecContext {
  std::string id;      // the container's id (64 hex); its first 12 are the default hostname
  std::string rootfs;  // absolute path of the mounted rootfs
  // Files made by the caller and bound at /etc/hosts, /etc/resolv.conf, /etc/hostname ("" = not bound).
  std::string hosts_path, resolv_conf_path, hostname_path;
  std::string init_path;  // guise-init on the host, for --init
  // A tmpfs on the host bound at /dev/shm instead of one of the container's own: a pod's,
  // so that members sharing its IPC namespace share POSIX shared memory too ("" = own).
  std::string shm_path;
  // Host directories of named volumes (from -v NAME:/dst and --mount type=volume) and of
  // anonymous ones (key: the target path, from -v /dst and the image's VOLUME).
  std::map<std::string, std::string> volume_paths, anonymous_volume_paths;
  // The host's capabilities, for --privileged and --cap-add ALL; empty: every one this build knows.
  std::vector<std::string> host_capabilities;
  std::string cgroup_parent = "/guise";  // used when HostConfig.CgroupParent is empty
  bool cgroup_v2 = true;                 // docker's default cgroupns: private on v2, host on v1
  // A rootless engine: its containers' root is an unprivileged user's, so the host's
  // namespaces they share are not theirs to mount proc, sysfs or mqueue of.
  bool rootless = false;
  std::string host_hostname;             // --network host without -h takes the host's name, as docker
  std::string network_ns_path;           // a namespace the network layer made for bridge/NAME; "" = a new, empty one
  std::string passwd, group;             // the rootfs's /etc/passwd and /etc/group, "" when absent
  std::optional<oci::Seccomp> default_seccomp;  // docker's default profile; nullopt: no default filter
  std::optional<std::pair<uint64_t, uint64_t>> nofile;  // RLIMIT_NOFILE soft, hard to give; nullopt: inherited
  // container:NAME -> /proc/PID/ns/TYPE of that container ("net", "pid", "ipc", "uts").
  std::function<Result<std::string>(const std::string& container, const std::string& ns)> namespace_path;
  // A host device node -> its OCI device (type, numbers, mode): --device, the --device-*-bps/iops paths.
  std::function<Result<oci::Device>(const std::string& host_path)> device_info;
  std::vector<oci::Device> host_devices;  // --privileged: every device node of the host's /dev
};

// docker's merge of the image's config under the user's (daemon/commit.go merge): the
// user's Env first, then the image's keys it does not set; the image's Cmd only when the
// user gave neither Cmd nor Entrypoint; Entrypoint, WorkingDir, User, StopSignal,
// Healthcheck fields, ExposedPorts, Volumes and Labels filled from the image.
ContainerConfig merge_image_config(ContainerConfig user, const image::ImageConfig& image);

// The process's argv: Entrypoint + Cmd of the merged config; empty when there is none.
std::vector<std::string> process_args(const ContainerConfig& merged);

// Named volumes the request uses (to create before build_spec), and the targets that need
// an anonymous volume (the merged config's Volumes not covered by a mount).
std::vector<std::string> named_volumes(const HostConfig& h);
std::vector<std::string> anonymous_volume_targets(const ContainerConfig& merged, const HostConfig& h);

// The user's -u resolved against the rootfs's passwd and group texts, plus --group-add.
// Errors with runc's words: unable to find user NAME: no matching entries in passwd file
Result<oci::User> resolve_user(const std::string& user, const std::vector<std::string>& group_add,
                               const std::string& passwd, const std::string& group);

// docker's default capability set (14), in docker's order.
const std::vector<std::string>& default_capabilities();
// docker's TweakCapabilities: privileged -> all; ALL in add or drop; names with or without
// CAP_, any case. Errors name the flag.
Result<std::vector<std::string>> effective_capabilities(const HostConfig& h, const std::vector<std::string>& all);

// A seccomp profile: a linux.seccomp object of config.json, or docker's format
// (defaultAction, architectures or archMap, syscalls with names/action/args; entries with
// includes/excludes are taken only where they hold for the given capabilities).
Result<oci::Seccomp> parse_seccomp_profile(const std::string& json, const std::string& origin,
                                           const std::vector<std::string>& capabilities = {});

Result<oci::Spec> build_spec(const RunRequest& r, const image::ImageConfig& image, const SpecContext& ctx);

}  // namespace guise::engine
