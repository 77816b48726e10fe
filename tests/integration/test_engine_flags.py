"""run's resource, security, namespace, init, restart and log flags: the values seen
inside the container and in the cgroup files, /proc/PID/status and /proc/PID/ns outside."""
import json
import os
import re
import time

import pytest

from engine_fixture import (cgroup_of, eng, images, ns_inode, pid_alive, read, template_store,  # noqa: F401
                            wait_for)
from conftest import cap_mask

V1 = os.path.isdir("/sys/fs/cgroup/memory")
DOCKER_DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                       "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                       "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def status_field(text, key):
    m = re.search(r"^%s:\s*(\S+)" % key, text, re.M)
    return m.group(1) if m else None


def cg_file(pid, controller, v1_name, v2_name):
    return read(cgroup_of(pid, controller) + "/" + (v1_name if V1 else v2_name))


# --------------------------------------------------------------- resources


def test_cgroup_limits(eng):
    cid = eng.run_d("--memory", "64m", "--cpus", "0.5", "--pids-limit", "50", "--cpuset-cpus", "0",
                    "--cpu-shares", "512", "bb", "sleep", "100")
    pid = eng.pid(cid)
    assert cg_file(pid, "memory", "memory.limit_in_bytes", "memory.max") == str(64 << 20)
    if V1:
        assert cg_file(pid, "cpu", "cpu.cfs_quota_us", "") == "50000"
        assert cg_file(pid, "cpu", "cpu.cfs_period_us", "") == "100000"
        assert cg_file(pid, "cpu", "cpu.shares", "") == "512"
    else:
        assert read(cgroup_of(pid, "") + "/cpu.max") == "50000 100000"
    assert cg_file(pid, "pids", "pids.max", "pids.max") == "50"
    assert cg_file(pid, "cpuset", "cpuset.cpus", "cpuset.cpus") == "0"
    # and from inside
    r = eng.ok("run", "--rm", "--cpuset-cpus", "0", "bb", "nproc")
    assert r.out == "1\n"
    hc = eng.inspect(cid)["HostConfig"]
    assert (hc["Memory"], hc["NanoCpus"], hc["PidsLimit"], hc["CpusetCpus"], hc["CpuShares"]) == (
        64 << 20, 500000000, 50, "0", 512)


def test_pids_limit_enforced(eng):
    r = eng("run", "--rm", "--pids-limit", "5", "bb", "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait")
    assert r.rc != 0 and "can't fork: Resource temporarily unavailable" in r.err, r


def test_oom_killed(eng):
    if not os.path.isdir("/sys/fs/cgroup/memory") and not os.path.exists("/sys/fs/cgroup/memory.max") \
            and not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        pytest.skip("host: no memory cgroup")
    cid = eng.run_d("--memory", "16m", "--memory-swap", "16m", "bb", "sh", "-c",
                    "x=$(head -c 60000000 /dev/zero | tr '\\0' a); echo survived ${#x}")
    assert eng.ok("wait", cid).out == "137\n"
    st = eng.inspect(cid)["State"]
    assert st["OOMKilled"] is True and st["ExitCode"] == 137


# --------------------------------------------------------------- security


def test_default_capabilities_are_dockers(eng):
    cid = eng.run_d("bb", "sleep", "100")
    st = open("/proc/%d/status" % eng.pid(cid)).read()
    assert int(status_field(st, "CapEff"), 16) == cap_mask(DOCKER_DEFAULT_CAPS)
    assert int(status_field(st, "CapBnd"), 16) == cap_mask(DOCKER_DEFAULT_CAPS)


def test_cap_add_and_drop(eng):
    r = eng.ok("run", "--rm", "--cap-drop", "all", "--cap-add", "NET_ADMIN", "bb", "grep", "CapEff", "/proc/self/status")
    assert int(r.out.split()[1], 16) == cap_mask(["CAP_NET_ADMIN"])
    r = eng.ok("run", "--rm", "--cap-drop", "CHOWN", "bb", "grep", "CapEff", "/proc/self/status")
    assert int(r.out.split()[1], 16) == cap_mask([c for c in DOCKER_DEFAULT_CAPS if c != "CAP_CHOWN"])
    r = eng("run", "--rm", "--cap-drop", "CHOWN", "bb", "chown", "1000", "/tmp")
    assert r.rc == 1 and "Operation not permitted" in r.err


def test_privileged(eng):
    host_bnd = int(status_field(open("/proc/self/status").read(), "CapBnd"), 16)
    r = eng.ok("run", "--rm", "--privileged", "bb", "grep", "CapEff", "/proc/self/status")
    assert int(r.out.split()[1], 16) == host_bnd
    # the host's devices are there, /sys is writable
    dev = next((d for d in ("/dev/kmsg", "/dev/mem", "/dev/loop-control", "/dev/fuse", "/dev/vda") if os.path.exists(d)),
               None)
    r = eng.ok("run", "--rm", "--privileged", "bb", "sh", "-c", "test -e %s && echo dev; grep ' /sys ' /proc/mounts"
               % (dev or "/dev/null"))
    assert r.out.startswith("dev\n") and " rw," in r.out, r


def test_no_new_privileges(eng):
    r = eng.ok("run", "--rm", "bb", "grep", "NoNewPrivs", "/proc/self/status")
    assert r.out.split()[1] == "0"
    cid = eng.run_d("--security-opt", "no-new-privileges", "bb", "sleep", "100")
    assert status_field(open("/proc/%d/status" % eng.pid(cid)).read(), "NoNewPrivs") == "1"


def test_ulimit(eng):
    r = eng.ok("run", "--rm", "--ulimit", "nofile=100:200", "bb", "sh", "-c", "ulimit -n; ulimit -Hn")
    assert r.out == "100\n200\n"
    cid = eng.run_d("--ulimit", "nproc=77:88", "bb", "sleep", "100")
    limits = open("/proc/%d/limits" % eng.pid(cid)).read()
    assert re.search(r"^Max processes\s+77\s+88\s", limits, re.M), limits


def test_sysctl(eng):
    r = eng.ok("run", "--rm", "--sysctl", "net.ipv4.ip_forward=1", "bb", "cat", "/proc/sys/net/ipv4/ip_forward")
    assert r.out == "1\n"
    r = eng.ok("run", "--rm", "--sysctl", "kernel.msgmax=4096", "bb", "cat", "/proc/sys/kernel/msgmax")
    assert r.out == "4096\n"
    assert eng.ok("run", "--rm", "bb", "cat", "/proc/sys/kernel/msgmax").out == read("/proc/sys/kernel/msgmax") + "\n"
    r = eng("run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "bb", "true")
    assert r.rc == 125 and "sysctl" in r.err and len(r.err.strip().splitlines()) == 1, r


# --------------------------------------------------------------- init


def test_init_is_pid_1_and_passes_the_status(eng):
    r = eng.ok("run", "--rm", "--init", "bb", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$")
    first, second = r.out.splitlines()
    assert "guise-init" in first.split()[0], r.out
    assert second == "2"
    assert eng("run", "--rm", "--init", "bb", "sh", "-c", "exit 7").rc == 7
    # a signal the child dies of: 128+N, as docker-init/tini report it
    assert eng("run", "--rm", "--init", "bb", "sh", "-c", "kill -9 $$").rc == 137


def test_init_reaps_zombies(eng):
    # the subshell exits at once, leaving its child to PID 1; it dies a moment later
    cmd = "(sleep 0.2 &); sleep 1; for s in /proc/[0-9]*/stat; do cat $s; echo; done"
    r = eng.ok("run", "--rm", "--init", "bb", "sh", "-c", cmd)
    states = [l.rsplit(")", 1)[1].split()[0] for l in r.out.splitlines() if ")" in l]
    assert states and "Z" not in states, r.out


# --------------------------------------------------------------- namespaces


def test_pid_host(eng):
    cid = eng.run_d("--pid", "host", "bb", "sleep", "100")
    pid = eng.pid(cid)
    assert ns_inode(pid, "pid") == ns_inode("self", "pid")
    r = eng.ok("run", "--rm", "--pid", "host", "bb", "sh", "-c", "echo $$")
    assert r.out.strip() != "1"
    cid2 = eng.run_d("bb", "sleep", "100")
    assert ns_inode(eng.pid(cid2), "pid") != ns_inode("self", "pid")


def test_ipc_host(eng):
    cid = eng.run_d("--ipc", "host", "bb", "sleep", "100")
    assert ns_inode(eng.pid(cid), "ipc") == ns_inode("self", "ipc")
    cid2 = eng.run_d("bb", "sleep", "100")
    assert ns_inode(eng.pid(cid2), "ipc") != ns_inode("self", "ipc")


def test_network_none_and_host(eng):
    r = eng.ok("run", "--rm", "--network", "none", "bb", "cat", "/proc/net/dev")
    ifaces = [l.split(":")[0].strip() for l in r.out.splitlines()[2:]]
    assert ifaces == ["lo"], r.out
    r = eng.ok("run", "--rm", "--network", "none", "bb", "ip", "link")
    assert re.findall(r"^\d+: (\S+):", r.out, re.M) == ["lo"], r.out
    cid = eng.run_d("--network", "host", "bb", "sleep", "100")
    assert ns_inode(eng.pid(cid), "net") == ns_inode("self", "net")
    r = eng.ok("run", "--rm", "--network", "host", "bb", "cat", "/proc/net/dev")
    host_ifaces = sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:])
    assert sorted(l.split(":")[0].strip() for l in r.out.splitlines()[2:]) == host_ifaces
    cid2 = eng.run_d("--network", "none", "bb", "sleep", "100")
    assert ns_inode(eng.pid(cid2), "net") != ns_inode("self", "net")


# --------------------------------------------------------------- restart


def test_restart_on_failure(eng):
    cid = eng.run_d("--restart", "on-failure:2", "bb", "sh", "-c", "echo run; exit 3")
    assert wait_for(lambda: eng.fmt(cid, "{{.RestartCount}}") == "2" and eng.status(cid) == "exited", 15), \
        eng.inspect(cid)["State"]
    assert eng.fmt(cid, "{{.State.ExitCode}}") == "3"
    assert eng.ok("logs", cid).out == "run\nrun\nrun\n"
    time.sleep(0.5)
    assert eng.fmt(cid, "{{.RestartCount}}") == "2"
    assert eng.inspect(cid)["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}


def test_restart_on_failure_not_after_success(eng):
    cid = eng.run_d("--restart", "on-failure:2", "bb", "true")
    assert eng.ok("wait", cid).out == "0\n"
    time.sleep(0.3)
    assert eng.fmt(cid, "{{.RestartCount}}") == "0"


# --------------------------------------------------------------- logs on disk


def test_json_file_log_format(eng):
    cid = eng.run_d("bb", "sh", "-c", "echo out1; echo err1 >&2; printf partial")
    eng.ok("wait", cid)
    path = eng.fmt(cid, "{{.LogPath}}")
    assert os.path.isfile(path), path
    recs = [json.loads(l) for l in open(path).read().splitlines()]
    assert [(r["stream"], r["log"]) for r in recs] == [("stdout", "out1\n"), ("stderr", "err1\n"),
                                                       ("stdout", "partial")]
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", r["time"]) for r in recs)
    assert eng.inspect(cid)["HostConfig"]["LogConfig"]["Type"] == "json-file"


def test_k8s_file_log_format(eng):
    cid = eng.run_d("--log-driver", "k8s-file", "bb", "sh", "-c", "echo out1; echo err1 >&2; printf partial")
    eng.ok("wait", cid)
    path = eng.fmt(cid, "{{.LogPath}}")
    lines = open(path).read().splitlines()
    parsed = [re.match(r"^(\S+) (stdout|stderr) ([FP]) (.*)$", l).groups() for l in lines]
    assert [p[1:] for p in parsed] == [("stdout", "F", "out1"), ("stderr", "F", "err1"), ("stdout", "P", "partial")]
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d)$", p[0]) for p in parsed)
    assert eng.ok("logs", cid).out == "out1\npartial"


def test_log_max_size_rotation(eng):
    cid = eng.run_d("--log-opt", "max-size=2k", "--log-opt", "max-file=3", "bb", "sh", "-c",
                    "i=0; while [ $i -lt 200 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
    eng.ok("wait", cid)
    path = eng.fmt(cid, "{{.LogPath}}")
    d = os.path.dirname(path)
    rotated = sorted(f for f in os.listdir(d) if f.startswith(os.path.basename(path) + "."))
    assert rotated == [os.path.basename(path) + ".1", os.path.basename(path) + ".2"], os.listdir(d)
    for f in [path] + [os.path.join(d, r) for r in rotated]:
        assert os.path.getsize(f) <= 2048 + 200, (f, os.path.getsize(f))
    assert eng.ok("logs", cid).out.splitlines()[-1] == "line-199-xxxxxxxxxxxxxxxxxxxxxxxx"


def test_log_driver_none(eng):
    cid = eng.run_d("--log-driver", "none", "bb", "echo", "hi")
    eng.ok("wait", cid)
    r = eng("logs", cid)
    # docker's words
    assert r.rc != 0 and "configured logging driver does not support reading" in r.err, r
