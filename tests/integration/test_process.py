"""The container's process: args, env, ids, limits, privileges, terminal, fds."""

import json
import os
import re
import shutil
import time

import pytest

import hostprobe as host
from conftest import MARK, TESTBIN, cap_mask, proc_status, runc_xfail, split_multi, wait_for
from hostprobe import cgroup_dirs, need


def test_args_passed_verbatim(ct):
    r = ct.probe("echo", "two words", "", "*", "$HOME", "--flag")
    assert r.rc == 0, r
    assert r.out == "two words  * $HOME --flag\n"


def test_env_exactly_as_configured(ct):
    ct.cfg["process"]["env"] = ["PATH=/bin", "FOO=bar baz", "EMPTY=", "EQ=a=b"]
    r = ct.probe("env")
    assert r.rc == 0, r
    env = r.out.splitlines()
    for want in ct.cfg["process"]["env"]:
        assert want in env, env
    # A runtime may add HOME (runc does); nothing else.
    extra = [e for e in env if e not in ct.cfg["process"]["env"]]
    assert all(e.startswith("HOME=") for e in extra), extra


def test_home_from_passwd_when_unset(ct):
    ct.cfg["process"]["env"] = ["PATH=/bin"]
    r = ct.probe("env")
    assert r.rc == 0, r
    assert "HOME=/root" in r.out.splitlines()


def test_args0_found_in_path(ct):
    ct.cfg["process"]["env"] = ["PATH=/nowhere:/bin"]
    ct.set_args("guise-testbin", "echo", "via PATH")
    r = ct.run()
    assert r.rc == 0, r
    assert r.out == "via PATH\n"


def test_missing_executable_fails(ct):
    ct.set_args("/no/such/binary")
    r = ct.run()
    assert r.rc != 0, r
    assert "/no/such/binary" in r.err or "no such file" in r.err.lower(), r


def test_cwd(ct):
    ct.cfg["process"]["cwd"] = "/tmp"
    r = ct.probe("cwd")
    assert r.rc == 0, r
    assert r.facts["cwd"] == "/tmp"


def _cwd_only_root_may_enter(ct):
    # A directory the runtime may enter and process.user may not.
    secret = os.path.join(ct.rootfs, "secret")
    os.mkdir(secret)
    os.chmod(secret, 0o700)
    return "/secret"


def test_cwd_only_the_runtime_may_enter(ct):
    # As runc: the runtime changes into process.cwd while it still may, then becomes
    # the user, who starts there.
    ct.cfg["process"]["cwd"] = _cwd_only_root_may_enter(ct)
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    r, probes = ct.multi_probe(["cwd"], ["ls", "."])
    assert r.rc == 0 and len(probes) == 2, r
    cwd, ls = probes
    assert cwd.facts["cwd"] == "/secret", cwd
    assert ls.facts.get("errno") == "EACCES", ls  # it is there, and still may not look in


def test_exec_cwd_only_the_runtime_may_enter(ct):
    secret = _cwd_only_root_may_enter(ct)
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    r = ct.rt("exec", "--cwd", secret, "--user", "1000:1000", ct.id, TESTBIN, "cwd")
    assert r.rc == 0, r
    assert r.facts["cwd"] == "/secret", r


def test_user_group_and_additional_gids(ct):
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10, 20, 30]}
    ct.probe_args("id")
    r = ct.create()
    assert r.rc == 0, r
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    f = r.facts
    assert (f["uid"], f["euid"], f["suid"]) == ("1000",) * 3, f
    assert (f["gid"], f["egid"], f["sgid"]) == ("1001",) * 3, f
    assert set(f["groups"].split()) >= {"10", "20", "30"}, f
    assert set(f["groups"].split()) <= {"10", "20", "30", "1001"}, f


def test_user_seen_from_outside(ct):
    ct.cfg["process"]["user"] = {"uid": 1234, "gid": 4321}
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    pid = ct.state()["pid"]
    st = proc_status(pid)
    assert st["Uid"].split() == ["1234"] * 4
    assert st["Gid"].split() == ["4321"] * 4
    assert st["Groups"] == ""


def test_default_umask(ct):
    r = ct.probe("umask")
    assert r.rc == 0, r
    assert r.facts["umask"] == "0022"


def test_umask(ct):
    ct.cfg["process"]["user"]["umask"] = 0o077
    r = ct.probe("umask")
    assert r.rc == 0, r
    assert r.facts["umask"] == "0077"


def test_rlimits(ct):
    ct.cfg["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 777},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
    ]
    r, (nofile, core, nproc) = ct.multi_probe(
        ["rlimit", "NOFILE"], ["rlimit", "RLIMIT_CORE"], ["rlimit", "nproc"])
    assert r.rc == 0, r
    assert nofile.out.split() == ["512", "777"]
    assert core.out.split() == ["0", "0"]
    assert nproc.out.split() == ["300", "400"]


def test_rlimit_soft_above_hard_fails(ct):
    ct.cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]
    r = ct.probe("echo", "x")
    assert r.rc != 0, r


def test_oom_score_adj(ct):
    ct.cfg["process"]["oomScoreAdj"] = 500
    ct.probe_args("oom-score-adj")
    r = ct.create()
    assert r.rc == 0, r
    with open("/proc/%d/oom_score_adj" % ct.state()["pid"]) as f:
        assert f.read().strip() == "500"
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    assert r.facts["oom-score-adj"] == "500"


def test_sysctl_in_new_net_namespace(ct):
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        host_before = f.read()
    ct.cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    r = ct.probe("sysctl", "net.ipv4.ip_forward")
    assert r.rc == 0, r
    assert r.facts["net.ipv4.ip_forward"] == "1"
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read() == host_before


def test_sysctl_in_new_ipc_namespace(ct):
    with open("/proc/sys/kernel/shm_rmid_forced") as f:
        host_before = f.read()
    want = "0" if host_before.strip() == "1" else "1"
    ct.cfg["linux"]["sysctl"] = {"kernel.shm_rmid_forced": want}
    r = ct.probe("sysctl", "kernel.shm_rmid_forced")
    assert r.rc == 0, r
    assert r.facts["kernel.shm_rmid_forced"] == want
    with open("/proc/sys/kernel/shm_rmid_forced") as f:
        assert f.read() == host_before


def test_sysctl_of_host_namespace_refused(ct):
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        host_before = f.read()
    ct.set_namespaces([t for t in ct.namespaces() if t != "network"])
    for m in ct.cfg["mounts"]:
        if m["destination"] == "/sys":
            m.update(type="bind", source="/sys", options=["rbind", "nosuid", "noexec",
                                                         "nodev", "ro"])
    flipped = "0" if host_before.strip() == "1" else "1"
    ct.cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": flipped}
    r = ct.probe("echo", "x")
    assert r.rc != 0, r
    assert "net.ipv4.ip_forward" in r.err, r
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read() == host_before


@pytest.mark.parametrize("nnp, want", [(True, "1"), (False, "0")])
def test_no_new_privileges(ct, nnp, want):
    ct.cfg["process"]["noNewPrivileges"] = nnp
    r = ct.probe("caps")
    assert r.rc == 0, r
    assert r.facts["NoNewPrivs"] == want


def _caps(r, key):
    return int(r.facts[key], 16)


def test_default_capabilities(ct):
    r = ct.probe("caps")
    assert r.rc == 0, r
    want = cap_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    for key in ("CapEff", "CapPrm", "CapBnd"):
        assert _caps(r, key) == want, (key, r.facts)
    assert _caps(r, "CapInh") == 0


def test_capability_sets(ct):
    # execve(2) recomputes the sets: for root with no_new_privs, permitted
    # becomes (inheritable|bounding|ambient) & old permitted, and effective
    # becomes permitted; so a config whose effective differs from permitted
    # cannot show as such.  This one survives execve unchanged.
    caps = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "inheritable": ["CAP_KILL", "CAP_NET_RAW"],
        "ambient": ["CAP_KILL"],
    }
    ct.cfg["process"]["capabilities"] = caps
    ct.cfg["process"]["noNewPrivileges"] = True
    ct.probe_args("caps")
    r = ct.create()
    assert r.rc == 0, r
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    assert _caps(r, "CapBnd") == cap_mask(caps["bounding"]), r.facts
    assert _caps(r, "CapPrm") == cap_mask(caps["permitted"]), r.facts
    assert _caps(r, "CapEff") == cap_mask(caps["effective"]), r.facts
    assert _caps(r, "CapInh") == cap_mask(caps["inheritable"]), r.facts
    assert _caps(r, "CapAmb") == cap_mask(caps["ambient"]), r.facts


def test_capabilities_for_non_root_user(ct):
    caps = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
    ct.cfg["process"]["capabilities"] = {k: list(caps) for k in
                                         ("bounding", "permitted", "effective",
                                          "inheritable", "ambient")}
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    r = ct.probe("caps")
    assert r.rc == 0, r
    assert _caps(r, "CapEff") == cap_mask(caps), r.facts
    assert _caps(r, "CapAmb") == cap_mask(caps), r.facts


def test_no_capabilities(ct):
    ct.cfg["process"]["capabilities"] = {}
    r = ct.probe("caps")
    assert r.rc == 0, r
    for key in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"):
        assert _caps(r, key) == 0, (key, r.facts)


def test_capabilities_matter(ct):
    """Without CAP_CHOWN root cannot chown; with it, it can."""
    ct.add_tmpfs("/tmp")
    script = "touch /tmp/f && chown 1000 /tmp/f && echo chowned || echo denied"
    ct.set_args("/bin/sh", "-c", script)
    r = ct.run()
    assert r.rc == 0 and r.out.strip() == "denied", r
    for k in ("bounding", "permitted", "effective"):
        ct.cfg["process"]["capabilities"][k].append("CAP_CHOWN")
    r = ct.run(cid=ct.new_id())
    assert r.rc == 0 and r.out.strip() == "chowned", r


def test_unknown_capability_is_named(ct):
    # Refusing the config or warning and going on are both allowed (runc
    # warns, so that specs naming newer capabilities run on older kernels);
    # either way the user is told which name was not understood.
    ct.cfg["process"]["capabilities"]["bounding"].append("CAP_NO_SUCH_THING")
    r = ct.probe("caps")
    assert "CAP_NO_SUCH_THING" in r.err, r
    if r.rc == 0:
        want = cap_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
        assert _caps(r, "CapBnd") == want, r.facts


@runc_xfail("runc 1.1 ignores linux.personality (support came in 1.2)")
def test_personality_linux32(ct):
    need(host.x86_64())  # the 32-bit machine name asserted is x86's
    ct.cfg["linux"]["personality"] = {"domain": "LINUX32"}
    r = ct.probe("personality")
    assert r.rc == 0, r
    assert r.facts["domain"] == "LINUX32"
    assert re.fullmatch(r"i[3-6]86", r.facts["machine"]), r.facts


def test_default_personality(ct):
    r = ct.probe("personality")
    assert r.rc == 0, r
    assert r.facts["domain"] == "LINUX"
    assert r.facts["machine"] == os.uname().machine


def test_terminal_with_console_socket(ct):
    ct.cfg["process"]["terminal"] = True
    cs = ct.console_socket()
    ct.multi_probe_args(["tty"], ["echo", "through the pty"])
    r = ct.create("--console-socket", cs.path)
    assert r.rc == 0, r
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    out = cs.wait().decode(errors="replace").replace("\r\n", "\n")
    assert "through the pty" in out, out
    facts = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        facts[k] = v
    for fd in ("fd0", "fd1", "fd2"):
        assert facts.get(fd, "").startswith("tty /dev/pts/"), out
    assert r.out == ""  # all output went through the pty


# The owner of the process's terminal, and whether the process may open it anew
# (through /proc/self/fd/0, which reopens the pty itself).
PTY_PROBE = [["stat", "fd:0"], ["open", "/proc/self/fd/0", "rw,noctty"]]


def _pty_results(text):
    probes = split_multi(text.replace("\r\n", "\n"))
    assert len(probes) == 2, text
    return probes[0].facts, probes[1]


def test_terminal_belongs_to_the_process_user(ct):
    # As runc: the uid becomes the user's, the gid stays devpts's gid=5 (the tty group).
    ct.cfg["process"]["terminal"] = True
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    cs = ct.console_socket()
    ct.multi_probe_args(*PTY_PROBE)
    assert ct.create("--console-socket", cs.path).rc == 0
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    owner, reopen = _pty_results(cs.wait().decode(errors="replace"))
    assert (owner["type"], owner["uid"], owner["gid"]) == ("chr", "1000", "5"), owner
    assert reopen.rc == 0 and reopen.out.strip() == "ok", reopen


def test_exec_terminal_belongs_to_the_exec_user(ct):
    ct.probe_args("sleep", "60")
    assert ct.create().rc == 0 and ct.start().rc == 0
    cs = ct.console_socket()
    script = "\n".join('echo "%s %d"; %s %s; echo "%s rc $?"' % (MARK, i, TESTBIN, " ".join(cmd), MARK)
                       for i, cmd in enumerate(PTY_PROBE))
    r = ct.rt("exec", "-t", "-d", "--console-socket", cs.path, "--user", "1000:1000", ct.id,
              "/bin/sh", "-c", script)
    assert r.rc == 0, r
    owner, reopen = _pty_results(cs.wait().decode(errors="replace"))
    assert (owner["type"], owner["uid"], owner["gid"]) == ("chr", "1000", "5"), owner
    assert reopen.rc == 0 and reopen.out.strip() == "ok", reopen


def test_terminal_without_console_socket_fails(ct):
    ct.cfg["process"]["terminal"] = True
    r = ct.create()
    assert r.rc != 0, r
    assert "console" in r.err.lower(), r


def test_no_terminal_means_no_tty(ct):
    r = ct.probe("tty")
    assert r.rc == 0, r
    assert r.facts == {"fd0": "notty", "fd1": "notty", "fd2": "notty"}


def _fds(r):
    return {int(l.split()[0]): l.split(" ", 1)[1] for l in r.out.splitlines()}


def test_preserve_fds(ct, host_tmp):
    path = os.path.join(host_tmp, "passed-in")
    open(path, "w").close()
    r = ct.probe("fds", extra=["--preserve-fds", "1"], extra_fds={3: path})
    assert r.rc == 0, r
    fds = _fds(r)
    assert sorted(fds) == [0, 1, 2, 3], fds
    assert fds[3] == "/passed-in" or fds[3].endswith("/passed-in"), fds


def test_no_fd_leaks_into_container(ct, host_tmp):
    """Only 0, 1, 2 reach the process: not the runtime's fds nor unpreserved fds 3-5."""
    path = os.path.join(host_tmp, "not-passed")
    open(path, "w").close()
    r = ct.probe("fds", extra_fds={3: path, 4: path, 5: path})
    assert r.rc == 0, r
    assert sorted(_fds(r)) == [0, 1, 2], r.out


def test_no_fd_leaks_after_create_start(ct):
    ct.probe_args("fds")
    r = ct.create()
    assert r.rc == 0, r
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    assert sorted(_fds(r)) == [0, 1, 2], r.out


def test_stdio_is_the_runtime_stdio(ct):
    ct.multi_probe_args(["echo", "to stdout"])
    ct.cfg["process"]["args"][-1] += "; echo to-stderr >&2"
    r = ct.run()
    assert r.rc == 0, r
    assert "to stdout" in r.out
    assert "to-stderr" in r.err


def test_pids_limit(ct):
    need(host.controller("pids"))
    ct.cfg["linux"]["resources"]["pids"] = {"limit": 10}
    r = ct.probe("fork-many", "30")
    assert r.rc == 0, r
    assert int(r.facts["forked"]) < 10, r.facts
    assert r.facts["errno"] == "EAGAIN", r.facts


def test_process_is_in_its_cgroup(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    pid = ct.state()["pid"]
    with open("/proc/%d/cgroup" % pid) as f:
        lines = f.read().splitlines()
    # Every hierarchy with a controller places the process in a cgroup that
    # ends with the configured relative path.
    want = ct.cfg["linux"].get("cgroupsPath") or "guise-it/%s" % ct.id
    v1 = [l for l in lines if l.split(":")[1]]
    assert v1, lines
    for line in v1:
        assert line.endswith("/" + want), line


def _cpu_list(text):
    cpus = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def test_process_gets_the_runtimes_cpu_set(ct):
    # The runtime moves its init off its own CPU while both set up; the user's process
    # still gets the CPU set the runtime was started with (narrowed by a cpuset cgroup).
    ct.probe_args("cat", "/proc/self/status")
    r = ct.run()
    assert r.rc == 0, r
    line = next(l for l in r.out.splitlines() if l.startswith("Cpus_allowed_list:"))
    assert _cpu_list(line.split(":", 1)[1].strip()) == set(os.sched_getaffinity(0)), line


def _not_elf(ct, name="notelf"):
    path = os.path.join(ct.rootfs, name)
    with open(path, "wb") as f:
        f.write(b"\x01\x02 neither ELF nor a script\n")
    os.chmod(path, 0o755)
    return "/" + name


def test_run_says_why_the_exec_failed(ct):
    # A file the kernel cannot execute: the exec itself fails (ENOEXEC), after every
    # check the runtime can make first. The message names the program and the reason.
    ct.set_args(_not_elf(ct))
    r = ct.run()
    assert r.rc != 0, r
    assert "/notelf" in r.err and "format error" in r.err.lower(), r


def test_run_says_when_the_elf_interpreter_is_missing(ct):
    # A dynamically linked program in an image without its loader: exec says ENOENT
    # although the program is there.
    with open("/usr/bin/true", "rb") as f:
        if b"/ld-linux" not in f.read(8192):  # PT_INTERP names the loader, near the start
            pytest.skip("host: /usr/bin/true is not dynamically linked (no ELF interpreter to miss)")
    shutil.copy("/usr/bin/true", os.path.join(ct.rootfs, "dynamic"))
    if os.path.exists(os.path.join(ct.rootfs, "lib64/ld-linux-x86-64.so.2")):
        pytest.skip("the test image has a loader")
    ct.set_args("/dynamic")
    r = ct.run()
    assert r.rc != 0, r
    assert "/dynamic" in r.err and "no such file" in r.err.lower(), r


@runc_xfail("runc 1.1's start exits 0 and says nothing when the exec fails")
def test_start_says_why_the_exec_failed(ct):
    ct.set_args(_not_elf(ct))
    assert ct.create().rc == 0
    r = ct.start()
    assert r.rc != 0, r
    assert "/notelf" in r.err and "format error" in r.err.lower(), r


def test_exec_says_why_the_exec_failed(ct):
    notelf = _not_elf(ct)
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    r = ct.rt("exec", ct.id, notelf)
    assert r.rc != 0, r
    assert notelf in r.err and "format error" in r.err.lower(), r
    r = ct.rt("exec", ct.id, TESTBIN, "echo", "still", "fine")
    assert r.rc == 0 and r.out == "still fine\n", r


@runc_xfail("runc 1.1 leaves the pid file of a run whose exec failed")
def test_failed_run_leaves_no_pid_file(ct):
    pidfile = os.path.join(ct.dir, "run.pid")
    ct.set_args(_not_elf(ct))
    r = ct.run("--pid-file", pidfile)
    assert r.rc != 0, r
    assert not os.path.exists(pidfile), "a pid file for a container that never ran"


# --------------------------------------------------------------- exec, as runc 1.1 does it


def _running(ct):
    ct.probe_args("sleep", "60")
    r = ct.run("-d")
    assert r.rc == 0, r
    return ct.state()["pid"]


def _exec_pids(ct):
    r = ct.rt("ps", "--format", "json", ct.id)
    assert r.rc == 0, r
    return json.loads(r.out)


def test_exec_in_a_paused_container_waits_for_resume_with_ignore_paused(ct):
    _running(ct)
    assert ct.rt("pause", ct.id).rc == 0
    r = ct.rt("exec", ct.id, TESTBIN, "echo", "hi")
    assert r.rc == 255, r
    assert "paused" in r.err and "--ignore-paused" in r.err, r
    # Allowed, and frozen with the container until it is resumed.
    p = ct.spawn("exec", "--ignore-paused", ct.id, TESTBIN, "echo", "hi")
    time.sleep(0.5)
    assert p.popen.poll() is None, "exec --ignore-paused returned while the container was paused"
    assert ct.rt("resume", ct.id).rc == 0
    r = p.wait()
    assert r.rc == 0 and r.out == "hi\n", r


def test_exec_that_cannot_start_exits_255(ct):
    init = _running(ct)
    pidfile = os.path.join(ct.dir, "no-such-dir", "exec.pid")
    r = ct.rt("exec", "--pid-file", pidfile, ct.id, TESTBIN, "sleep", "30")
    assert r.rc == 255, r
    assert wait_for(lambda: _exec_pids(ct) == [init], 5), "the exec'd process was left running"
    r = ct.rt("exec", "no-such-container-" + ct.id, TESTBIN, "pid")
    assert r.rc == 255, r
    # The process's own status is passed through untouched, 255 included.
    assert ct.rt("exec", ct.id, TESTBIN, "exit", "7").rc == 7
    assert ct.rt("exec", ct.id, TESTBIN, "exit", "255").rc == 255


def _make_sub_cgroups(dirs, name):
    for ctrl, d in dirs.items():
        sub = os.path.join(d, name)
        os.makedirs(sub, exist_ok=True)
        if ctrl == "cpuset":  # a v1 cpuset takes no process before it has cpus and mems
            for f in ("cpuset.cpus", "cpuset.mems"):
                with open(os.path.join(d, f)) as src, open(os.path.join(sub, f), "w") as dst:
                    dst.write(src.read())


def _exec_in(ct, *flags):
    pidfile = os.path.join(ct.dir, "exec.pid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    r = ct.rt("exec", "-d", "--pid-file", pidfile, *flags, ct.id, TESTBIN, "sleep", "60")
    if r.rc != 0:
        return r, None
    with open(pidfile) as f:
        return r, cgroup_dirs(int(f.read()))


def test_exec_cgroup_joins_a_sub_cgroup_in_every_hierarchy(ct):
    dirs = cgroup_dirs(_running(ct))
    r, _ = _exec_in(ct, "--cgroup", "sub")
    assert r.rc == 255, r  # it must exist already
    _make_sub_cgroups(dirs, "sub")
    r, got = _exec_in(ct, "--cgroup", "sub")
    assert r.rc == 0, r
    assert got == {c: os.path.join(d, "sub") for c, d in dirs.items()}, (got, dirs)
    for bad in ("../escape", "a:b:c"):
        r, _ = _exec_in(ct, "--cgroup", bad)
        assert r.rc == 255, (bad, r)


def test_exec_cgroup_per_controller(ct):
    dirs = cgroup_dirs(_running(ct))
    if "memory" not in dirs or "pids" not in dirs:
        pytest.skip("controller:path names v1 hierarchies; a cgroup v2 host has one")
    _make_sub_cgroups({c: dirs[c] for c in ("memory", "pids")}, "sub")
    r, got = _exec_in(ct, "--cgroup", "memory:sub", "--cgroup", "pids:sub")
    assert r.rc == 0, r
    want = dict(dirs, memory=os.path.join(dirs["memory"], "sub"), pids=os.path.join(dirs["pids"], "sub"))
    assert got == want, (got, dirs)
    r, _ = _exec_in(ct, "--cgroup", "sub", "--cgroup", "memory:sub")
    assert r.rc == 255 and "--cgroup" in r.err, r  # one path for all excludes others
    r, _ = _exec_in(ct, "--cgroup", "nosuchcontroller:sub")
    assert r.rc == 255 and "nosuchcontroller" in r.err, r


def test_a_non_root_process_can_reopen_its_stdout(ct):
    # As runc's fixStdioPermissions: stdio the runtime hands over is the process user's,
    # so an image that logs to /dev/stdout as a non-root user (nginx's way) can open it.
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    r = ct.probe("write", "/proc/self/fd/2", "x")
    assert r.rc == 0, r
    assert "ok" in r.out, r
