"""The cgroup-true /proc view (README "The /proc view"): /proc/meminfo, cpuinfo, stat,
uptime, loadavg, swaps, /sys/devices/system/cpu/online and sysinfo(2) show the
container's limits and usage; --proc-view=host shows the host's; a killed server falls
back to the real files; nothing is left behind. Through `guise` and `guise-oci`."""
import json
import os
import re
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import REPO, pid_alive, wait_for
from engine_fixture import eng, images, template_store  # noqa: F401  (fixtures)

from engine_fixture import GUISE  # noqa: E402
from conftest import RUNTIME  # noqa: E402

# The view the engine under test starts is the one beside it (build-asan's under
# scripts/sanitize.sh); guise-oci's, beside the runtime under test.
PROCVIEW = os.path.join(os.path.dirname(os.path.abspath(GUISE)), "guise-procview")
GUISE_OCI = RUNTIME if os.path.basename(RUNTIME) == "guise-oci" else os.path.join(REPO, "build", "guise-oci")
MIB = 1024 * 1024


def fuse_available():
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    with open("/proc/filesystems") as f:
        if not re.search(r"\tfuse$", f.read(), re.M):
            return "no fuse filesystem in the kernel"
    return ""


pytestmark = pytest.mark.skipif(bool(fuse_available()), reason=fuse_available() or "fuse")


def host_meminfo():
    with open("/proc/meminfo") as f:
        return {l.split(":")[0]: l.split(":")[1].strip() for l in f if ":" in l}


def host_cpus():
    with open("/proc/cpuinfo") as f:
        return len(re.findall(r"^processor\s*:", f.read(), re.M))


def procview_pids():
    """Live guise-procview processes of this build (zombies are not left behind: they
    are waiting on their reaper)."""
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/exe" % e) != PROCVIEW:
                continue
            with open("/proc/%s/stat" % e) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        out.append(int(e))
    return set(out)


def ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def view_mounts(pid):
    """The view's binds in PID's mount namespace: mountpoint -> source."""
    with open("/proc/%d/mountinfo" % pid) as f:
        lines = f.read().splitlines()
    return [l.split()[4] for l in lines if " - fuse guise-procview " in l]


def sockets():
    try:
        return set(os.listdir("/run/guise-procview"))
    except FileNotFoundError:
        return set()


def fields(text):
    """KEY=VALUE lines printed by the container's probe script."""
    return dict(l.split("=", 1) for l in text.splitlines() if "=" in l)


# busybox's cat reads with sendfile(2), free asks sysinfo(2), the rest read(2).
PROBE = ("echo memtotal=$(cat /proc/meminfo | sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p'); "
         "echo keys=$(cat /proc/meminfo | cut -d: -f1 | tr '\\n' ,); "
         "echo free=$(free | awk '/^Mem:/ {print $2}'); "
         "echo processors=$(grep -c '^processor' /proc/cpuinfo); "
         "echo online=$(cat /sys/devices/system/cpu/online); "
         "echo cpulines=$(grep -c '^cpu[0-9]' /proc/stat); "
         "echo uptime=$(cut -d' ' -f1 /proc/uptime); "
         "echo swaps=$(cat /proc/swaps | wc -l); "
         "echo loadavg=$(cat /proc/loadavg); "
         "echo nproc=$(nproc)")


def probe(eng, *flags):
    r = eng.ok("run", "--rm", "--network", "none", *flags, "bb", "sh", "-c", PROBE)
    return fields(r.out)


def test_limits_show_in_proc_files_and_sysinfo(eng):
    before = procview_pids()
    f = probe(eng, "--memory", "256m", "--cpus", "0.5")
    assert f["memtotal"] == str(256 * 1024), f
    assert f["free"] == str(256 * 1024), f  # busybox free: sysinfo(2), through the seccomp agent
    # cat's sendfile reads the whole file, every line of the host's in order.
    assert f["keys"].rstrip(",").split(",") == list(host_meminfo().keys())
    assert f["processors"] == "1" and f["online"] == "0" and f["cpulines"] == "1", f
    assert float(f["uptime"]) < 60 < float(open("/proc/uptime").read().split()[0]), f
    assert f["swaps"] == "1", f  # the header alone: no swap beyond the limit
    assert re.fullmatch(r"\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+", f["loadavg"]), f
    assert wait_for(lambda: not (procview_pids() - before), 10), "a /proc view outlived its container"


def test_cpu_count_is_quota_rounded_up_within_the_cpuset(eng):
    if host_cpus() < 2:
        pytest.skip("needs 2 CPUs")
    f = probe(eng, "--cpus", "1.5")
    assert f["processors"] == "2" and f["online"] == "0-1" and f["cpulines"] == "2", f
    f = probe(eng, "--cpus", "2", "--cpuset-cpus", "1")
    assert f["processors"] == "1" and f["online"] == "0", f


def test_usage_is_the_containers_own(eng):
    script = ("dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 2>/dev/null; "
              "sed -n 's/^\\(MemFree\\|Shmem\\): *\\([0-9]*\\) kB/\\1=\\2/p' /proc/meminfo")
    r = eng.ok("run", "--rm", "--network", "none", "--memory", "256m", "--shm-size", "128m", "bb", "sh", "-c",
               script)
    f = fields(r.out)
    assert int(f["Shmem"]) >= 48 * 1024, r
    assert int(f["MemFree"]) <= (256 - 48) * 1024, r


def test_host_view_on_request(eng):
    f = probe(eng, "--memory", "256m", "--cpus", "0.5", "--proc-view=host")
    host_total = int(host_meminfo()["MemTotal"].split()[0])
    assert f["memtotal"] == str(host_total), f
    assert f["processors"] == str(host_cpus()), f
    assert int(f["free"]) > 256 * 1024, f
    r = eng("run", "--rm", "--proc-view=lxcfs", "bb", "true")
    assert r.rc != 0 and "--proc-view" in r.err, r


def test_killed_server_falls_back_to_the_real_files(eng):
    before = procview_pids()
    # The init's own process waits for a go, then asks sysinfo: its filter was made
    # before the server died.
    cid = eng.run_d("--network", "none", "--memory", "256m", "bb", "sh", "-c",
                    "while [ ! -e /tmp/go ]; do sleep 0.1; done; free > /tmp/free.out; sleep 1000")
    pid = eng.pid(cid)
    assert len(view_mounts(pid)) == 7
    assert "262144" in eng.ok("exec", cid, "sh", "-c", "free").out
    mine = procview_pids() - before
    servers = [p for p in mine if ppid(p) in mine]
    assert len(servers) == 1, mine
    os.kill(servers[0], signal.SIGKILL)
    assert wait_for(lambda: not view_mounts(pid), 5), view_mounts(pid)
    host_total = host_meminfo()["MemTotal"].split()[0]
    r = eng.ok("exec", cid, "sh", "-c", "cat /proc/meminfo; cat /proc/uptime /proc/loadavg /proc/stat "
               "/proc/cpuinfo /proc/swaps /sys/devices/system/cpu/online >/dev/null; nproc")
    assert re.search(r"^MemTotal: *%s kB" % host_total, r.out, re.M), r
    assert "Transport endpoint" not in r.err, r
    assert host_total in eng.ok("exec", cid, "sh", "-c", "free").out  # an exec's sysinfo: the watcher continues it
    eng.ok("exec", cid, "touch", "/tmp/go")
    assert wait_for(lambda: eng("exec", cid, "cat", "/tmp/free.out").out.strip() != "", 5)
    assert host_total in eng.ok("exec", cid, "cat", "/tmp/free.out").out  # the init's filter, too
    eng.ok("rm", "-f", cid)
    assert wait_for(lambda: not (procview_pids() - before), 10), "the watcher outlived its container"


def test_nothing_left_after_rm_or_a_killed_monitor(eng):
    before, socks = procview_pids(), sockets()
    cid = eng.run_d("--network", "none", "--memory", "64m", "bb", "sleep", "1000")
    assert len(procview_pids() - before) == 2 and len(sockets() - socks) == 1
    eng.ok("rm", "-f", cid)
    assert wait_for(lambda: not (procview_pids() - before), 10)
    assert not sockets() - socks

    cid = eng.run_d("--network", "none", "bb", "sleep", "1000")
    monitor = eng.state_json(cid)["monitor_pid"]
    os.kill(monitor, signal.SIGKILL)
    assert wait_for(lambda: not pid_alive(monitor), 5)
    eng("rm", "-f", cid)
    assert wait_for(lambda: not (procview_pids() - before), 10)
    assert not sockets() - socks


def oci_bundle(tmp_path, args, annotation="cgroup"):
    bundle = str(tmp_path / "bundle")
    subprocess.run([os.path.join(REPO, "examples", "make-bundle.sh"), bundle], check=True,
                   stdout=subprocess.DEVNULL)
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        c = json.load(f)
    c["annotations"] = {"org.guise.proc-view": annotation}
    c["process"]["args"] = args
    c["linux"]["resources"] = {"memory": {"limit": 256 * MIB}, "cpu": {"quota": 50000, "period": 100000}}
    c["linux"]["cgroupsPath"] = "guise-procview-test-%d" % os.getpid()
    with open(path, "w") as f:
        json.dump(c, f)
    return bundle


def oci(root, *args, **kw):
    return subprocess.run([GUISE_OCI, "--root", root] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True, timeout=30, **kw)


def test_guise_oci_annotation(tmp_path):
    before, socks = procview_pids(), sockets()
    root = str(tmp_path / "state")
    bundle = oci_bundle(tmp_path, ["sh", "-c", PROBE])
    r = oci(root, "run", "--bundle", bundle, "pv1")
    f = fields(r.stdout)
    assert r.returncode == 0 and f["memtotal"] == str(256 * 1024) and f["free"] == str(256 * 1024), r
    assert f["processors"] == "1" and f["online"] == "0", f

    bundle = oci_bundle(tmp_path, ["sleep", "1000"])
    # The container's stdio is create's: not the pipes this test would wait on.
    r = subprocess.run([GUISE_OCI, "--root", root, "create", "--bundle", bundle, "pv2"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 0
    assert oci(root, "start", "pv2").returncode == 0
    pid = json.loads(oci(root, "state", "pv2").stdout)["pid"]
    assert len(view_mounts(pid)) == 7
    r = oci(root, "delete", "--force", "pv2")
    assert r.returncode == 0, r
    assert wait_for(lambda: not (procview_pids() - before), 10)
    assert not sockets() - socks

    bundle = oci_bundle(tmp_path, ["sh", "-c", PROBE], annotation="host")
    f = fields(oci(root, "run", "--bundle", bundle, "pv3").stdout)
    assert f["processors"] == str(host_cpus()), f
    bundle = oci_bundle(tmp_path, ["true"], annotation="maybe")
    r = oci(root, "run", "--bundle", bundle, "pv4")
    assert r.returncode != 0 and "org.guise.proc-view" in r.stderr, r


def test_guise_oci_user_namespace(tmp_path):
    """The container's root is another host uid: it still reaches the sysinfo agent."""
    root = str(tmp_path / "state")
    # pytest's directories are private: the mapped root could not reach a rootfs there.
    open_dir = tempfile.mkdtemp(prefix="guise-procview-userns.")
    os.chmod(open_dir, 0o755)
    try:
        _userns_run(root, pathlib.Path(open_dir))
    finally:
        shutil.rmtree(open_dir)


def _userns_run(root, where):
    bundle = oci_bundle(where, ["sh", "-c", PROBE])
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        c = json.load(f)
    c["linux"]["namespaces"].append({"type": "user"})
    c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    with open(path, "w") as f:
        json.dump(c, f)
    r = oci(root, "run", "--bundle", bundle, "pvu")
    f = fields(r.stdout)
    assert r.returncode == 0 and f["memtotal"] == str(256 * 1024) and f["free"] == str(256 * 1024), r


def test_meminfo_read_cost(eng):
    """Not a bound beyond sanity: prints what an open and read of /proc/meminfo costs,
    with the view and without it. A loop of the shell's read builtin (no fork in it),
    timed from outside, less the same exec with no reads."""
    reads = 5000
    loop = "i=0; while [ $i -lt %d ]; do read -r l < /proc/meminfo; i=$((i+1)); done"
    per_read = {}
    for view in ("cgroup", "host"):
        cid = eng.run_d("--network", "none", "--memory", "256m", "--proc-view=" + view, "bb", "sleep", "1000")
        took = {}
        for n in (0, reads):
            s = time.monotonic()
            eng.ok("exec", cid, "sh", "-c", loop % n)
            took[n] = time.monotonic() - s
        per_read[view] = (took[reads] - took[0]) / reads * 1e6
        eng.ok("rm", "-f", cid)
    print("open+read of /proc/meminfo: view %.1f us, host %.1f us" % (per_read["cgroup"], per_read["host"]))
    assert per_read["cgroup"] < 20 * max(per_read["host"], 1) + 200
