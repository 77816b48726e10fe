"""Kubernetes' way in: containerd's CRI plugin, sent the CRI calls kubelet makes
(the client is cri.py, the messages cri.proto), with the pod's runtime handler
"guise" (io.containerd.runc.v2 with BinaryName = guise-oci, as README gives it)
and "runc" as the reference.

The pause image and the containers' image are made here and imported into
containerd's k8s.io namespace; the pods' network is the test CNI plugin of
engines.py (lo, and an eth0 that lives in the pod's namespace only); each pod's
cgroup parent is below the test's own cgroup.  Every check looks from inside
the container (ExecSync) and from outside (/proc, the cgroup files, mounts).
"""

import json
import os
import re
import socket
import time
import uuid

import pytest

import cri
import engines
import hostprobe
import image
import support
from conftest import ENGINES, RUNTIMES

MiB = 1024 * 1024
NS = "k8s.io"   # containerd's namespace for what the CRI plugin runs

pytestmark = pytest.mark.skipif("ctr" not in ENGINES,
                                reason="containerd not selected (GUISE_ENGINES)")


def need_v1(*controllers):
    for c in controllers:
        f = hostprobe.need(hostprobe.controller(c))
        if f.value != 1:
            pytest.skip("host: the %s controller is cgroup v2's; these checks read its v1 files" % c)


class Env:
    """The CRI client on the session's containerd, and the images it runs."""

    def __init__(self, containerd, api, work, cgroup_parent, runtimes):
        self.containerd = containerd
        self.api, self.pb = api, api.pb
        self.client = cri.Client(api, containerd.sock)
        self.work = work
        self.cgroup_parent = cgroup_parent
        self.runtimes = runtimes


@pytest.fixture(scope="module")
def cri_env(containerd, work, cgroup_parent, runtimes, image_archive):
    why = cri.missing()
    if why:
        pytest.skip(why)
    status = containerd.plugin_status("cri")
    if status != "ok":
        pytest.skip("containerd's CRI plugin (io.containerd.grpc.v1.cri) is %s:\n%s"
                    % (status or "not built in", containerd.daemon.tail()))
    pause = os.path.join(work, "pause-image.tar")
    image.build_archive(pause, name=image.PAUSE_NAME, cmd=image.PAUSE_CMD)
    for archive in (pause, image_archive):
        engines.ok(containerd.ctr("-n", NS, "image", "import", archive),
                   "ctr -n k8s.io image import")
    api = cri.compile_proto(os.path.join(work, "cri-gen"))
    env = Env(containerd, api, work, cgroup_parent, runtimes)
    yield env
    env.client.close()


class Pods:
    """One test's pods: run with the handler under test, removed after it
    (StopPodSandbox then RemovePodSandbox, as kubelet does), whatever happened."""

    def __init__(self, env, handler):
        self.env, self.c, self.pb = env, env.client, env.pb
        self.handler = handler
        self.pods = []
        self.start_ns = time.time_ns()

    def run(self, name, **ns):
        parent = "%s/pod-%s" % (self.env.cgroup_parent, uuid.uuid4().hex[:8])
        # kubelet gives a hostname only to pods off the host's network, whose
        # UTS namespace is the host's otherwise
        hostname = "" if ns.get("host_network") else name
        config = cri.pod_config(self.env.api, name, parent, hostname=hostname, **ns)
        pod_id = self.c.run_pod(config, self.handler)
        self.pods.append((pod_id, parent))
        return pod_id, config

    def container(self, pod_id, config, name, command, resources=None, start=True):
        cid = self.c.create(pod_id, cri.container_config(self.env.api, name, image.IMAGE_REF,
                                                         command, config, resources),
                            config)
        if start:
            self.c.start(cid)
        return cid

    def remove(self, pod_id):
        self.c.stop_pod(pod_id)
        self.c.remove_pod(pod_id)
        for i, (p, parent) in enumerate(self.pods):
            if p == pod_id:
                # kubelet removes the pod's cgroup parent; the runtime made it
                support.remove_cgroup_tree(parent)
                del self.pods[i]
                break

    def cleanup(self):
        for pod_id, _ in list(self.pods):
            try:
                self.remove(pod_id)
            except Exception:  # noqa: BLE001 -- the next pod still goes
                pass


@pytest.fixture(params=RUNTIMES)
def pods(request, cri_env):
    p = Pods(cri_env, request.param)
    yield p
    p.cleanup()


# --------------------------------------------------------------- helpers


def info(c, cid):
    """ContainerStatus(verbose)'s info: the task's pid, the OCI spec it ran with."""
    return json.loads(c.status(cid, verbose=True).info["info"])


def wait_state(c, cid, state, timeout=60):
    st = support.wait_for(lambda: (lambda s: s if s.state == state else None)(c.status(cid).status),
                          timeout, 0.2)
    assert st, "container %s never reached state %d: %s" % (cid, state, c.status(cid).status)
    return st


def execs(c, cid, *cmd):
    """ExecSync; its stdout, the exit code checked."""
    r = c.exec_sync(cid, list(cmd))
    assert r.exit_code == 0, (cmd, r)
    return r.stdout.decode()


def host_links():
    with open("/proc/net/dev") as f:
        return sorted(l.split(":")[0].strip() for l in f.readlines()[2:])


def ns_inode(kind, pid="self"):
    return os.readlink("/proc/%s/ns/%s" % (pid, kind))


def runtime_ids(pods, since_ns):
    """{runtime key: container ids named on its command lines} since SINCE_NS."""
    out = {}
    for key, rt in pods.env.runtimes.items():
        ids = set()
        for call in rt.calls(since_ns):
            ids.update(a for a in call["argv"] if re.fullmatch(r"[0-9a-f]{64}", a))
        out[key] = ids
    return out


def verbs(rt, since_ns, cid):
    """The runtime commands (create, start, exec, update, kill, delete...) run for CID."""
    found = []
    for call in rt.calls(since_ns):
        if cid not in call["argv"]:
            continue
        skip = False
        for a in call["argv"]:
            if skip:
                skip = False
                continue
            if a in ("--root", "--log", "--log-format", "--criu"):
                skip = True
            elif not a.startswith("-"):
                found.append(a)
                break
    return found


def leftovers(env, ids, netns):
    """What a removed pod left behind: processes, mounts, state, cgroups, its netns."""
    left = []
    for i in ids:
        left += ["process %d names %s" % (p, i) for p in support.pids_mentioning(i)]
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            if any(i in mp for i in ids) or (netns and mp == netns):
                left.append("mount " + mp)
    if netns and os.path.exists(netns):
        left.append("netns file " + netns)
    for ctrl, path in support.own_cgroups().items():
        base = os.path.join(support.mount_dir_of(ctrl), path.lstrip("/"), env.cgroup_parent)
        for dirpath, _, _ in os.walk(base):
            if any(i in dirpath for i in ids):
                left.append("cgroup " + dirpath)
    return left


def assert_clean(env, ids, netns):
    left = []

    def clean():
        left[:] = leftovers(env, ids, netns)
        return not left
    support.wait_for(clean, 10)
    assert not left, left


def spec_netns(spec):
    for n in spec.get("linux", {}).get("namespaces", []):
        if n.get("type") == "network":
            return n.get("path")
    return None


# --------------------------------------------------------------- the calls


def test_cri_version_status(cri_env):
    """Version and Status: what kubelet asks first.  The runtime and the network
    (the test CNI config) are ready."""
    c = cri_env.client
    v = c.version()
    assert v.runtime_name == "containerd" and v.runtime_api_version == "v1", v
    st = c.call("Status", cri_env.pb.StatusRequest()).status
    conds = {x.type: x.status for x in st.conditions}
    assert conds.get("RuntimeReady") and conds.get("NetworkReady"), st


def test_cri_pod_lifecycle(pods):
    """One pod through every call kubelet makes for it: RunPodSandbox,
    CreateContainer with limits, StartContainer, ContainerStatus, ExecSync,
    ContainerStats, UpdateContainerResources, StopContainer, RemoveContainer,
    StopPodSandbox, RemovePodSandbox; the handler's runtime ran it all."""
    need_v1("memory", "cpu")
    c, pb, env = pods.c, pods.pb, pods.env
    since = time.time_ns()
    pod_id, config = pods.run("lifecycle")

    st = c.pod_status(pod_id)
    assert st.state == pb.SANDBOX_READY, st
    assert st.runtime_handler == pods.handler, st
    assert st.network.ip == "10.88.0.2", st  # from the test CNI plugin
    pod_info = json.loads(c.call("PodSandboxStatus", pb.PodSandboxStatusRequest(
        pod_sandbox_id=pod_id, verbose=True)).info["info"])
    pause_pid = pod_info["pid"]
    netns = spec_netns(pod_info["runtimeSpec"])
    assert netns and os.path.exists(netns), pod_info["runtimeSpec"].get("linux")

    limits = dict(memory_limit_in_bytes=64 * MiB, cpu_period=100000, cpu_quota=50000,
                  cpu_shares=512)
    # a little work first, so that the cpu counters have something to count
    cid = pods.container(pod_id, config, "main",
                         ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
                                      "exec sleep 3600"], resources=limits, start=False)
    st = c.status(cid).status
    assert st.state == pb.CONTAINER_CREATED, st
    c.start(cid)
    st = c.status(cid).status
    assert st.state == pb.CONTAINER_RUNNING and st.started_at > 0, st
    pid = info(c, cid)["pid"]
    assert support.pid_alive(pid)
    assert not support.misplaced_cgroups(pid, env.cgroup_parent), support.own_cgroups(pid)

    # ExecSync: stdout, stderr and the exit code come back apart
    r = c.exec_sync(cid, ["sh", "-c", "echo out-line; echo err-line >&2; exit 3"])
    assert (r.stdout, r.stderr, r.exit_code) == (b"out-line\n", b"err-line\n", 3), r
    # the pod's own hostname, network, pid and ipc namespaces
    assert execs(c, cid, "hostname") == "lifecycle\n"
    links = sorted(l.split(":")[0].strip()
                   for l in execs(c, cid, "cat", "/proc/net/dev").splitlines()[2:])
    assert links == ["eth0", "lo"], links
    assert "10.88.0.2/24" in execs(c, cid, "ip", "-o", "-4", "addr", "show", "eth0")
    assert ns_inode("net", pid) != ns_inode("net") and ns_inode("net", pid) == ns_inode("net", pause_pid)
    assert ns_inode("ipc", pid) != ns_inode("ipc") and ns_inode("ipc", pid) == ns_inode("ipc", pause_pid)
    assert ns_inode("pid", pid) != ns_inode("pid")
    with open("/proc/1/cmdline", "rb") as f:
        host_init = f.read()
    assert execs(c, cid, "cat", "/proc/1/cmdline").encode() != host_init

    # the limits in the cgroup files, from outside and from inside
    def files():
        return (support.cgroup_file(pid, "memory", "memory.limit_in_bytes"),
                support.cgroup_file(pid, "cpu", "cpu.cfs_quota_us"),
                support.cgroup_file(pid, "cpu", "cpu.cfs_period_us"),
                support.cgroup_file(pid, "cpu", "cpu.shares"))
    assert files() == (str(64 * MiB), "50000", "100000", "512")
    inside = execs(c, cid, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes").strip()
    assert inside == str(64 * MiB), inside

    stats = c.stats(cid)
    assert stats.attributes.id == cid, stats
    assert stats.memory.working_set_bytes.value > 0 or stats.memory.usage_bytes.value > 0, stats
    assert stats.cpu.usage_core_nano_seconds.value > 0, stats

    c.update(cid, memory_limit_in_bytes=128 * MiB, cpu_period=100000, cpu_quota=150000,
             cpu_shares=1024)
    assert files() == (str(128 * MiB), "150000", "100000", "1024")

    # StopContainer: SIGTERM, which sleep dies of
    c.stop(cid, timeout=10)
    st = wait_state(c, cid, pb.CONTAINER_EXITED)
    assert st.exit_code == 143, st
    assert support.wait_for(lambda: not support.pid_alive(pid), 10)
    c.remove(cid)
    pods.remove(pod_id)
    assert support.wait_for(lambda: not support.pid_alive(pause_pid), 10)
    assert_clean(env, [pod_id, cid], netns)

    # the handler's runtime made both containers, and the other runtime neither
    ran = runtime_ids(pods, since)
    other = "runc" if pods.handler == "guise" else "guise"
    assert {pod_id, cid} <= ran[pods.handler], ran
    assert not ({pod_id, cid} & ran[other]), ran
    done = verbs(env.runtimes[pods.handler], since, cid)
    for verb in ("create", "start", "exec", "update", "delete"):
        assert verb in done, done


@pytest.mark.parametrize("host", ["network", "pid", "ipc"])
def test_cri_host_namespace(pods, host):
    """hostNetwork, hostPID, hostIPC: the pod shares that namespace with the
    host (the test's own), and keeps its own of the other two."""
    c = pods.c
    pod_id, config = pods.run("host-" + host, **{"host_" + host: True})
    cid = pods.container(pod_id, config, "main", ["sleep", "3600"])
    pid = info(c, cid)["pid"]
    shared = {
        "network": lambda: sorted(l.split(":")[0].strip() for l in execs(
            c, cid, "cat", "/proc/net/dev").splitlines()[2:]) == host_links(),
        "pid": lambda: execs(c, cid, "cat", "/proc/1/cmdline").encode() == open(
            "/proc/1/cmdline", "rb").read(),
        "ipc": lambda: execs(c, cid, "readlink", "/proc/self/ns/ipc").strip() == ns_inode("ipc"),
    }
    for kind in ("network", "pid", "ipc"):
        ns = "net" if kind == "network" else kind
        want = kind == host
        assert (ns_inode(ns, pid) == ns_inode(ns)) == want, (kind, ns_inode(ns, pid))
        assert shared[kind]() == want, kind
    if host == "network":
        # a pod on the host's network has the host's name too
        assert execs(c, cid, "hostname").strip() == socket.gethostname()
    else:
        assert execs(c, cid, "hostname").strip() == "host-" + host
    pods.remove(pod_id)
    assert support.wait_for(lambda: not support.pid_alive(pid), 10)
    assert_clean(pods.env, [pod_id, cid], None)


def test_cri_oom_killed(pods):
    """A container past its memory limit: ContainerStatus says reason
    "OOMKilled", exit code 137."""
    need_v1("memory")
    c, pb = pods.c, pods.pb
    pod_id, config = pods.run("oom")
    cid = pods.container(pod_id, config, "hog",
                         ["sh", "-c", "a=0123456789abcdef; while :; do a=$a$a; done"],
                         resources=dict(memory_limit_in_bytes=32 * MiB))
    st = wait_state(c, cid, pb.CONTAINER_EXITED)
    assert (st.reason, st.exit_code) == ("OOMKilled", 137), st
    pods.remove(pod_id)
