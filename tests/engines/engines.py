"""containerd (through ctr), docker and podman: each daemon started with all its
state under one temporary directory, and one verb set over their command lines.

Every container runs with the OCI runtime given to it (a Runtime of
support.py: a logging wrapper around guise-oci or runc), in a cgroup below the
test's own cgroup, under CGROUP_PARENT (a relative path).
"""

import json
import os
import re
import subprocess
import time

import image
import support
from support import run, run_pty, wait_for

CTR = "/usr/bin/ctr"
CONTAINERD = "/usr/bin/containerd"
DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"      # docker.io's client; /usr/local/bin may hold another
PODMAN = "/usr/bin/podman"
CONMON = "/usr/bin/conmon"


def base_env(extra=None):
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", "TERM": "xterm"}
    env.update(extra or {})
    return env


class EngineError(AssertionError):
    pass


def ok(r, what=""):
    if r.rc != 0:
        raise EngineError("%s failed: %r" % (what or r.argv[:4], r))
    return r


class Engine:
    """Verbs shared by the three engines; each returns support.Result or data."""

    name = None
    OOM_EXIT = 137

    def __init__(self, work, runtimes, cgroup_parent):
        self.work = work
        self.runtimes = runtimes
        self.cgroup_parent = cgroup_parent
        self.image = None

    # subclasses: run, run_tty, run_detached, exec, exec_tty, top, pause, resume, status,
    # stats, update, stop, kill, rm, pid, exit_code, oom_killed, cleanup


# --------------------------------------------------------------- containerd


CONTAINERD_CONFIG = """\
version = 2
root = "{d}/root"
state = "{d}/state"
# the snapshotters and tracing plugins this machine has no use for
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"

# The CRI plugin (tests/engines/test_cri.py): the pause image is one made here
# and imported, never pulled; the pods' network namespaces are mounted under
# the state dir, not /run/netns; the network is the test CNI plugin's below.
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  netns_mounts_under_state_dir = true
  enable_selinux = false
  # the sandbox's oom_score_adj is -998; no lower than containerd's own here, as
  # a test host (a container itself) may lack CAP_SYS_RESOURCE to lower it
  restrict_oom_score_adj = true
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "{d}/cni/bin"
  conf_dir = "{d}/cni/net.d"

# The CRI plugin's runtimes, as Kubernetes reaches them (RuntimeClass handler
# "guise").  Declaring any runtime replaces the built-in list, so runc is
# declared again beside it.  systemd_cgroup stays off: the pods' cgroups are
# cgroupfs paths below the test's own cgroup.
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    BinaryName = "{runc}"
    Root = "{d}/runc-root"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.guise]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.guise.options]
    BinaryName = "{guise}"
    Root = "{d}/guise-root"
"""


# A CNI plugin for the CRI plugin's pods, so that no host network is touched:
# "loopback" brings the pod's lo up; the network's own type gives the pod an
# eth0 that is a bridge with no ports and a fixed address, inside the pod's
# network namespace and gone with it.  (containerd 1.6 needs an eth0 with an
# address in the result, or RunPodSandbox fails.)
CNI_PLUGIN = r"""#!/bin/sh
conf=$(cat)
ver=$(printf '%s' "$conf" | sed -n 's/.*"cniVersion" *: *"\([^"]*\)".*/\1/p')
case $CNI_COMMAND in
  VERSION) echo '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0"]}'; exit 0 ;;
  ADD) ;;
  *) exit 0 ;;   # DEL, CHECK: the devices live and die with the namespace
esac
if [ "$(basename "$0")" = loopback ]; then
  nsenter --net="$CNI_NETNS" ip link set lo up || exit 1
  printf '{"cniVersion":"%s","interfaces":[{"name":"lo","sandbox":"%s"}],"ips":[{"version":"4","interface":0,"address":"127.0.0.1/8"}],"dns":{}}' "$ver" "$CNI_NETNS"
else
  nsenter --net="$CNI_NETNS" sh -c "ip link add $CNI_IFNAME type bridge && ip addr add 10.88.0.2/24 dev $CNI_IFNAME && ip link set $CNI_IFNAME up" >&2 || exit 1
  printf '{"cniVersion":"%s","interfaces":[{"name":"%s","sandbox":"%s"}],"ips":[{"version":"4","interface":0,"address":"10.88.0.2/24"}],"dns":{}}' "$ver" "$CNI_IFNAME" "$CNI_NETNS"
fi
"""

CNI_CONF = '{"cniVersion": "0.4.0", "name": "guise-test", "type": "guise-test-net"}\n'


def write_cni(d):
    """The test CNI plugin (as "loopback" and "guise-test-net") and its network
    config, in D/cni/bin and D/cni/net.d."""
    for sub in ("bin", "net.d"):
        os.makedirs(os.path.join(d, "cni", sub), exist_ok=True)
    for name in ("loopback", "guise-test-net"):
        path = os.path.join(d, "cni", "bin", name)
        with open(path, "w") as f:
            f.write(CNI_PLUGIN)
        os.chmod(path, 0o755)
    with open(os.path.join(d, "cni", "net.d", "10-guise-test.conf"), "w") as f:
        f.write(CNI_CONF)


class Containerd:
    """A containerd whose root, state, sockets and opt dir are all under DIR."""

    def __init__(self, d, runtimes):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.sock = os.path.join(d, "containerd.sock")
        self.config = os.path.join(d, "config.toml")
        self.guise_binary = runtimes["guise"].path
        write_cni(d)
        with open(self.config, "w") as f:
            f.write(CONTAINERD_CONFIG.format(d=d, runc=runtimes["runc"].path,
                                             guise=runtimes["guise"].path,
                                             pause=image.PAUSE_REF))
        self.daemon = support.Daemon(
            "containerd", [CONTAINERD, "--config", self.config], base_env(),
            os.path.join(d, "containerd.log"),
            lambda: os.path.exists(self.sock) and run(
                [CTR, "--address", self.sock, "version"], timeout=20).rc == 0)

    def ctr(self, *args, **kw):
        return run([CTR, "--address", self.sock, *args], env=base_env(), **kw)

    def plugin_status(self, plugin_id):
        r = ok(self.ctr("plugins", "ls"))
        for line in r.out.splitlines():
            f = line.split()
            if len(f) >= 4 and f[1] == plugin_id:
                return f[-1]
        return None

    def stop(self):
        self.daemon.stop()


class Ctr(Engine):
    """containerd through ctr, as a user without Kubernetes drives it.

    The runtime is chosen per container with --runc-binary (BinaryName in the
    shim's options) and its state root with --runc-root; both sit in the
    container's runtime options, which ctr keeps as long as no task option
    (--no-pivot, --uidmap on a task) replaces them.
    """

    name = "ctr"

    def __init__(self, work, runtimes, cgroup_parent, containerd):
        super().__init__(work, runtimes, cgroup_parent)
        self.containerd = containerd
        self.fifo_dir = os.path.join(work, "fifo")
        self.ids = []

    def ctr(self, *args, **kw):
        return self.containerd.ctr(*args, **kw)

    def load(self, archive):
        ok(self.ctr("image", "import", archive), "ctr image import")

    def _run_args(self, runtime, cid, opts):
        self.ids.append(cid)
        rt = self.runtimes[runtime]
        return ["run", "--fifo-dir", self.fifo_dir, "--runc-binary", rt.path,
                "--runc-root", os.path.join(self.containerd.dir, "ctr-%s-root" % runtime),
                "--cgroup", "%s/%s" % (self.cgroup_parent, cid), *opts]

    @staticmethod
    def _limit_opts(memory=None, cpus=None, pids=None):
        opts = []
        if memory:
            opts += ["--memory-limit", str(memory)]
        if cpus:
            opts += ["--cpus", str(cpus)]
        if pids:
            raise NotImplementedError("ctr run has no pids limit flag")
        return opts

    def run(self, runtime, cid, cmd, opts=(), timeout=120, **limits):
        args = self._run_args(runtime, cid, [*opts, *self._limit_opts(**limits)])
        r = self.ctr(*args, self.image, cid, *cmd, timeout=timeout)
        return r

    def run_tty(self, runtime, cid, cmd, timeout=120):
        args = self._run_args(runtime, cid, ["-t"])
        return run_pty([CTR, "--address", self.containerd.sock, *args, self.image, cid, *cmd],
                       env=base_env(), timeout=timeout)

    def run_detached(self, runtime, cid, cmd, opts=(), **limits):
        args = self._run_args(runtime, cid, ["-d", "--null-io", *opts,
                                             *self._limit_opts(**limits)])
        ok(self.ctr(*args, self.image, cid, *cmd), "ctr run -d")
        return cid

    def run_spec(self, runtime, cid, spec_path):
        """ctr run -d --config: a whole OCI spec, for what ctr has no flag for."""
        self.ids.append(cid)
        rt = self.runtimes[runtime]
        return self.ctr("run", "-d", "--null-io", "--fifo-dir", self.fifo_dir,
                        "--runc-binary", rt.path,
                        "--runc-root", os.path.join(self.containerd.dir, "ctr-%s-root" % runtime),
                        "--config", spec_path, cid)

    def exec(self, cid, cmd):
        return self.ctr("task", "exec", "--fifo-dir", self.fifo_dir,
                        "--exec-id", "x%d" % int(time.monotonic() * 1000), cid, *cmd)

    def exec_tty(self, cid, cmd):
        return run_pty([CTR, "--address", self.containerd.sock, "task", "exec", "--fifo-dir",
                        self.fifo_dir, "-t", "--exec-id", "t%d" % int(time.monotonic() * 1000),
                        cid, *cmd], env=base_env())

    def top(self, cid):
        return self.ctr("task", "ps", cid)

    def top_pids(self, cid):
        r = ok(self.top(cid))
        return [int(l.split()[0]) for l in r.out.splitlines()[1:] if l.split()]

    def pause(self, cid):
        return self.ctr("task", "pause", cid)

    def resume(self, cid):
        return self.ctr("task", "resume", cid)

    def _task(self, cid):
        r = ok(self.ctr("task", "ls"))
        for line in r.out.splitlines()[1:]:
            f = line.split()
            if f and f[0] == cid:
                return {"pid": int(f[1]), "status": f[2]}
        return None

    def status(self, cid):
        t = self._task(cid)
        if t is None:
            return "gone"
        return {"RUNNING": "running", "PAUSED": "paused", "STOPPED": "exited",
                "CREATED": "created", "PAUSING": "pausing"}.get(t["status"], t["status"])

    def pid(self, cid):
        return self._task(cid)["pid"]

    def stats(self, cid):
        """{"memory": bytes in use, "pids": count} from ctr task metrics."""
        r = ok(self.ctr("task", "metrics", "--format", "json", cid))
        m = json.loads(r.out)
        data = m.get("Data") or m.get("data") or m
        mem = data.get("memory", {}).get("usage", {}).get("usage")
        pids = data.get("pids", {}).get("current")
        return {"memory": mem, "pids": pids, "raw": m}

    update = None  # ctr 1.6 has no `task update`; containerd's Update is reached through dockerd

    def stop(self, cid, timeout=2):
        """SIGTERM, SIGKILL after TIMEOUT seconds (ctr has no `stop`, so the way
        docker and podman do it); returns the exit code."""
        ok(self.ctr("task", "kill", "-s", "SIGTERM", cid), "ctr task kill")
        if not wait_for(lambda: self.status(cid) == "exited", timeout):
            ok(self.ctr("task", "kill", "-s", "SIGKILL", cid), "ctr task kill -s SIGKILL")
            wait_for(lambda: self.status(cid) == "exited", 30)
        return self.exit_code(cid)

    def kill(self, cid, sig="SIGKILL"):
        r = self.ctr("task", "kill", "-s", sig, cid)
        wait_for(lambda: self.status(cid) == "exited", 30)
        return r

    def exit_code(self, cid):
        """The exit status, as `ctr task delete` reports it ("task ID exit with
        non-zero exit code N" on stderr); deletes the task."""
        r = self.ctr("task", "delete", cid)
        m = re.search(r"exit with non-zero exit code (\d+)", r.err)
        if m:
            return int(m.group(1))
        if r.rc != 0:
            raise EngineError("ctr task delete: %r" % r)
        return 0

    def rm(self, cid, force=False):
        if force:
            self.ctr("task", "kill", "-s", "SIGKILL", cid)
            wait_for(lambda: self.status(cid) in ("exited", "gone"), 30)
        if self.status(cid) != "gone":
            r = self.ctr("task", "delete", *(["--force"] if force else []), cid)
            if r.rc not in (0, 137, 143) and r.err.strip():
                return r
        return self.ctr("container", "delete", cid)

    def exists(self, cid):
        r = ok(self.ctr("container", "ls", "-q"))
        return cid in r.out.split()

    def events(self):
        """A `ctr events` stream, read back with .stop()."""
        return EventStream([CTR, "--address", self.containerd.sock, "events"],
                           os.path.join(self.work, "events-%d.log" % time.monotonic_ns()))

    def cleanup(self):
        for cid in self.ids:
            if self.status(cid) != "gone":
                self.ctr("task", "kill", "-s", "SIGKILL", cid)
                wait_for(lambda: self.status(cid) in ("exited", "gone"), 15)
                self.ctr("task", "delete", "--force", cid)
            self.ctr("container", "delete", cid)
        self.ids = []


class EventStream:
    def __init__(self, argv, path):
        self.path = path
        self.f = open(path, "wb")
        self.proc = subprocess.Popen(argv, env=base_env(), stdout=self.f,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(0.5)  # subscribed before the caller acts

    def read(self):
        with open(self.path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.f.close()
        return self.read()


# --------------------------------------------------------------- docker


class Dockerd:
    """A dockerd with --data-root, --exec-root, its socket and pidfile under DIR,
    no bridge and no iptables, cgroupfs, the given containerd, and both
    runtimes declared in daemon.json.  EXTRA overrides daemon.json keys (the engine
    benchmark gives it a bridge of its own and iptables)."""

    def __init__(self, d, runtimes, containerd, cgroup_parent, extra=None):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.sock = os.path.join(d, "docker.sock")
        self.config = {
            "bridge": "none",
            "iptables": False,
            "ip6tables": False,
            "ip-forward": False,
            "ip-masq": False,
            "exec-opts": ["native.cgroupdriver=cgroupfs"],
            "cgroup-parent": cgroup_parent,
            "containerd": containerd.sock,
            "storage-driver": "overlay2",
            "log-driver": "json-file",
            "default-runtime": "runc",
            "runtimes": {
                "guise": {"path": runtimes["guise"].path},
                "runc-logged": {"path": runtimes["runc"].path},
            },
        }
        self.config.update(extra or {})
        self.config_path = os.path.join(d, "daemon.json")
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        self.cli_config = os.path.join(d, "cli")
        os.makedirs(self.cli_config, exist_ok=True)
        self.daemon = support.Daemon(
            "dockerd",
            [DOCKERD, "--config-file", self.config_path,
             "--data-root", os.path.join(d, "data"), "--exec-root", os.path.join(d, "exec"),
             "-H", "unix://" + self.sock, "--pidfile", os.path.join(d, "docker.pid")],
            base_env(), os.path.join(d, "dockerd.log"),
            lambda: os.path.exists(self.sock) and self.docker("version", timeout=20).rc == 0,
            timeout=120)

    def docker(self, *args, **kw):
        return run([DOCKER, "-H", "unix://" + self.sock, *args],
                   env=base_env({"DOCKER_CONFIG": self.cli_config}), **kw)

    def argv(self, *args):
        return [DOCKER, "-H", "unix://" + self.sock, *args]

    def env(self):
        return base_env({"DOCKER_CONFIG": self.cli_config})

    def stop(self):
        self.daemon.stop()


class DockerLike(Engine):
    """docker and podman share their verbs."""

    RUNTIME_NAMES = None  # {"guise": ..., "runc": ...}

    def __init__(self, work, runtimes, cgroup_parent):
        super().__init__(work, runtimes, cgroup_parent)
        self.ids = []

    def cli(self, *args, **kw):
        raise NotImplementedError

    def argv(self, *args):
        raise NotImplementedError

    def env(self):
        raise NotImplementedError

    def extra_run_opts(self, cid):
        return []

    def _run_args(self, runtime, cid, opts, limits):
        self.ids.append(cid)
        a = ["run", "--name", cid, "--runtime", self.RUNTIME_NAMES[runtime],
             "--network", "none", *self.extra_run_opts(cid)]
        if limits.get("memory"):
            a += ["--memory", str(limits["memory"])]
        if limits.get("cpus"):
            a += ["--cpus", str(limits["cpus"])]
        if limits.get("pids"):
            a += ["--pids-limit", str(limits["pids"])]
        return a + list(opts)

    def run(self, runtime, cid, cmd, opts=(), timeout=120, **limits):
        return self.cli(*self._run_args(runtime, cid, opts, limits), self.image, *cmd,
                        timeout=timeout)

    def run_tty(self, runtime, cid, cmd, timeout=120):
        return run_pty(self.argv(*self._run_args(runtime, cid, ["-t"], {}), self.image, *cmd),
                       env=self.env(), timeout=timeout, cwd=self.work)

    def run_detached(self, runtime, cid, cmd, opts=(), **limits):
        ok(self.cli(*self._run_args(runtime, cid, ["-d", *opts], limits), self.image, *cmd),
           "%s run -d" % self.name)
        return cid

    def exec(self, cid, cmd):
        return self.cli("exec", cid, *cmd)

    def exec_tty(self, cid, cmd):
        return run_pty(self.argv("exec", "-t", cid, *cmd), env=self.env(), cwd=self.work)

    def top(self, cid):
        return self.cli("top", cid)

    def top_pids(self, cid):
        r = ok(self.top(cid))
        lines = r.out.splitlines()
        col = lines[0].split().index("PID")
        return [int(l.split()[col]) for l in lines[1:] if l.split()]

    def pause(self, cid):
        return self.cli("pause", cid)

    def resume(self, cid):
        return self.cli("unpause", cid)

    def inspect(self, cid, fmt):
        return ok(self.cli("inspect", "--format", fmt, cid)).out.strip()

    def status(self, cid):
        r = self.cli("inspect", "--format", "{{.State.Status}}", cid)
        if r.rc != 0:
            return "gone"
        s = r.out.strip()
        return {"stopped": "exited"}.get(s, s)

    def pid(self, cid):
        return int(self.inspect(cid, "{{.State.Pid}}"))

    def exit_code(self, cid):
        return int(self.inspect(cid, "{{.State.ExitCode}}"))

    def oom_killed(self, cid):
        return self.inspect(cid, "{{.State.OOMKilled}}") == "true"

    def update(self, cid, memory, cpus, swap=None):
        return self.cli("update", "--memory", str(memory),
                        *(["--memory-swap", str(swap)] if swap else []), "--cpus", str(cpus), cid)

    def stop(self, cid, timeout=2):
        ok(self.cli("stop", "-t", str(timeout), cid, timeout=timeout + 60), "%s stop" % self.name)
        return self.exit_code(cid)

    def kill(self, cid, sig="SIGKILL"):
        r = self.cli("kill", "--signal", sig, cid)
        wait_for(lambda: self.status(cid) == "exited", 30)
        return r

    def rm(self, cid, force=False):
        return self.cli("rm", *(["-f"] if force else []), cid)

    def exists(self, cid):
        return self.cli("inspect", "--format", "{{.Id}}", cid).rc == 0

    def cleanup(self):
        if self.ids:
            self.cli("rm", "-f", *self.ids, timeout=120)
        self.ids = []


class Docker(DockerLike):
    name = "docker"
    RUNTIME_NAMES = {"guise": "guise", "runc": "runc-logged"}

    def __init__(self, work, runtimes, cgroup_parent, dockerd):
        super().__init__(work, runtimes, cgroup_parent)
        self.dockerd = dockerd

    def cli(self, *args, **kw):
        return self.dockerd.docker(*args, **kw)

    def argv(self, *args):
        return self.dockerd.argv(*args)

    def env(self):
        return self.dockerd.env()

    def load(self, archive):
        ok(self.cli("load", "-i", archive), "docker load")

    def stats(self, cid):
        r = ok(self.cli("stats", "--no-stream", "--format", "{{json .}}", cid))
        s = json.loads(r.out.strip().splitlines()[-1])
        return {"memory": parse_size(s["MemUsage"].split("/")[0]), "pids": int(s["PIDs"]),
                "raw": s}


def parse_size(text):
    m = re.match(r"\s*([\d.]+)\s*([kKMGT]?i?B)?", text)
    if not m:
        return None
    unit = (m.group(2) or "B").lower()
    mult = {"b": 1, "kb": 1e3, "kib": 1024, "mb": 1e6, "mib": 1024 ** 2,
            "gb": 1e9, "gib": 1024 ** 3}.get(unit, 1)
    return int(float(m.group(1)) * mult)


# --------------------------------------------------------------- podman

CONTAINERS_CONF = """\
[containers]
# podman's own defaults (nofile 1048576, nproc 4194304) exceed this machine's
# hard limits; a runtime cannot raise a hard limit.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
# conmon stays in podman's cgroup: on cgroupfs podman would otherwise make
# <cgroup-parent>/conmon at the root of every hierarchy.
cgroups = "no-conmon"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{d}/events.log"
tmp_dir = "{d}/tmp"
volume_path = "{d}/volumes"
conmon_path = ["{conmon}"]
# podman hands --log-format json to the runtimes named here, and reads their
# errors from that log
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "guise"]

[engine.runtimes]
guise = ["{guise}"]
runc = ["{runc}"]

[network]
network_config_dir = "{d}/net"
"""

STORAGE_CONF = """\
[storage]
driver = "overlay"
graphroot = "{d}/root"
runroot = "{d}/runroot"
"""


class PodmanEnv:
    """podman's configuration and state, all under DIR (podman has no daemon)."""

    def __init__(self, d, runtimes):
        self.dir = d
        os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(d, "net"), exist_ok=True)
        self.conf = os.path.join(d, "containers.conf")
        with open(self.conf, "w") as f:
            f.write(CONTAINERS_CONF.format(d=d, conmon=CONMON, guise=runtimes["guise"].path,
                                           runc=runtimes["runc"].path))
        with open(os.path.join(d, "registries.conf"), "w") as f:
            f.write('unqualified-search-registries = []\nshort-name-mode = "permissive"\n')
        self.storage_conf = os.path.join(d, "storage.conf")
        with open(self.storage_conf, "w") as f:
            f.write(STORAGE_CONF.format(d=d))

    def env(self):
        return base_env({"CONTAINERS_CONF": self.conf,
                         "CONTAINERS_STORAGE_CONF": self.storage_conf,
                         "CONTAINERS_REGISTRIES_CONF": os.path.join(self.dir, "registries.conf")})

    def argv(self, *args):
        d = self.dir
        return [PODMAN, "--root", os.path.join(d, "root"), "--runroot", os.path.join(d, "runroot"),
                "--tmpdir", os.path.join(d, "tmp"), "--cgroup-manager", "cgroupfs",
                "--events-backend", "file", "--storage-driver", "overlay", *args]

    def podman(self, *args, cwd=None, **kw):
        return run(self.argv(*args), env=self.env(), cwd=cwd or self.cwd(), **kw)

    def cwd(self, name="default"):
        """podman's working directory.  conmon 2.1.6, started by podman 4.3
        without --persist-dir, writes its OOM marker "oom" into its working
        directory, which is podman's (podman looks for it in the bundle and
        never finds it): each container gets its own."""
        d = os.path.join(self.dir, "cwd", name)
        os.makedirs(d, exist_ok=True)
        return d

    def stop(self):
        # no daemon; containers are removed by Podman.cleanup, then:
        self.podman("system", "prune", "--force", timeout=60)


class Podman(DockerLike):
    name = "podman"
    RUNTIME_NAMES = {"guise": "guise", "runc": "runc"}

    def __init__(self, work, runtimes, cgroup_parent, penv):
        super().__init__(work, runtimes, cgroup_parent)
        self.penv = penv

    def cli(self, *args, **kw):
        return self.penv.podman(*args, **kw)

    def argv(self, *args):
        return self.penv.argv(*args)

    def env(self):
        return self.penv.env()

    def extra_run_opts(self, cid):
        return ["--cgroup-parent", self.cgroup_parent]

    def run(self, runtime, cid, cmd, opts=(), timeout=120, **limits):
        return self.penv.podman(*self._run_args(runtime, cid, opts, limits), self.image, *cmd,
                                timeout=timeout, cwd=self.penv.cwd(cid))

    def run_detached(self, runtime, cid, cmd, opts=(), **limits):
        ok(self.penv.podman(*self._run_args(runtime, cid, ["-d", *opts], limits), self.image,
                            *cmd, cwd=self.penv.cwd(cid)), "podman run -d")
        return cid

    def oom_killed(self, cid):
        """podman's own OOMKilled, or conmon's OOM marker (see PodmanEnv.cwd)."""
        return (super().oom_killed(cid)
                or os.path.exists(os.path.join(self.penv.cwd(cid), "oom")))

    def load(self, archive):
        ok(self.cli("load", "-i", archive), "podman load")

    def stats(self, cid):
        r = ok(self.cli("stats", "--no-stream", "--format", "json", cid))
        s = json.loads(r.out)[0]
        return {"memory": parse_size(s["mem_usage"].split("/")[0]), "pids": int(s["pids"]),
                "raw": s}

    def resume(self, cid):
        return self.cli("unpause", cid)
