"""cgroups: limits enforced on real workloads, `update`, `pause`/`resume`, `events`.

Each check is made the way a user meets it: a process allocating past its memory
limit dies and the container exits 137; a busy loop under a half-core quota gets
half a core, measured from the cgroup's own usage counter; a fork past the pids
limit fails with EAGAIN inside; a denied device cannot be opened by root.  The
files are read from the host through the container's cgroup directories, found
from /proc/PID/cgroup, so the same tests hold on v1, hybrid and v2 hosts (and
against runc).  The busybox-only twin of these checks, for the cgroup-v2 VM, is
tests/cgroups-vm/cgroup-tests.sh.
"""

import json
import os
import time

import pytest

from conftest import IS_RUNC, TESTBIN, runc_xfail, wait_for

MiB = 1 << 20


# --------------------------------------------------------------- host side


def cgroup_mounts():
    """{controller: (mountpoint, root)} for v1 mounts, and "" for the cgroup2 mount."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, supers = fields[sep + 1], fields[sep + 3].split(",")
            root, mountpoint = fields[3], fields[4]
            if fstype == "cgroup2":
                out.setdefault("", (mountpoint, root))
            elif fstype == "cgroup":
                for opt in supers:
                    out.setdefault(opt, (mountpoint, root))
    return out


def cgroup_dirs(pid):
    """The directories of PID's cgroup, keyed by controller ("" for the cgroup2 one)."""
    mounts = cgroup_mounts()
    dirs = {}
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in (ctrls.split(",") if ctrls else [""]):
                if c not in mounts:
                    continue
                mountpoint, root = mounts[c]
                rel = path[len(root):] if root != "/" and path.startswith(root) else path
                dirs[c] = os.path.normpath(mountpoint + "/" + rel)
    return dirs


def is_v2(dirs):
    return "memory" not in dirs and "" in dirs


def read(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read()


def keyed(d, name):
    out = {}
    for line in read(d, name).splitlines():
        k, _, v = line.partition(" ")
        if v.strip().lstrip("-").isdigit():
            out[k] = int(v)
    return out


def cpu_usage_ns(dirs):
    if is_v2(dirs):
        return keyed(dirs[""], "cpu.stat")["usage_usec"] * 1000
    return int(read(dirs["cpuacct"], "cpuacct.usage"))


def throttling(dirs):
    """(nr_throttled, throttled time in ns)."""
    if is_v2(dirs):
        s = keyed(dirs[""], "cpu.stat")
        return s["nr_throttled"], s["throttled_usec"] * 1000
    s = keyed(dirs["cpu"], "cpu.stat")
    return s["nr_throttled"], s["throttled_time"]


def oom_kills(dirs):
    if is_v2(dirs):
        return keyed(dirs[""], "memory.events")["oom_kill"]
    return keyed(dirs["memory"], "memory.oom_control")["oom_kill"]


def cpu_ratio(dirs, seconds):
    """Cores the cgroup used over SECONDS, from its own usage counter."""
    u0, t0 = cpu_usage_ns(dirs), time.monotonic()
    time.sleep(seconds)
    u1, t1 = cpu_usage_ns(dirs), time.monotonic()
    return (u1 - u0) / ((t1 - t0) * 1e9)


def block_device():
    """(major, minor) of a real block device: one backed by a device, not loop/zram/ram."""
    for name in sorted(os.listdir("/sys/block")):
        if name.startswith(("loop", "ram", "zram", "dm-", "md")):
            continue
        if os.path.exists("/sys/block/%s/device" % name):
            major, minor = read("/sys/block/" + name, "dev").strip().split(":")
            return int(major), int(minor)
    pytest.skip("no real block device in /sys/block")


# --------------------------------------------------------------- helpers


def resources(ct):
    return ct.cfg["linux"].setdefault("resources", {})


def start_detached(ct, *args):
    """`run -d` of testbin ARGS; returns (pid, cgroup dirs)."""
    ct.probe_args(*args)
    r = ct.run("-d")
    assert r.rc == 0, r
    pid = ct.state()["pid"]
    return pid, cgroup_dirs(pid)


def events_stats(ct, cid=None):
    r = ct.rt("events", "--stats", cid or ct.id)
    assert r.rc == 0, r
    ev = json.loads(r.out)
    assert ev["type"] == "stats" and ev["id"] == (cid or ct.id), ev
    return ev["data"]


def assert_near(value, want, tolerance, what):
    assert abs(value - want) <= want * tolerance, "%s: %.3f, want %.3f +- %d%%" % (
        what, value, want, tolerance * 100)


def assert_cores(dirs, want, what, windows=3, seconds=2.0, tolerance=0.15):
    """The cgroup's usage holds to WANT cores: never above it (+tolerance) in any window,
    and within tolerance in at least one.  The host's CPUs are shared with other work,
    which can starve a window below its quota; nothing may push one above.  Returns the
    ratios measured."""
    ratios = []
    for _ in range(windows):
        ratios.append(cpu_ratio(dirs, seconds))
        assert ratios[-1] <= want * (1 + tolerance), "%s: %.3f cores, above %.3f" % (what, ratios[-1], want)
        if abs(ratios[-1] - want) <= want * tolerance:
            return ratios
    assert_near(max(ratios), want, tolerance, what + " (best of %s)" % ["%.3f" % r for r in ratios])
    return ratios


# Containers whose CPU is measured get the most cpu.shares the kernel allows, so that a
# busy host (other tests in sibling cgroups) cannot starve them below their quota.
BIG_SHARES = 262144


# --------------------------------------------------------------- memory


def test_memory_limit_kills_allocation_with_137_and_events_report_oom(ct):
    resources(ct)["memory"] = {"limit": 32 * MiB, "swap": 32 * MiB}
    # dd holds a 64 MiB buffer and fills it from /dev/zero: past the limit.
    ct.set_args("/bin/sh", "-c", "sleep 2; exec dd if=/dev/zero of=/dev/null bs=64M count=1")
    ct.write_config()
    run = ct.spawn("run", "--keep", "--bundle", ct.bundle, ct.id, track=ct.id)
    assert wait_for(lambda: ct.state_result().rc == 0, 10), "the container never appeared"
    ct.wait_status("running")
    pid = ct.state()["pid"]
    dirs = cgroup_dirs(pid)
    before = oom_kills(dirs)
    events = ct.spawn("events", "--interval", "500ms", ct.id)
    assert run.wait(timeout=30).rc == 137
    assert oom_kills(dirs) > before
    if IS_RUNC:
        assert ct.delete().rc == 0  # runc's events ends when the cgroup goes, not the container
    ev = events.wait(timeout=15)  # guise's ends by itself once the container has stopped
    assert ev.rc == 0, ev
    lines = [json.loads(l) for l in ev.out.splitlines() if l.strip()]
    assert {"type": "oom", "id": ct.id} in lines, lines


def test_memory_limit_reported_by_events_stats(ct):
    resources(ct)["memory"] = {"limit": 48 * MiB}
    resources(ct)["pids"] = {"limit": 42}
    start_detached(ct, "sleep", "30")
    data = events_stats(ct)
    assert data["memory"]["usage"]["limit"] == 48 * MiB
    assert data["memory"]["usage"]["usage"] > 0
    assert data["pids"] == {"current": 1, "limit": 42}
    for key in ("cpu", "memory", "pids", "blkio", "hugetlb"):
        assert key in data, data.keys()
    assert "kernel" in data["cpu"]["usage"] and "user" in data["cpu"]["usage"]
    assert data["memory"]["raw"], data["memory"]


# --------------------------------------------------------------- cpu


def test_cpu_quota_holds_busy_loop_to_half_a_core(ct):
    resources(ct)["cpu"] = {"quota": 50000, "period": 100000, "shares": BIG_SHARES}
    pid, dirs = start_detached(ct, "spin", "60")
    time.sleep(0.5)
    thr0 = throttling(dirs)
    ratios = assert_cores(dirs, 0.5, "cores used under quota 50000/100000")
    thr1 = throttling(dirs)
    print("cpu ratio under quota 50000/100000: %s; nr_throttled %d -> %d, throttled %.2fs -> %.2fs" % (
        ["%.3f" % r for r in ratios], thr0[0], thr1[0], thr0[1] / 1e9, thr1[1] / 1e9))
    assert thr1[0] > thr0[0] and thr1[1] > thr0[1]
    t = events_stats(ct)["cpu"]["throttling"]
    assert t["throttledPeriods"] >= thr1[0] and t["throttledTime"] >= thr1[1]


# --------------------------------------------------------------- pids


def test_pids_limit_makes_fork_fail_with_eagain(ct):
    resources(ct)["pids"] = {"limit": 10}
    r = ct.probe("fork-many", "20")
    assert r.rc == 0, r
    forked = int(r.facts["forked"])
    assert 5 <= forked < 10, r.out  # testbin itself is one of the 10
    assert r.facts["errno"] == "EAGAIN"


# --------------------------------------------------------------- io


def test_io_throttle_values_land_for_the_device(ct):
    major, minor = block_device()
    dev = "%d:%d" % (major, minor)
    resources(ct)["blockIO"] = {
        "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1048576}],
        "throttleWriteBpsDevice": [{"major": major, "minor": minor, "rate": 2097152}],
        "throttleReadIOPSDevice": [{"major": major, "minor": minor, "rate": 300}],
        "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 100}],
    }
    _, dirs = start_detached(ct, "sleep", "30")
    if is_v2(dirs):
        lines = read(dirs[""], "io.max").splitlines()
        assert "%s rbps=1048576 wbps=2097152 riops=300 wiops=100" % dev in lines, lines
    else:
        d = dirs["blkio"]
        assert read(d, "blkio.throttle.read_bps_device").split("\n")[0] == dev + " 1048576"
        assert read(d, "blkio.throttle.write_bps_device").split("\n")[0] == dev + " 2097152"
        assert read(d, "blkio.throttle.read_iops_device").split("\n")[0] == dev + " 300"
        assert read(d, "blkio.throttle.write_iops_device").split("\n")[0] == dev + " 100"


# --------------------------------------------------------------- devices

ROOT_CAPS = ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE", "CAP_MKNOD", "CAP_SYSLOG", "CAP_SYS_RAWIO"]


def kmsg_config(ct, extra_rules):
    """/dev/kmsg (c 1:11) made in the container; root with wide capabilities."""
    ct.cfg["linux"]["devices"] = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11,
                                   "fileMode": 0o666, "uid": 0, "gid": 0}]
    resources(ct).setdefault("devices", [{"allow": False, "access": "rwm"}]).extend(extra_rules)
    caps = ct.cfg["process"]["capabilities"]
    for k in ("bounding", "effective", "permitted"):
        caps[k] = sorted(set(caps.get(k, [])) | set(ROOT_CAPS))


def test_denied_device_cannot_be_opened_even_by_root(ct):
    kmsg_config(ct, [])
    r, probes = ct.multi_probe(["id"], ["open", "/dev/kmsg", "w"], ["open", "/dev/kmsg", "r"],
                               ["open", "/dev/null", "w"])
    assert r.rc == 0, r
    assert probes[0].facts["uid"] == "0"
    assert probes[1].rc == 1 and probes[1].facts["errno"] == "EPERM", probes[1]
    assert probes[2].rc == 1 and probes[2].facts["errno"] == "EPERM", probes[2]
    assert probes[3].rc == 0, probes[3]


def test_allowed_device_opens_for_the_access_granted(ct):
    kmsg_config(ct, [{"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"}])
    r, probes = ct.multi_probe(["open", "/dev/kmsg", "w"], ["open", "/dev/kmsg", "r"])
    assert r.rc == 0, r
    assert probes[0].rc == 0, probes[0]
    assert probes[1].rc == 1 and probes[1].facts["errno"] == "EPERM", probes[1]


# --------------------------------------------------------------- update


def test_update_changes_a_running_busy_loop(ct):
    resources(ct)["cpu"] = {"quota": 20000, "period": 100000, "shares": BIG_SHARES}
    resources(ct)["memory"] = {"limit": 64 * MiB, "swap": 64 * MiB}
    resources(ct)["pids"] = {"limit": 20}
    _, dirs = start_detached(ct, "spin", "60")
    time.sleep(0.5)
    before = assert_cores(dirs, 0.2, "cores before update")
    r = ct.rt("update", "--cpu-quota", "50000", "--memory", "128m", "--memory-swap", "128m",
              "--pids-limit", "30", ct.id)
    assert r.rc == 0, r
    time.sleep(0.3)
    after = assert_cores(dirs, 0.5, "cores after update")
    print("cpu ratio: quota 20000 -> %s; quota 50000 -> %s" % (
        ["%.3f" % r for r in before], ["%.3f" % r for r in after]))
    data = events_stats(ct)
    assert data["memory"]["usage"]["limit"] == 128 * MiB
    assert data["pids"]["limit"] == 30


def test_update_from_docker_json_leaves_zeros_alone(ct, host_tmp):
    resources(ct)["cpu"] = {"quota": 20000, "period": 100000, "shares": 512}
    resources(ct)["memory"] = {"limit": 64 * MiB}
    resources(ct)["pids"] = {"limit": 20}
    _, dirs = start_detached(ct, "sleep", "60")
    # What docker sends for `docker update --cpus 0.5`: every field, 0 for "unchanged".
    body = {"memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0},
            "cpu": {"shares": 0, "quota": 50000, "period": 100000, "realtimeRuntime": 0,
                    "realtimePeriod": 0, "cpus": "", "mems": ""},
            "pids": {"limit": 0}, "blockIO": {"weight": 0}}
    path = os.path.join(host_tmp, "resources.json")
    with open(path, "w") as f:
        json.dump(body, f)
    with open(path) as stdin:
        r = ct.rt("update", "-r", "-", ct.id, stdin=stdin)
    assert r.rc == 0, r
    data = events_stats(ct)
    assert data["memory"]["usage"]["limit"] == 64 * MiB
    assert data["pids"]["limit"] == 20
    if is_v2(dirs):
        assert read(dirs[""], "cpu.max").split() == ["50000", "100000"]
    else:
        assert read(dirs["cpu"], "cpu.cfs_quota_us").strip() == "50000"
        assert read(dirs["cpu"], "cpu.shares").strip() == "512"
    # podman's way: a file.  -1 lifts the pids limit.
    with open(path, "w") as f:
        json.dump({"pids": {"limit": -1}}, f)
    r = ct.rt("update", "--resources", path, ct.id)
    assert r.rc == 0, r
    assert "limit" not in events_stats(ct)["pids"]


@pytest.mark.skipif(IS_RUNC, reason="resources.json is guise's own record")
def test_update_is_recorded_beside_the_state(ct):
    resources(ct)["memory"] = {"limit": 64 * MiB}
    start_detached(ct, "sleep", "60")
    assert ct.rt("update", "--pids-limit", "25", "--cpu-share", "256", ct.id).rc == 0
    with open(os.path.join(ct.root, ct.id, "resources.json")) as f:
        rec = json.load(f)
    assert rec["memory"]["limit"] == 64 * MiB   # kept from config.json
    assert rec["pids"]["limit"] == 25
    assert rec["cpu"]["shares"] == 256


def test_update_refuses_bad_values_and_stopped_containers(ct):
    start_detached(ct, "sleep", "60")
    r = ct.rt("update", "--memory", "lots", ct.id)
    assert r.rc != 0 and "memory" in r.err, r
    r = ct.rt("update", "--cpu-share", "x", ct.id)
    assert r.rc != 0, r
    r = ct.rt("update", "--pids-limit", "5", "no-such-container-" + ct.id)
    assert r.rc != 0, r
    assert ct.kill("KILL").rc == 0
    ct.wait_status("stopped")
    r = ct.rt("update", "--pids-limit", "5", ct.id)
    assert r.rc != 0, r


# --------------------------------------------------------------- pause


def test_pause_stops_a_busy_loop_and_resume_lets_it_go_on(ct):
    _, dirs = start_detached(ct, "spin", "60")
    time.sleep(0.3)
    assert cpu_ratio(dirs, 1) > 0.3
    assert ct.rt("pause", ct.id).rc == 0
    assert ct.status() == "paused"
    frozen = cpu_ratio(dirs, 1.5)
    assert frozen * 1.5e9 < 1e6, "usage rose by %d ns while paused" % (frozen * 1.5e9)
    assert ct.rt("resume", ct.id).rc == 0
    assert ct.status() == "running"
    assert cpu_ratio(dirs, 1) > 0.3


# --------------------------------------------------------------- delete


def test_delete_removes_the_cgroup_in_every_hierarchy(ct):
    resources(ct)["memory"] = {"limit": 64 * MiB}
    resources(ct)["pids"] = {"limit": 20}
    pid, dirs = start_detached(ct, "sleep", "60")
    ours = sorted(set(d for d in dirs.values() if d.endswith("/" + ct.id)))
    assert ours, dirs
    assert all(os.path.isdir(d) for d in ours)
    # a process of its own inside, forked by exec, must go too
    r = ct.rt("exec", "-d", ct.id, TESTBIN, "sleep", "60")
    assert r.rc == 0, r
    assert ct.delete(force=True).rc == 0
    left = [d for d in ours if os.path.exists(d)]
    assert not left, left


# --------------------------------------------------------------- events


@runc_xfail("events ends when the cgroup is removed at delete, not when the container stops")
def test_events_streams_stats_and_ends_with_the_container(ct):
    ct.probe_args("sleep", "2.5")
    assert ct.run("-d").rc == 0
    ev = ct.spawn("events", "--interval", "1s", ct.id)
    r = ev.wait(timeout=15)
    assert r.rc == 0, r
    lines = [json.loads(l) for l in r.out.splitlines() if l.strip()]
    stats = [l for l in lines if l["type"] == "stats"]
    assert 1 <= len(stats) <= 3, lines
    assert all(l["id"] == ct.id and "cpu" in l["data"] for l in stats)


def test_events_refuses_a_stopped_container(ct):
    ct.probe_args("exit", "0")
    assert ct.run("-d").rc == 0
    ct.wait_status("stopped")
    r = ct.rt("events", "--stats", ct.id)
    assert r.rc != 0, r
    r = ct.rt("events", "--interval", "0s", ct.id)
    assert r.rc != 0, r


# --------------------------------------------------------------- every field


def v1_file(dirs, ctrl, name):
    return read(dirs[ctrl], name).strip()


def test_resource_fields_land_in_their_files(ct):
    res = resources(ct)
    res["memory"] = {"limit": 64 * MiB, "reservation": 32 * MiB, "swap": 96 * MiB}
    res["cpu"] = {"shares": 512, "quota": 50000, "period": 100000, "burst": 10000, "cpus": "0", "mems": "0"}
    res["pids"] = {"limit": 33}
    res["blockIO"] = {"weight": 500}
    _, dirs = start_detached(ct, "sleep", "60")
    if is_v2(dirs):
        d = dirs[""]
        want = {"memory.max": str(64 * MiB), "memory.low": str(32 * MiB), "cpu.weight": "20",
                "cpu.max": "50000 100000", "cpu.max.burst": "10000", "cpuset.cpus": "0",
                "cpuset.mems": "0", "pids.max": "33"}
        if os.path.exists(os.path.join(d, "memory.swap.max")):
            want["memory.swap.max"] = str(32 * MiB)
        got = {k: read(d, k).strip() for k in want}
        assert got == want
        weight = read(d, "io.bfq.weight") if os.path.exists(os.path.join(d, "io.bfq.weight")) else read(d, "io.weight")
        assert weight.split("\n")[0] in ("default 4950", "default 500"), weight
        return
    got = {
        "memory.limit_in_bytes": v1_file(dirs, "memory", "memory.limit_in_bytes"),
        "memory.soft_limit_in_bytes": v1_file(dirs, "memory", "memory.soft_limit_in_bytes"),
        "cpu.shares": v1_file(dirs, "cpu", "cpu.shares"),
        "cpu.cfs_quota_us": v1_file(dirs, "cpu", "cpu.cfs_quota_us"),
        "cpu.cfs_period_us": v1_file(dirs, "cpu", "cpu.cfs_period_us"),
        "cpuset.cpus": v1_file(dirs, "cpuset", "cpuset.cpus"),
        "cpuset.mems": v1_file(dirs, "cpuset", "cpuset.mems"),
        "pids.max": v1_file(dirs, "pids", "pids.max"),
    }
    assert got == {"memory.limit_in_bytes": str(64 * MiB), "memory.soft_limit_in_bytes": str(32 * MiB),
                   "cpu.shares": "512", "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000",
                   "cpuset.cpus": "0", "cpuset.mems": "0", "pids.max": "33"}
    if os.path.exists(os.path.join(dirs["memory"], "memory.memsw.limit_in_bytes")):
        assert v1_file(dirs, "memory", "memory.memsw.limit_in_bytes") == str(96 * MiB)
    if os.path.exists(os.path.join(dirs["cpu"], "cpu.cfs_burst_us")) and not IS_RUNC:  # runc 1.1 has no burst
        assert v1_file(dirs, "cpu", "cpu.cfs_burst_us") == "10000"
    bfq = os.path.exists(os.path.join(dirs["blkio"], "blkio.bfq.weight"))
    assert v1_file(dirs, "blkio", "blkio.bfq.weight" if bfq else "blkio.weight") == "500"


def test_v1_only_fields_land_in_their_files(ct):
    res = resources(ct)
    res["memory"] = {"limit": 64 * MiB, "swappiness": 30, "disableOOMKiller": True, "kernelTCP": 16 * MiB}
    res["cpu"] = {"realtimePeriod": 500000, "idle": 0}
    _, dirs = start_detached(ct, "sleep", "60")
    if is_v2(dirs):
        pytest.skip("swappiness, the OOM killer switch, kernel TCP memory and realtime are v1 files")
    assert v1_file(dirs, "memory", "memory.swappiness") == "30"
    assert keyed(dirs["memory"], "memory.oom_control")["oom_kill_disable"] == 1
    if os.path.exists(os.path.join(dirs["memory"], "memory.kmem.tcp.limit_in_bytes")) and not IS_RUNC:
        # runc 1.1 ignores kernel memory settings
        assert v1_file(dirs, "memory", "memory.kmem.tcp.limit_in_bytes") == str(16 * MiB)
    if os.path.exists(os.path.join(dirs["cpu"], "cpu.rt_period_us")):
        assert v1_file(dirs, "cpu", "cpu.rt_period_us") == "500000"


def test_device_rules_are_exactly_the_allow_list(ct):
    _, dirs = start_detached(ct, "sleep", "60")
    if is_v2(dirs):
        pytest.skip("v2 has no devices.list; the BPF program is checked by opening devices")
    listed = sorted(read(dirs["devices"], "devices.list").split("\n")[:-1])
    # runc 1.1 also allows /dev/net/tun; guise allows only what a default container
    # uses (cgroups::default_device_rules): a tun device needs its own rule.
    extra = ["c 10:200 rwm"] if IS_RUNC else []
    assert listed == sorted(["b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                             "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm"] + extra), listed


UNHONOURABLE = [
    # (resources, field named in the error, when the host lacks it)
    ({"cpu": {"realtimeRuntime": 1000, "realtimePeriod": 500000}}, "linux.resources.cpu.realtimeRuntime"),
    ({"blockIO": {"leafWeight": 500}}, "linux.resources.blockIO.leafWeight"),
    ({"memory": {"kernel": 64 * MiB}}, "linux.resources.memory.kernel"),
    ({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}]}, "linux.resources.hugepageLimits"),
    ({"network": {"classID": 1048577}}, "linux.resources.network.classID"),
    ({"unified": {"memory.high": "100000000"}}, "linux.resources.unified"),
]


@pytest.mark.skipif(IS_RUNC, reason="runc skips what the host cannot do; guise names the field")
@pytest.mark.parametrize("res,field", UNHONOURABLE, ids=[f for _, f in UNHONOURABLE])
def test_a_value_the_host_cannot_honour_is_an_error_naming_the_field(ct, res, field):
    resources(ct).update(res)
    ct.probe_args("sleep", "10")
    r = ct.run("-d")
    if r.rc == 0:
        ct.delete(force=True)
        pytest.skip("this host honours %s" % field)
    assert field in r.err, r
    assert r.err.count("\n") == 1, r  # one line: the field, the file and why
