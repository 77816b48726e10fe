"""Pods, podman's model: `guise pod create` makes an infra container (guise-init -P) that
holds the namespaces the pod shares; `guise run --pod` joins them. Checked from inside the
members (what they reach over 127.0.0.1, their hostname, their processes, their namespace
inodes) and from outside (published ports from the host's loopback, and what `pod rm -f`
leaves: nothing).

A Kubernetes pod's host fields are what a pod's flags set, and each is checked from inside
a member (test_kubernetes_field_from_inside):

| Kubernetes PodSpec      | guise pod create       | what a member sees                          |
|-------------------------|------------------------|---------------------------------------------|
| hostNetwork: true       | --network host         | the host's network namespace                |
| hostPID: true           | --pid host             | the host's PID namespace and its processes  |
| hostIPC: true           | --ipc host             | the host's IPC namespace                    |
| hostname: NAME          | --hostname NAME        | `hostname` says NAME, in every member       |
| (the pod's own)         | --share ipc,net,uts    | one IPC, network and UTS namespace for all  |
| shareProcessNamespace   | --share +pid           | one PID namespace: each other's processes   |
"""
import json
import os
import re
import signal
import socket
import threading

import pytest

from network_fixture import http_get_retry, httpd_args, net, network_leftovers  # noqa: F401
from engine_fixture import eng, images, leftovers, store_mounts, template_store  # noqa: F401
from conftest import wait_for
from test_network import free_port


class Pods:
    """The engine bound to a store, with pod helpers; every pod is removed at teardown."""

    def __init__(self, e):
        self.e = e

    def __call__(self, *args, **kw):
        return self.e(*args, **kw)

    def ok(self, *args, **kw):
        return self.e.ok(*args, **kw)

    def create(self, *args):
        pod_id = self.ok("pod", "create", *args).out.strip()
        assert re.fullmatch(r"[0-9a-f]{64}", pod_id), pod_id
        self.inspect(pod_id)  # its infra's id noted, so the leftover checks look for it
        return pod_id

    def inspect(self, pod):
        data = json.loads(self.ok("pod", "inspect", pod).out)
        assert len(data) == 1
        return data[0]

    def run(self, pod, name, *cmd):
        return self.e.run_d("--pod", pod, "--name", name, "bb", *cmd)

    def sh(self, name, script, check=0):
        return self.e("exec", name, "sh", "-c", script, check=check)

    def ns(self, name, kind):
        return self.sh(name, "readlink /proc/self/ns/" + kind).out.strip()

    def pod_ids(self):
        r = self.e("pod", "ps", "-q", "--no-trunc")
        return r.out.split() if r.rc == 0 else []


@pytest.fixture
def pods(net):  # noqa: F811
    p = Pods(net)
    try:
        yield p
    finally:
        for pod_id in p.pod_ids():
            p("pod", "rm", "-f", pod_id)
        assert p.pod_ids() == [], "pods outlived pod rm -f"
        assert net.entries("pods") == [] and net.entries("pod-names") == [], "pod records left behind"


def host_ns(kind):
    return os.readlink("/proc/self/ns/" + kind)


# --------------------------------------------------------------- sharing


def test_members_talk_over_localhost_see_one_hostname_and_share_ipc(pods):
    pods.create("--name", "web")
    pods.run("web", "srv", "sh", "-c", "echo from-srv | nc -l -p 7777; sleep 1000")
    pods.run("web", "cli", "sleep", "1000")
    # The server's socket is in the one network namespace both have.
    got = wait_for(lambda: pods.sh("cli", "nc -w 2 127.0.0.1 7777 </dev/null", check=None).out.strip(), 10)
    assert got == "from-srv"
    assert pods.sh("srv", "hostname").out.strip() == "web"  # podman's default: the pod's name
    assert pods.sh("cli", "hostname").out.strip() == "web"
    assert pods.sh("cli", "cat /etc/hostname").out.strip() == "web"
    for kind in ("ipc", "net", "uts"):
        assert pods.ns("srv", kind) == pods.ns("cli", kind), kind
    infra = pods.inspect("web")["InfraContainerID"]
    infra_pid = pods.e.pid(infra)
    assert pods.ns("cli", "ipc") == os.readlink("/proc/%d/ns/ipc" % infra_pid)
    # With the IPC namespace, /dev/shm: POSIX shared memory is the pod's (podman's way).
    pods.sh("srv", "echo segment > /dev/shm/from-srv")
    assert pods.sh("cli", "cat /dev/shm/from-srv").out == "segment\n"
    # pid is not shared by default: each sees its own processes only.
    assert pods.ns("srv", "pid") != pods.ns("cli", "pid")
    ps = pods.sh("cli", "ps -o pid,args").out
    assert "nc -l" not in ps and "guise-init" not in ps, ps
    assert pods.e.inspect("cli")["Pod"] == pods.inspect("web")["Id"]
    info = pods.inspect("web")
    assert info["State"] == "Running" and info["NumContainers"] == 3
    assert info["SharedNamespaces"] == ["ipc", "net", "uts"]
    assert [c["Name"] for c in info["Containers"]][1:] == ["srv", "cli"]


def test_share_pid_members_see_each_others_processes(pods):
    pods.create("--name", "pp", "--share", "+pid")
    pods.run("pp", "one", "sleep", "1001")
    pods.run("pp", "two", "sleep", "1002")
    ps = pods.sh("two", "ps -o pid,args").out
    assert "sleep 1001" in ps and "sleep 1002" in ps, ps
    # PID 1 of the pod is the infra's guise-init -P, which reaps what is orphaned to it.
    first = [line.split(None, 1) for line in ps.splitlines()[1:]]
    assert ["1", "/run/guise-init -P"] in first, ps
    assert pods.ns("one", "pid") == pods.ns("two", "pid")
    # A member's orphan is reaped by the infra, not left a zombie.
    pods.sh("one", "sh -c 'sleep 0.2 &' ; true")
    assert wait_for(lambda: " Z " not in pods.sh("two", "ps -o pid,stat,args | grep -v grep").out, 5)


def test_published_port_of_the_pod_reaches_a_member(pods):
    port = free_port()
    pods.create("--name", "pub", "-p", "127.0.0.1:%d:8080" % port)
    assert pods.inspect("pub")["InfraConfig"]["PortBindings"] == {
        "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    pods.run("pub", "www", *httpd_args("in-the-pod"))
    assert http_get_retry("http://127.0.0.1:%d/" % port).strip() == "in-the-pod"


def test_on_a_user_network_the_pod_answers_to_its_name(pods):
    pods.ok("network", "create", "podnet")
    pods.create("--name", "api", "--network", "podnet")
    pods.run("api", "srv", *httpd_args("from-api", 80))
    pods.e.run_d("--name", "client", "--network", "podnet", "bb", "sleep", "1000")
    got = wait_for(lambda: pods.sh("client", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 api 80",
                                   check=None).out.strip().splitlines()[-1:] == ["from-api"], 10)
    assert got, pods.sh("client", "nslookup api", check=None)


def test_pod_stop_then_start_rejoins_the_new_infra(pods):
    pods.create("--name", "cycle")
    pods.run("cycle", "m1", "sleep", "1000")
    pods.ok("pod", "stop", "-t", "1", "cycle")
    assert pods.inspect("cycle")["State"] == "Exited"
    assert pods("ps", "-q").out.strip() == ""
    pods.ok("pod", "start", "cycle")
    info = pods.inspect("cycle")
    assert info["State"] == "Running", info
    infra_pid = pods.e.pid(info["InfraContainerID"])
    for kind in ("ipc", "net", "uts"):
        assert pods.ns("m1", kind) == os.readlink("/proc/%d/ns/%s" % (infra_pid, kind)), kind


def test_a_member_never_restarts_into_a_gone_infras_namespaces(pods):
    """The infra killed under a member with --restart always: the member dies with the pod's
    PID namespace, and its monitor does not start it again through /proc/PID paths whose
    PID is no longer the infra's; `pod start` brings both back, joined anew."""
    pods.create("--name", "fragile", "--share", "+pid")
    pods.e.run_d("--pod", "fragile", "--name", "keeper", "--restart", "always", "bb", "sleep", "1000")
    infra = pods.inspect("fragile")["InfraContainerID"]
    os.kill(pods.e.pid(infra), signal.SIGKILL)
    assert pods.e.wait_status("keeper", "exited", 15), pods.e.status("keeper")
    err = pods.e.fmt("keeper", "{{.State.Error}}")
    assert "has exited since" in err, err
    pods.ok("pod", "start", "fragile")
    infra_pid = pods.e.pid(infra)
    assert pods.ns("keeper", "pid") == os.readlink("/proc/%d/ns/pid" % infra_pid)


def test_a_container_whose_monitor_died_is_not_joined(pods):
    """An attack on pid reuse: the monitor of a container killed, its state still says
    running. Its init is no longer the monitor's child, so nothing may join "its"
    namespaces by the pid in its state (which the kernel may give to any process, the
    host's included): run --network container:NAME is refused, in one line."""
    target = pods.e.run_d("--network", "none", "--name", "orphaned", "bb", "sleep", "1000")
    monitor = json.load(open(os.path.join(pods.e.root, "containers", target, "state.json")))["monitor_pid"]
    os.kill(monitor, signal.SIGKILL)
    assert wait_for(lambda: pods.e.status("orphaned") == "dead", 5), pods.e.status("orphaned")
    r = pods.e("run", "--rm", "--network", "container:orphaned", "bb", "true")
    assert r.rc == 125 and "cannot join container orphaned: it is not running" in r.err, r
    assert len(r.err.strip().splitlines()) == 1, r.err


def test_pod_kill_ends_every_container(pods):
    pod_id = pods.create("--name", "killed")
    pods.run("killed", "k1", "sleep", "1000")
    pods.run("killed", "k2", "sleep", "1000")
    assert pods.ok("pod", "kill", "killed").out.strip() == pod_id
    assert wait_for(lambda: pods.inspect("killed")["State"] == "Exited", 10), pods.inspect("killed")
    for c in pods.inspect("killed")["Containers"]:
        assert c["State"] == "exited", c
    assert pods.e.state_json(pods.e.ids()[0])["exit_code"] == 137
    r = pods("pod", "kill", "killed")
    assert (r.rc, r.err) == (125, "Error: pod killed is not running\n"), r


def test_share_none_leaves_members_their_own_namespaces(pods):
    pods.create("--name", "loose", "--share", "none")
    assert pods.inspect("loose")["SharedNamespaces"] == []
    port = free_port()
    # Nothing shared, nothing refused: a member has its own network and may publish.
    pods.e.run_d("--pod", "loose", "--name", "own", "-p", "127.0.0.1:%d:8080" % port, "bb", *httpd_args("own"))
    pods.run("loose", "other", "sleep", "1000")
    assert http_get_retry("http://127.0.0.1:%d/" % port).strip() == "own"
    for kind in ("ipc", "net", "uts", "pid"):
        assert pods.ns("own", kind) != pods.ns("other", kind), kind
    assert pods.sh("own", "hostname").out.strip() != "loose"


def test_pod_events(pods):
    pod_id = pods.create("--name", "ev")
    pods.run("ev", "e1", "sleep", "1000")
    pods.ok("pod", "stop", "-t", "1", "ev")
    pods.ok("pod", "start", "ev")
    pods.ok("pod", "kill", "ev")
    pods.ok("pod", "rm", "-f", "ev")
    out = pods.ok("events", "--since", "0", "--until", "0s", "--filter", "type=pod", "--format",
                  "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}").out
    assert out.splitlines() == ["pod %s %s ev" % (a, pod_id) for a in ("create", "stop", "start", "kill", "remove")]


def test_pod_ls_columns_and_format(pods):
    pod_id = pods.create("--name", "listed")
    out = pods.ok("pod", "ls").out.splitlines()
    assert re.split(r"\s{2,}", out[0].strip()) == ["POD ID", "NAME", "STATUS", "CREATED", "INFRA ID",
                                                   "# OF CONTAINERS"]
    row = re.split(r"\s{2,}", out[1].strip())
    assert row[0] == pod_id[:12] and row[1] == "listed" and row[2] == "Created" and row[5] == "1", row
    assert pods.ok("pod", "ps", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}}").out == "listed Created 1\n"
    assert pods.ok("pod", "ps", "-q").out.strip() == pod_id[:12]


def test_ps_shows_and_filters_by_pod(pods):
    pod_id = pods.create("--name", "seen")
    pods.run("seen", "inpod", "sleep", "1000")
    pods.e.run_d("--name", "outside", "bb", "sleep", "1000")
    out = pods.ok("ps", "--pod").out.splitlines()
    head = re.split(r"\s{2,}", out[0].strip())
    assert head[-2:] == ["POD ID", "PODNAME"], head
    rows = {re.split(r"\s{2,}", l.strip())[-3]: l for l in out[1:]}
    assert rows["inpod"].rstrip().endswith(pod_id[:12] + "   seen"), rows
    names = pods.ok("ps", "-a", "--filter", "pod=seen", "--format", "{{.Names}} {{.PodName}}").out.split("\n")
    assert sorted(n for n in names if n) == sorted(["inpod seen", pod_id[:12] + "-infra seen"])
    assert pods.ok("ps", "--filter", "pod=" + pod_id[:6], "-q").out.split() != []


# --------------------------------------------------------------- removal


def test_pod_rm_force_removes_members_and_leaves_nothing(pods):
    port = free_port()
    pod_id = pods.create("--name", "gone", "-p", "127.0.0.1:%d:8080" % port)
    infra = pods.inspect("gone")["InfraContainerID"]
    pods.run("gone", "w1", *httpd_args("x"))
    pods.run("gone", "w2", "sleep", "1000")
    http_get_retry("http://127.0.0.1:%d/" % port)
    ids = set(pods.e.ids())
    assert len(ids) == 3

    r = pods("pod", "rm", "gone")
    assert r.rc == 125 and r.err == ("Error: pod gone has running containers: stop the pod before removing or "
                                     "force remove\n"), r
    r = pods("rm", "-f", infra)
    assert r.rc != 0 and "is the infra container of pod %s and cannot be removed without removing the pod" % pod_id \
        in r.err, r
    assert pods("container", "prune", "-f").rc == 0 and len(pods.e.ids()) == 3

    assert pods.ok("pod", "rm", "-f", "gone").out.strip() == pod_id
    assert pods.e.ids() == [] and pods.pod_ids() == []
    assert wait_for(lambda: not network_leftovers(pods.e.root, ids) and not leftovers(pods.e, ids), 10), \
        network_leftovers(pods.e.root, ids) + leftovers(pods.e, ids)
    for verb in ("inspect", "rm", "start", "stop"):
        r = pods("pod", verb, "gone")
        assert (r.rc, r.err) == (1, "Error: no pod with name or ID gone found\n"), r


def test_what_a_killed_pod_create_left_is_removed(pods):
    """A `pod create` killed after its infra but before its record: the next pod command
    removes the infra, the directory and the name."""
    pod_id = pods.create("--name", "half")
    infra = pods.inspect("half")["InfraContainerID"]
    os.unlink(os.path.join(pods.e.root, "pods", pod_id, "record.json"))
    assert pods.ok("pod", "ps", "-q").out == ""
    assert pods.e.entries("pods") == [] and pods.e.entries("pod-names") == []
    assert infra not in pods.e.ids() and pods.e.entries("containers") == []
    assert store_mounts(pods.e.root) == []  # its /dev/shm too
    pods.create("--name", "half")  # the name is free again


def test_pod_exists_and_prune(pods):
    stopped = pods.create("--name", "idle")
    pods.run("idle", "i1", "true")
    busy = pods.create("--name", "busy")
    pods.run("busy", "b1", "sleep", "1000")
    assert pods("pod", "exists", "idle").rc == 0 and pods("pod", "exists", "nope").rc == 1
    pods.ok("pod", "stop", "idle")
    assert pods.ok("pod", "prune", "-f").out.split() == [stopped]
    assert pods("pod", "exists", "idle").rc == 1 and pods("pod", "exists", "busy").rc == 0
    assert sorted(pods.ok("ps", "-a", "--format", "{{.Names}}").out.split()) == sorted(["b1", busy[:12] + "-infra"])


def test_a_member_may_go_alone(pods):
    pods.create("--name", "keep")
    pods.run("keep", "solo", "sleep", "1000")
    pods.ok("rm", "-f", "solo")
    info = pods.inspect("keep")
    assert info["NumContainers"] == 1 and info["State"] == "Running"


# --------------------------------------------------------------- refused


@pytest.mark.parametrize("flags,err", [
    (["-p", "8080:80"], "Error: -p, --publish: published ports must be defined when the pod is created: "
                        "pod fix shares its network namespace\n"),
    (["--network", "none"], "Error: --network: the network must be defined when the pod is created: "
                            "pod fix shares its network namespace\n"),
    (["--hostname", "other"], "Error: -h, --hostname: the hostname must be defined when the pod is created: "
                              "pod fix shares its UTS namespace\n"),
    (["--add-host", "h:10.0.0.1"], "Error: --add-host: hosts must be defined when the pod is created: "
                                   "pod fix shares its network namespace\n"),
    (["--ipc", "host"], "Error: --ipc: the IPC namespace must be defined when the pod is created: "
                        "pod fix shares its IPC namespace\n"),
])
def test_run_in_pod_refuses_what_the_pod_decides(pods, flags, err):
    pods.create("--name", "fix")
    before = pods.e.entries("containers")
    r = pods("run", "-d", "--pod", "fix", *flags, "bb", "true")
    assert (r.rc, r.err) == (125, err), r
    assert pods.e.entries("containers") == before


def test_run_in_an_unknown_pod(pods):
    r = pods("run", "--pod", "nope", "bb", "true")
    assert (r.rc, r.err) == (125, "Error: no pod with name or ID nope found\n"), r
    assert pods.e.entries("containers") == []


def test_run_of_a_missing_image_in_a_pod_leaves_the_pod_as_it_was(pods):
    pods.create("--name", "still")
    r = pods("run", "--pull", "never", "--pod", "still", "no-such-image", "true")
    assert r.rc == 125 and "no-such-image" in r.err, r
    assert pods.inspect("still")["State"] == "Created"  # its infra not started for nothing
    assert len(pods.e.ids()) == 1


@pytest.mark.parametrize("flags,err", [
    (["-p", "abc"], "invalid"),
    (["--network", "nosuchnet"], "network nosuchnet not found"),
    (["--share", "mnt"], "--share: \"mnt\" is not a namespace a pod can share"),
    (["--name", "-bad"], "--name"),
    (["--pid", "container:x"], "--pid"),
])
def test_pod_create_bad_input_leaves_nothing(pods, flags, err):
    links_before = sorted(os.listdir("/sys/class/net"))
    r = pods("pod", "create", *flags)
    assert r.rc == 125 and err in r.err and r.err.count("\n") == 1, r
    assert pods.e.entries("containers") == [] and pods.e.entries("pods") == [] and pods.e.entries("pod-names") == []
    assert pods.e.entries("rootfs") == []
    assert sorted(os.listdir("/sys/class/net")) == links_before
    assert network_leftovers(pods.e.root, set()) == []
    assert store_mounts(pods.e.root) == []


def test_a_pod_whose_port_is_taken_cannot_start_and_leaves_nothing(pods):
    """The port is the pod's: a host process holding it stops the first member's run, which
    then leaves no member, veth, namespace, lease or nft rule; the pod stays, created."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("0.0.0.0", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    links = sorted(os.listdir("/sys/class/net"))
    try:
        pods.create("--name", "clash", "-p", "%d:80" % port)
        infra = pods.inspect("clash")["InfraContainerID"]
        r = pods("run", "-d", "--pod", "clash", "--name", "never", "bb", "sleep", "100")
        assert r.rc == 125 and "%d/tcp" % port in r.err and "already in use" in r.err, r
        assert r.err.count("\n") == 1, r.err
    finally:
        holder.close()
    assert pods.e.ids() == [infra]
    assert pods.inspect("clash")["State"] == "Exited" or pods.inspect("clash")["State"] == "Created"
    assert sorted(os.listdir("/sys/class/net")) == links
    assert network_leftovers(pods.e.root, {infra}) == []


def test_pod_name_taken(pods):
    pods.create("--name", "twice")
    r = pods("pod", "create", "--name", "twice")
    assert r.rc == 125 and "pod name \"twice\" is in use" in r.err, r
    assert len(pods.pod_ids()) == 1 and len(pods.e.entries("containers")) == 1


# --------------------------------------------------------------- Kubernetes' fields


def _answer_once(server, data):
    try:
        conn, _ = server.accept()
    except OSError:
        return
    with conn:
        conn.sendall(data)


def _ps_has_pid(pods, name, pid):
    return pods.sh(name, "test -d /proc/%d && echo yes || echo no" % pid).out.strip() == "yes"


@pytest.mark.parametrize("field", ["hostNetwork", "hostPID", "hostIPC", "hostname"])
def test_kubernetes_field_from_inside(pods, field):
    flags = {"hostNetwork": ["--network", "host"], "hostPID": ["--pid", "host"], "hostIPC": ["--ipc", "host"],
             "hostname": ["--hostname", "kube-pod-0"]}[field]
    pods.create("--name", "k8s", *flags)
    pods.run("k8s", "a1", "sleep", "1000")
    pods.run("k8s", "a2", "sleep", "1000")
    for member in ("a1", "a2"):
        if field == "hostNetwork":
            assert pods.ns(member, "net") == host_ns("net")
            # A socket the host listens on is reachable at the member's 127.0.0.1.
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            s.settimeout(10)
            t = threading.Thread(target=lambda: _answer_once(s, b"from-the-host\n"))
            t.start()
            try:
                port = s.getsockname()[1]
                got = pods.sh(member, "nc -w 2 127.0.0.1 %d </dev/null" % port, check=None).out.strip()
                assert got == "from-the-host"
            finally:
                t.join(15)
                s.close()
        elif field == "hostPID":
            assert pods.ns(member, "pid") == host_ns("pid")
            assert _ps_has_pid(pods, member, os.getpid())  # this test's own process
        elif field == "hostIPC":
            assert pods.ns(member, "ipc") == host_ns("ipc")
            assert pods.ns(member, "net") != host_ns("net")  # the rest stays the pod's own
        else:
            assert pods.sh(member, "hostname").out.strip() == "kube-pod-0"
            assert pods.ns(member, "uts") != host_ns("uts")
    if field != "hostname":
        assert pods.ns("a1", "uts") == pods.ns("a2", "uts")
    info = pods.inspect("k8s")
    assert info["InfraConfig"]["HostNetwork"] == (field == "hostNetwork")
    if field == "hostPID":
        assert "pid" in info["SharedNamespaces"]
