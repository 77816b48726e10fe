"""What this host has, probed: the kernel's cgroup files, I/O schedulers, namespaces,
LSMs and devices differ from one machine to the next, so no test assumes them.

Each probe answers from the kernel itself (a file a fresh cgroup gets or not, a value
that reads back or not, a namespace file in /proc/self/ns) once per session, and
returns a Feature: true when the host has it, and `why` says what was found, in words
fit for a skip reason.  A test that needs a feature calls need(); a test of the
runtime's refusal where a feature is missing calls lacking().  Both skip with a reason
that starts "host:" and names the feature, so `pytest -rs` lists what this machine
could not test.

Cgroup files are read in a cgroup of our own made for the probe beside the
containers' (OWN/guise-it/host-probe-PID-N, OWN being this process's cgroup in that
hierarchy), so it has what a container's cgroup gets, and it is removed at once.
"""

import contextlib
import errno
import functools
import os
import platform
import re
import shutil
import subprocess
import uuid

import pytest

CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_PARENT = "guise-it"  # conftest.CGROUP_PARENT: containers' cgroups are below it
MiB = 1 << 20


class Feature:
    """A probe's answer: truthy when the host has the feature; `why` says what was found."""

    def __init__(self, ok, why, value=None):
        self.ok, self.why, self.value = bool(ok), why, value

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return "Feature(%s, %r)" % (self.ok, self.why)


def need(feature):
    """Skips the test unless the host has FEATURE."""
    if not feature:
        pytest.skip("host: " + feature.why)
    return feature


def lacking(feature, what):
    """Skips a test of the runtime's refusal when the host has FEATURE after all."""
    if feature:
        pytest.skip("host: %s; %s" % (feature.why, what))
    return feature


def _read(path):
    with open(path) as f:
        return f.read()


# --------------------------------------------------------------- cgroups


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


def cgroup_dirs(pid="self"):
    """The directories of PID's cgroup, keyed by controller ("" for the cgroup2 one)."""
    mounts = cgroup_mounts()
    dirs = {}
    with open("/proc/%s/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in (ctrls.split(",") if ctrls else [""]):
                if c not in mounts:
                    continue
                mountpoint, root = mounts[c]
                rel = path[len(root):] if root != "/" and path.startswith(root) else path
                dirs[c] = os.path.normpath(mountpoint + "/" + rel)
    return dirs


V1_CONTROLLERS = {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio", "blkio",
                  "perf_event", "hugetlb", "pids", "rdma", "misc"}


@functools.lru_cache(maxsize=None)
def v1_host():
    """Resource controllers are mounted as v1 hierarchies (a v1 or hybrid host)."""
    return bool(V1_CONTROLLERS & set(cgroup_mounts()))


@functools.lru_cache(maxsize=None)
def _hierarchy(controller):
    """(version, our own directory) of the hierarchy that holds CONTROLLER, or None."""
    own = cgroup_dirs()
    if controller in own and controller != "":
        return 1, own[controller]
    # A host with v1 controller hierarchies (v1 or hybrid) is run with the v1 driver:
    # a controller its cgroup2 mount may offer beside them (hugetlb, misc) is not used.
    if "" in own and not v1_host():
        d = own[""]
        # What a container below us gets: what our cgroup enables for its children (the
        # runtime cannot enable more in a cgroup that holds processes, as ours does; at
        # the root it may, so there a controller not enabled yet reads as missing).
        try:
            offered = _read(os.path.join(d, "cgroup.subtree_control")).split()
        except OSError:
            offered = []
        if controller in offered:
            return 2, d
    return None


@contextlib.contextmanager
def probe_cgroup(controller):
    """A fresh cgroup of our own beside the containers' in CONTROLLER's hierarchy."""
    version, own = _hierarchy(controller)
    parent = os.path.join(own, CGROUP_PARENT)
    made_parent = False
    try:
        os.mkdir(parent)
        made_parent = True
    except FileExistsError:
        pass
    if version == 2 and made_parent:
        for c in _read(os.path.join(parent, "cgroup.controllers")).split():
            try:
                with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
                    f.write("+" + c)
            except OSError:
                pass
    d = os.path.join(parent, "host-probe-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6]))
    os.mkdir(d)
    try:
        yield d
    finally:
        os.rmdir(d)
        if made_parent:
            try:
                os.rmdir(parent)
            except OSError:
                pass  # a container's cgroup appeared below it meanwhile


@functools.lru_cache(maxsize=None)
def cgroup_files(controller):
    """The names of the files CONTROLLER gives a new cgroup here (frozenset), or None
    when the controller is not mounted (v1) or not enabled for our cgroups (v2)."""
    if _hierarchy(controller) is None:
        return None
    with probe_cgroup(controller) as d:
        return frozenset(os.listdir(d))


def _has_file(controller, *names):
    files = cgroup_files(controller) or frozenset()
    for n in names:
        if n in files:
            return n
    return None


@functools.lru_cache(maxsize=None)
def controller(name):
    h = _hierarchy(name)
    if h is None:
        return Feature(False, "no %s cgroup controller (%s)" % (
            name, "no v1 hierarchy of it is mounted" if v1_host() else "not enabled in cgroup2 for our cgroup"))
    return Feature(True, "the %s cgroup controller (cgroup v%d)" % (name, h[0]), value=h[0])


@functools.lru_cache(maxsize=None)
def cgroup_v2():
    """The resource controllers are cgroup2's (memory is not a v1 hierarchy)."""
    if not v1_host():
        return Feature(True, "cgroup v2 holds the controllers")
    return Feature(False, "cgroup v1 controllers (a v1 or hybrid host), no cgroup v2 resource control")


def v2():
    return bool(cgroup_v2())


@functools.lru_cache(maxsize=None)
def freezer():
    """A container's cgroup can be frozen: v1's freezer controller, or cgroup.freeze (v2)."""
    if not v2():
        return controller("freezer")
    own = cgroup_dirs().get("")
    if own and os.path.exists(os.path.join(own, "cgroup.freeze")):
        return Feature(True, "the cgroup v2 freezer (cgroup.freeze)")
    return Feature(False, "no cgroup v2 freezer (no cgroup.freeze: a kernel before 5.2)")


@functools.lru_cache(maxsize=None)
def hybrid_unified(path=CGROUP_ROOT + "/unified"):
    """v1 controllers beside a cgroup2 mount at PATH (systemd's hybrid layout)."""
    if not v1_host():
        return Feature(False, "no hybrid cgroup layout (cgroup v2 holds the controllers)")
    if cgroup_mounts().get("", (None,))[0] != path or not os.path.ismount(path):
        return Feature(False, "no hybrid cgroup layout (no cgroup2 mount at %s)" % path)
    return Feature(True, "a hybrid cgroup layout (cgroup2 at %s beside v1 controllers)" % path)


@functools.lru_cache(maxsize=None)
def swap_accounting():
    name = "memory.swap.max" if v2() else "memory.memsw.limit_in_bytes"
    if not controller("memory"):
        return Feature(False, controller("memory").why)
    if _has_file("memory", name):
        return Feature(True, "swap accounting (%s)" % name)
    return Feature(False, "no swap accounting (no %s: swapaccount=0 or a kernel without it)" % name)


@functools.lru_cache(maxsize=None)
def swap_on():
    lines = _read("/proc/swaps").splitlines()[1:]
    if lines:
        return Feature(True, "swap is on (%s)" % ", ".join(l.split()[0] for l in lines))
    return Feature(False, "no swap is on (/proc/swaps is empty)")


# --------------------------------------------------------------- block devices and schedulers


def real_disks():
    """[(name, major, minor)] of block devices backed by a device (not loop/ram/zram/dm/md)."""
    out = []
    for name in sorted(os.listdir("/sys/block")):
        if name.startswith(("loop", "ram", "zram", "dm-", "md")):
            continue
        if os.path.exists("/sys/block/%s/device" % name):
            major, minor = _read("/sys/block/%s/dev" % name).strip().split(":")
            out.append((name, int(major), int(minor)))
    return out


def schedulers():
    """{disk: its active I/O scheduler} for every disk in /sys/block."""
    out = {}
    for name in sorted(os.listdir("/sys/block")):
        try:
            m = re.search(r"\[([^\]]+)\]", _read("/sys/block/%s/queue/scheduler" % name))
        except OSError:
            continue
        out[name] = m.group(1) if m else "none"
    return out


def _schedulers_in_use():
    used = sorted(set(schedulers().values()))
    return "disks use %s" % ", ".join(used) if used else "no disk has an I/O scheduler"


@functools.lru_cache(maxsize=None)
def block_device():
    disks = real_disks()
    if disks:
        return Feature(True, "block device %s" % disks[0][0], value=disks[0][1:])
    return Feature(False, "no real block device in /sys/block (only loop, ram, zram, dm or md)")


@functools.lru_cache(maxsize=None)
def blkio_weight():
    """The file a blkio weight goes to: CFQ's, BFQ's (v1), or io.bfq.weight / io.weight (v2)."""
    names = ("io.bfq.weight", "io.weight") if v2() else ("blkio.weight", "blkio.bfq.weight")
    ctrl = "io" if v2() else "blkio"
    if not controller(ctrl):
        return Feature(False, controller(ctrl).why)
    found = _has_file(ctrl, *names)
    if found:
        return Feature(True, "blkio weight file %s" % found, value=found)
    return Feature(False, "no blkio weight file (BFQ I/O scheduler not in use on any disk: %s)" % _schedulers_in_use())


@functools.lru_cache(maxsize=None)
def blkio_leaf_weight():
    if v2():
        return Feature(False, "no blkio leaf weights (cgroup v2 has none)")
    if _has_file("blkio", "blkio.leaf_weight"):
        return Feature(True, "blkio leaf weight file blkio.leaf_weight (CFQ)")
    return Feature(False, "no blkio leaf weight file (CFQ I/O scheduler not in use on any disk: %s)"
                   % _schedulers_in_use())


@functools.lru_cache(maxsize=None)
def weighted_disk():
    """A real disk whose I/O scheduler takes per-device weights (BFQ or CFQ) and whose
    weight file is there: (major, minor)."""
    if not blkio_weight():
        return blkio_weight()
    active = schedulers()
    for name, major, minor in real_disks():
        if active.get(name) in ("bfq", "cfq"):
            return Feature(True, "disk %s uses %s" % (name, active[name]), value=(major, minor))
    return Feature(False, "no disk uses BFQ or CFQ (%s), so none takes a per-device weight" % _schedulers_in_use())


# --------------------------------------------------------------- cpu, memory, hugetlb, rdma


@functools.lru_cache(maxsize=None)
def cpu_burst():
    name = "cpu.max.burst" if v2() else "cpu.cfs_burst_us"
    if _has_file("cpu", name):
        return Feature(True, "CFS burst (%s)" % name)
    return Feature(False, "no CFS burst (no %s: a kernel before 5.14)" % name)


@functools.lru_cache(maxsize=None)
def cpu_idle():
    if _has_file("cpu", "cpu.idle"):
        return Feature(True, "idle cgroups (cpu.idle)")
    return Feature(False, "no idle cgroups (no cpu.idle: a kernel before 5.15)")


@functools.lru_cache(maxsize=None)
def realtime_period():
    if v2():
        return Feature(False, "no realtime group scheduling (cgroup v2 has no cpu.rt_* files)")
    if _has_file("cpu", "cpu.rt_period_us"):
        return Feature(True, "realtime group scheduling (cpu.rt_period_us)")
    return Feature(False, "no realtime group scheduling (no cpu.rt_period_us: CONFIG_RT_GROUP_SCHED is off)")


@functools.lru_cache(maxsize=None)
def realtime_budget(runtime=1000, period=500000):
    """A container's cgroup can be given RUNTIME us of realtime CPU time per PERIOD: the
    kernel takes it only from what the parent has to share."""
    if not realtime_period():
        return realtime_period()
    with probe_cgroup("cpu") as d:
        try:
            with open(os.path.join(d, "cpu.rt_period_us"), "w") as f:
                f.write(str(period))
            with open(os.path.join(d, "cpu.rt_runtime_us"), "w") as f:
                f.write(str(runtime))
        except OSError as e:
            parent = os.path.dirname(d)
            return Feature(False, "no realtime CPU budget for containers (%s has cpu.rt_runtime_us %s to share: %s)"
                           % (parent, _read(os.path.join(parent, "cpu.rt_runtime_us")).strip(), e.strerror))
        with open(os.path.join(d, "cpu.rt_runtime_us"), "w") as f:
            f.write("0")
    return Feature(True, "a realtime CPU budget for containers (%d us per %d us)" % (runtime, period))


@functools.lru_cache(maxsize=None)
def kernel_memory_limit(name="memory.kmem.limit_in_bytes", value=64 * MiB):
    """The kernel enforces NAME: the file is there and a limit written reads back (from
    Linux 6.1 memory.kmem.limit_in_bytes takes any write and ignores it)."""
    if v2():
        return Feature(False, "no kernel memory limits (cgroup v2 has no %s)" % name)
    if not _has_file("memory", name):
        return Feature(False, "no kernel memory limit file %s" % name)
    with probe_cgroup("memory") as d:
        try:
            with open(os.path.join(d, name), "w") as f:
                f.write(str(value))
        except OSError as e:
            return Feature(False, "no kernel memory limit (%s refuses %d: %s)" % (name, value, e.strerror))
        got = int(_read(os.path.join(d, name)))
    if got == value:
        return Feature(True, "an enforced kernel memory limit (%s)" % name)
    return Feature(False, "no enforced kernel memory limit (%s takes %d and reads %d)" % (name, value, got))


@functools.lru_cache(maxsize=None)
def hugepages(size="2MB"):
    if not controller("hugetlb"):
        return Feature(False, controller("hugetlb").why)
    name = ("hugetlb.%s.max" if v2() else "hugetlb.%s.limit_in_bytes") % size
    if _has_file("hugetlb", name):
        return Feature(True, "%s huge pages in the hugetlb controller (%s)" % (size, name))
    return Feature(False, "no %s huge pages (no %s)" % (size, name))


@functools.lru_cache(maxsize=None)
def rdma_device():
    if not controller("rdma"):
        return Feature(False, controller("rdma").why)
    try:
        devices = sorted(os.listdir("/sys/class/infiniband"))
    except FileNotFoundError:
        devices = []
    if devices:
        return Feature(True, "RDMA device %s" % devices[0], value=devices[0])
    return Feature(False, "no RDMA device (/sys/class/infiniband is empty)")


def _cpu_list(text):
    out = []
    for part in text.strip().split(","):
        if part:
            lo, _, hi = part.partition("-")
            out.extend(range(int(lo), int(hi or lo) + 1))
    return out


@functools.lru_cache(maxsize=None)
def cpuset():
    """(cpus, mems) a container's cpuset may name: those of our own cpuset cgroup."""
    h = _hierarchy("cpuset")
    if h is None:
        return Feature(False, controller("cpuset").why)
    version, own = h
    cpus_file, mems_file = (("cpuset.cpus.effective", "cpuset.mems.effective") if version == 2
                            else ("cpuset.effective_cpus", "cpuset.effective_mems"))
    cpus, mems = _cpu_list(_read(os.path.join(own, cpus_file))), _cpu_list(_read(os.path.join(own, mems_file)))
    return Feature(cpus and mems, "CPUs %s and memory nodes %s in our cpuset" % (cpus, mems), value=(cpus, mems))


# --------------------------------------------------------------- seccomp

SECCOMP_FILTER_FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": 1, "SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
    "SECCOMP_FILTER_FLAG_NEW_LISTENER": 8, "SECCOMP_FILTER_FLAG_TSYNC_ESRCH": 16,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 32,
}
_SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}


@functools.lru_cache(maxsize=None)
def seccomp_action(name):
    """NAME (kill_process, user_notif, log...) is in /proc/sys/kernel/seccomp/actions_avail."""
    try:
        avail = _read("/proc/sys/kernel/seccomp/actions_avail").split()
    except OSError:
        avail = []
    if name in avail:
        return Feature(True, "seccomp action %s" % name)
    return Feature(False, "no seccomp action %s in this kernel (actions_avail: %s)" % (name, " ".join(avail)))


@functools.lru_cache(maxsize=None)
def seccomp_flag(name):
    """The kernel knows filter flag NAME: seccomp(SET_MODE_FILTER, flag, NULL) fails with
    EFAULT (the flag passed, the missing program did not) rather than EINVAL.  Nothing is
    installed either way."""
    import ctypes
    nr = _SYS_SECCOMP.get(platform.machine())
    if nr is None:
        return Feature(False, "no seccomp syscall number known for %s" % platform.machine())
    flags = SECCOMP_FILTER_FLAGS[name]
    if name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
        flags |= SECCOMP_FILTER_FLAGS["SECCOMP_FILTER_FLAG_NEW_LISTENER"]  # only with a listener
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    rc = libc.syscall(ctypes.c_long(nr), ctypes.c_long(1), ctypes.c_ulong(flags), None)
    err = ctypes.get_errno()
    if rc < 0 and err == errno.EFAULT:
        return Feature(True, "seccomp filter flag %s" % name)
    return Feature(False, "no seccomp filter flag %s in this kernel (seccomp says %s)"
                   % (name, os.strerror(err) if rc < 0 else "ok"))


# --------------------------------------------------------------- namespaces, users, LSMs, arch

NS_FILE = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
           "cgroup": "cgroup", "time": "time", "user": "user"}


@functools.lru_cache(maxsize=None)
def namespace(kind):
    f = NS_FILE[kind]
    if os.path.exists("/proc/self/ns/" + f):
        return Feature(True, "%s namespaces (/proc/self/ns/%s)" % (kind, f))
    return Feature(False, "no %s namespaces (no /proc/self/ns/%s in this kernel)" % (kind, f))


@functools.lru_cache(maxsize=None)
def user_namespaces():
    """Root may make a user namespace (user.max_user_namespaces is not 0, no LSM refuses)."""
    if not namespace("user"):
        return namespace("user")
    r = subprocess.run(["unshare", "--user", "true"], capture_output=True, text=True)
    if r.returncode == 0:
        return Feature(True, "user namespaces")
    return Feature(False, "no user namespaces (unshare --user as root: %s)" % (r.stderr.strip() or
                                                                               "exit %d" % r.returncode))


@functools.lru_cache(maxsize=None)
def unprivileged_userns(uid=65534):
    """An unprivileged user may make a user namespace (not refused by
    user.max_user_namespaces, kernel.unprivileged_userns_clone or an LSM)."""
    if not user_namespaces():
        return user_namespaces()
    r = subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups", "--",
                        "unshare", "--user", "true"], capture_output=True, text=True)
    if r.returncode == 0:
        return Feature(True, "user namespaces for unprivileged users")
    return Feature(False, "no user namespaces for unprivileged users (unshare --user as uid %d: %s)"
                   % (uid, r.stderr.strip() or "exit %d" % r.returncode))


@functools.lru_cache(maxsize=None)
def program(name, what):
    """NAME is on PATH; WHAT says what it is for, for the skip reason."""
    path = shutil.which(name)
    if path:
        return Feature(True, "%s (%s)" % (name, path))
    return Feature(False, "no %s on PATH (%s)" % (name, what))


@functools.lru_cache(maxsize=None)
def newuidmap():
    if shutil.which("newuidmap") and shutil.which("newgidmap"):
        return Feature(True, "newuidmap and newgidmap")
    return Feature(False, "no newuidmap/newgidmap (Debian package uidmap)")


@functools.lru_cache(maxsize=None)
def apparmor():
    try:
        on = _read("/sys/module/apparmor/parameters/enabled").startswith("Y")
    except OSError:
        on = False
    return Feature(on, "AppArmor is enabled" if on else "no AppArmor (/sys/module/apparmor/parameters/enabled)")


@functools.lru_cache(maxsize=None)
def selinux():
    on = os.path.isdir("/sys/fs/selinux") and os.path.exists("/sys/fs/selinux/enforce")
    return Feature(on, "SELinux is enabled (selinuxfs at /sys/fs/selinux)" if on
                   else "no SELinux (no selinuxfs at /sys/fs/selinux)")


@functools.lru_cache(maxsize=None)
def x86_64():
    m = platform.machine()
    return Feature(m == "x86_64", "an x86_64 CPU" if m == "x86_64" else "a %s CPU, not x86_64" % m)


def proc_file(path):
    if os.path.exists(path):
        return Feature(True, "%s in this kernel" % path)
    return Feature(False, "no %s in this kernel" % path)
