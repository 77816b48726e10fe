"""A small CRI client: the calls kubelet makes to containerd's CRI plugin, over
gRPC on containerd's socket, with the messages of cri.proto (a subset of
k8s.io/cri-api runtime/v1) compiled at test time by grpc_tools.protoc.

    api = cri.compile_proto(out_dir)       # the generated modules
    c = cri.Client(api, socket_path)
    pod = c.run_pod(cri.pod_config(api, "name", cgroup_parent="..."), "guise")
"""

import importlib
import os
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "cri.proto")


def missing():
    """Why the client cannot work here (a missing Python package), or None."""
    for mod, pkg in (("grpc", "python3-grpcio"), ("google.protobuf", "python3-protobuf"),
                     ("grpc_tools.protoc", "python3-grpc-tools")):
        try:
            importlib.import_module(mod)
        except ImportError as e:
            return "no %s for the CRI client (Debian's %s): %s" % (mod, pkg, e)
    return None


class Api:
    """The generated modules: .pb (messages) and .grpc (the service stub)."""

    def __init__(self, pb, grpc_mod):
        self.pb, self.grpc = pb, grpc_mod


def compile_proto(out_dir):
    """Compiles cri.proto into OUT_DIR and imports it."""
    from grpc_tools import protoc
    os.makedirs(out_dir, exist_ok=True)
    import grpc_tools
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    args = ["protoc", "-I", HERE, "--python_out", out_dir, "--grpc_python_out", out_dir]
    if os.path.isdir(include):
        args += ["-I", include]
    rc = protoc.main(args + [PROTO])
    if rc != 0:
        raise RuntimeError("grpc_tools.protoc failed on %s (rc %d)" % (PROTO, rc))
    sys.path.insert(0, out_dir)
    try:
        pb = importlib.import_module("cri_pb2")
        grpc_mod = importlib.import_module("cri_pb2_grpc")
    finally:
        sys.path.remove(out_dir)
    return Api(pb, grpc_mod)


class Client:
    """RuntimeService on containerd's socket; each method one CRI call."""

    def __init__(self, api, socket_path, timeout=120):
        import grpc
        self.api, self.pb = api, api.pb
        self.timeout = timeout
        self.channel = grpc.insecure_channel("unix://" + socket_path)
        self.stub = api.grpc.RuntimeServiceStub(self.channel)

    def close(self):
        self.channel.close()

    def call(self, name, request, timeout=None):
        return getattr(self.stub, name)(request, timeout=timeout or self.timeout)

    def version(self):
        return self.call("Version", self.pb.VersionRequest(version="v1"))

    def run_pod(self, config, handler):
        r = self.call("RunPodSandbox", self.pb.RunPodSandboxRequest(config=config,
                                                                    runtime_handler=handler))
        return r.pod_sandbox_id

    def pod_status(self, pod_id):
        return self.call("PodSandboxStatus",
                         self.pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id)).status

    def stop_pod(self, pod_id):
        self.call("StopPodSandbox", self.pb.StopPodSandboxRequest(pod_sandbox_id=pod_id))

    def remove_pod(self, pod_id):
        self.call("RemovePodSandbox", self.pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id))

    def create(self, pod_id, config, pod_config):
        r = self.call("CreateContainer", self.pb.CreateContainerRequest(
            pod_sandbox_id=pod_id, config=config, sandbox_config=pod_config))
        return r.container_id

    def start(self, cid):
        self.call("StartContainer", self.pb.StartContainerRequest(container_id=cid))

    def stop(self, cid, timeout=10):
        self.call("StopContainer", self.pb.StopContainerRequest(container_id=cid, timeout=timeout),
                  timeout=timeout + 60)

    def remove(self, cid):
        self.call("RemoveContainer", self.pb.RemoveContainerRequest(container_id=cid))

    def status(self, cid, verbose=False):
        return self.call("ContainerStatus",
                         self.pb.ContainerStatusRequest(container_id=cid, verbose=verbose))

    def exec_sync(self, cid, cmd, timeout=30):
        return self.call("ExecSync", self.pb.ExecSyncRequest(container_id=cid, cmd=cmd,
                                                             timeout=timeout),
                         timeout=timeout + 30)

    def stats(self, cid):
        return self.call("ContainerStats",
                         self.pb.ContainerStatsRequest(container_id=cid)).stats

    def update(self, cid, **resources):
        self.call("UpdateContainerResources", self.pb.UpdateContainerResourcesRequest(
            container_id=cid, linux=self.pb.LinuxContainerResources(**resources)))


def pod_config(api, name, cgroup_parent, hostname="", host_network=False, host_pid=False,
               host_ipc=False):
    """A PodSandboxConfig as kubelet writes one; the pod's cgroup is CGROUP_PARENT."""
    pb = api.pb
    mode = lambda host: pb.NODE if host else pb.POD  # noqa: E731
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uuid.uuid4().hex, namespace="guise-test",
                                       attempt=0),
        hostname=hostname,
        labels={"guise-test": name},
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=cgroup_parent,
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(network=mode(host_network),
                                                     pid=mode(host_pid),
                                                     ipc=mode(host_ipc)))))


def container_config(api, name, image, command, pod, resources=None):
    """A ContainerConfig in POD (a PodSandboxConfig), with its namespaces."""
    pb = api.pb
    ns = pod.linux.security_context.namespace_options
    linux = pb.LinuxContainerConfig(
        security_context=pb.LinuxContainerSecurityContext(
            namespace_options=pb.NamespaceOption(network=ns.network, pid=ns.pid, ipc=ns.ipc)))
    if resources:
        linux.resources.CopyFrom(pb.LinuxContainerResources(**resources))
    return pb.ContainerConfig(metadata=pb.ContainerMetadata(name=name, attempt=0),
                              image=pb.ImageSpec(image=image), command=command,
                              labels={"guise-test": name}, linux=linux)
