"""Confinement: capabilities, seccomp (every action, flags, notify, the cache),
LSM labels, the session keyring, /proc and /sys flags, masks over planted paths."""

import ctypes
import glob
import json
import os
import subprocess
import uuid

import pytest

import hostprobe as host
from hostprobe import need
from conftest import (IS_RUNC, REPO, TESTBIN, cap_mask, mounts_under, parse_mountinfo_text,
                      runc_xfail, skip_unless, wait_for)

AGENT_SRC = os.path.join(REPO, "examples", "seccomp-agent", "agent.c")
DOCKER_PROFILE = os.path.join(REPO, "profiles", "docker-default.json")
CACHE_DIR = "/run/guise/seccomp-cache"


def _caps(facts, key):
    return int(facts[key], 16)


def allow_all(*rules, **extra):
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
               "syscalls": list(rules)}
    profile.update(extra)
    return profile


def rule(names, action, errno_ret=None, args=None):
    r = {"names": list(names), "action": action}
    if errno_ret is not None:
        r["errnoRet"] = errno_ret
    if args:
        r["args"] = args
    return r


# ------------------------------------------------------------------ capabilities


def _running(ct, *args):
    ct.probe_args(*(args or ("sleep", "60")))
    assert ct.create().rc == 0
    assert ct.start().rc == 0


def test_exec_cap_adds_a_capability(ct):
    _running(ct)
    plain = ct.rt("exec", ct.id, TESTBIN, "caps")
    added = ct.rt("exec", "--cap", "CAP_NET_RAW", ct.id, TESTBIN, "caps")
    assert plain.rc == 0 and added.rc == 0, (plain, added)
    raw = cap_mask(["CAP_NET_RAW"])
    assert not _caps(plain.facts, "CapEff") & raw
    for key in ("CapEff", "CapPrm", "CapBnd"):
        assert _caps(added.facts, key) == _caps(plain.facts, key) | raw, (key, added.facts)


def test_exec_unknown_cap_is_named(ct):
    _running(ct)
    r = ct.rt("exec", "--cap", "CAP_NO_SUCH_THING", ct.id, TESTBIN, "caps")
    assert "CAP_NO_SUCH_THING" in r.err, r


def test_exec_process_capabilities_exactly(ct, host_tmp):
    _running(ct)
    caps = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
    proc = dict(ct.cfg["process"])
    proc.update({"args": [TESTBIN, "caps"], "user": {"uid": 1000, "gid": 1000},
                 "capabilities": {k: list(caps) for k in
                                  ("bounding", "effective", "permitted", "inheritable", "ambient")}})
    path = os.path.join(host_tmp, "process.json")
    with open(path, "w") as f:
        json.dump(proc, f)
    r = ct.rt("exec", "-p", path, ct.id)
    assert r.rc == 0, r
    for key in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"):
        assert _caps(r.facts, key) == cap_mask(caps), (key, r.facts)


@pytest.mark.parametrize("uid", [0, 1000])
def test_capabilities_exact_when_filter_loads_without_no_new_privs(ct, uid):
    """Without no_new_privileges the filter needs CAP_SYS_ADMIN to load; it must
    not stay in the process's sets afterwards."""
    caps = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
    ct.cfg["process"]["capabilities"] = {k: list(caps) for k in
                                         ("bounding", "effective", "permitted", "inheritable", "ambient")}
    ct.cfg["process"]["noNewPrivileges"] = False
    ct.cfg["process"]["user"] = {"uid": uid, "gid": uid}
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["keyctl"], "SCMP_ACT_ERRNO", 1))
    r, (caps_p, sc) = ct.multi_probe(["caps"], ["syscall", "keyctl"])
    assert r.rc == 0, r
    for key in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
        assert _caps(caps_p.facts, key) == cap_mask(caps), (key, caps_p.facts)
    assert caps_p.facts["Seccomp"] == "2" and caps_p.facts["NoNewPrivs"] == "0"
    assert sc.facts["keyctl"] == "EPERM"


# ------------------------------------------------------------------ seccomp actions


def test_seccomp_errno_with_errno_ret(ct):
    ct.add_tmpfs("/tmp")
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", 30))
    r = ct.probe("mkdir", "/tmp/x")
    assert r.rc == 0, r
    assert r.facts["mkdir"] == "EROFS"


def test_seccomp_default_errno_ret(ct):
    with open(DOCKER_PROFILE) as f:
        profile = json.load(f)
    profile["defaultErrnoRet"] = 18  # EXDEV: visibly the default action's
    ct.cfg["linux"]["seccomp"] = profile
    r = ct.probe("syscall", "keyctl", "getpid")
    assert r.rc == 0, r
    assert r.facts == {"keyctl": "EXDEV", "getpid": "ok"}


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
                                    "SCMP_ACT_TRAP"])
def test_seccomp_killing_actions(ct, action):
    # `testbin pid` calls getppid; the process dies of SIGSYS (31).
    if action == "SCMP_ACT_KILL_PROCESS":
        need(host.seccomp_action("kill_process"))
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["getppid"], action))
    r = ct.probe("pid")
    assert r.rc == 128 + 31, r
    assert "ppid" not in r.out


def test_seccomp_trace_without_tracer_is_enosys(ct):
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["keyctl"], "SCMP_ACT_TRACE", 1))
    r = ct.probe("syscall", "keyctl")
    assert r.rc == 0, r
    assert r.facts["keyctl"] == "ENOSYS"


def test_seccomp_log_allows(ct):
    need(host.seccomp_action("log"))
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["getppid"], "SCMP_ACT_LOG"))
    r = ct.probe("pid")
    assert r.rc == 0 and "ppid" in r.out, r


def test_seccomp_argument_operators(ct):
    ct.cfg["linux"]["seccomp"] = allow_all(
        rule(["personality"], "SCMP_ACT_ERRNO", 33, [{"index": 0, "value": 0xffffffff, "op": "SCMP_CMP_EQ"}]),
        rule(["socket"], "SCMP_ACT_ERRNO", 97,
             [{"index": 0, "value": 0xff, "valueTwo": 40, "op": "SCMP_CMP_MASKED_EQ"}]),
        rule(["setns"], "SCMP_ACT_ERRNO", 22, [{"index": 0, "value": 0, "op": "SCMP_CMP_GT"}]),
        rule(["swapon"], "SCMP_ACT_ERRNO", 95, [{"index": 1, "value": 0, "op": "SCMP_CMP_NE"}]))
    r = ct.probe("syscall", "personality-query", "personality-bad", "socket-vsock", "swapon")
    assert r.rc == 0, r
    assert r.facts["personality-query"] == "EDOM"
    assert r.facts["personality-bad"] != "EDOM"
    assert r.facts["socket-vsock"] == "EAFNOSUPPORT"
    assert r.facts["swapon"] != "EOPNOTSUPP"  # flags 0: NE 0 does not match


def test_seccomp_comparisons_of_one_argument_each_apply(ct):
    # Two comparisons of argument 0 in one rule: as runc, each is its own rule.
    ct.cfg["linux"]["seccomp"] = allow_all(
        rule(["personality"], "SCMP_ACT_ERRNO", 33,
             [{"index": 0, "value": 0xffffffff, "op": "SCMP_CMP_EQ"},
              {"index": 0, "value": 0x0040000, "op": "SCMP_CMP_EQ"}]))
    r = ct.probe("syscall", "personality-query", "personality-bad")
    assert r.facts == {"personality-query": "EDOM", "personality-bad": "EDOM"}, r


@runc_xfail("runc 1.1 refuses linux.seccomp.flags ('not yet supported')")
def test_seccomp_flags(ct):
    for flag in ("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"):
        need(host.seccomp_flag(flag))
    ct.cfg["linux"]["seccomp"] = allow_all(
        rule(["keyctl"], "SCMP_ACT_ERRNO", 1),
        flags=["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
    r = ct.probe("syscall", "keyctl", "getpid")
    assert r.rc == 0, r
    assert r.facts == {"keyctl": "EPERM", "getpid": "ok"}


def test_seccomp_unknown_syscall_names_are_skipped(ct):
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["keyctl", "no_such_syscall_guise"], "SCMP_ACT_ERRNO", 1))
    r = ct.probe("syscall", "keyctl")
    assert r.rc == 0, r
    assert r.facts["keyctl"] == "EPERM"


# The syscalls a runtime makes after its own setup that a strict profile may deny.
RUNTIME_SYSCALLS = ["getcwd", "chdir", "fchdir", "capset", "setresuid", "setresgid", "setgroups",
                    "openat2", "close_range", "keyctl", "mount_setattr", "umask", "setsid",
                    "access", "faccessat", "faccessat2", "memfd_create", "poll"]


@pytest.mark.parametrize("how", ["run", "create"])
def test_seccomp_filter_comes_last_with_no_new_privs(ct, how):
    # With create, the wait for `start` comes after the filter too, as in runc.
    ct.cfg["process"]["noNewPrivileges"] = True
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    ct.cfg["linux"]["seccomp"] = allow_all(rule(RUNTIME_SYSCALLS, "SCMP_ACT_ERRNO", 1))
    if how == "run":
        r = ct.probe("syscall", "getpid", "keyctl")
        assert r.rc == 0, r
    else:
        ct.probe_args("syscall", "getpid", "keyctl")
        r = ct.create()
        assert r.rc == 0, r
        assert ct.start().rc == 0
        ct.wait_status("stopped")
        assert wait_for(lambda: r.out.count("\n") >= 2, 5), r
    assert r.facts == {"getpid": "ok", "keyctl": "EPERM"}


def test_create_reports_ready_before_a_filter_that_denies_sendmsg(ct):
    # runc reports ready before it loads the filter: a profile may deny the sockets the
    # runtime talks over, and `create` + `start` still run the container.
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["sendmsg", "sendto", "sendmmsg"], "SCMP_ACT_ERRNO", 1))
    ct.probe_args("syscall", "getpid")
    r = ct.create()
    assert r.rc == 0, r
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    assert wait_for(lambda: "getpid" in r.out, 5), r


@runc_xfail("runc 1.1 loads the filter before its own user switch when noNewPrivileges is false")
def test_seccomp_filter_comes_last_without_no_new_privs(ct):
    ct.cfg["process"]["noNewPrivileges"] = False
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    ct.cfg["linux"]["seccomp"] = allow_all(rule(RUNTIME_SYSCALLS, "SCMP_ACT_ERRNO", 1))
    r = ct.probe("syscall", "getpid", "keyctl")
    assert r.rc == 0, r
    assert r.facts == {"getpid": "ok", "keyctl": "EPERM"}


# Past every syscall any profile names (and every syscall a kernel has).
NEWER_THAN_NAMED = "nr:1000"


def test_seccomp_syscall_newer_than_the_profile_is_enosys(ct):
    # Deny by default (EPERM), as docker's profile: a syscall newer than any it names
    # gets ENOSYS (libc falls back only on that); older ones keep the default action,
    # named (acct, with the default's own action) or not (keyctl).
    with open(DOCKER_PROFILE) as f:
        profile = json.load(f)
    profile["syscalls"].append(rule(["acct"], "SCMP_ACT_ERRNO", 1))
    ct.cfg["linux"]["seccomp"] = profile
    r = ct.probe("syscall", NEWER_THAN_NAMED, "keyctl", "acct", "getpid")
    assert r.rc == 0, r
    assert r.facts == {NEWER_THAN_NAMED: "ENOSYS", "keyctl": "EPERM", "acct": "EPERM", "getpid": "ok"}
    # The same from exec, whose filter is the same program.
    ct.probe_args("sleep", "60")
    cid = ct.new_id()
    assert ct.create(cid=cid).rc == 0 and ct.start(cid).rc == 0
    r = ct.rt("exec", cid, TESTBIN, "syscall", NEWER_THAN_NAMED, "keyctl")
    assert r.rc == 0 and r.facts == {NEWER_THAN_NAMED: "ENOSYS", "keyctl": "EPERM"}, r


def test_seccomp_syscall_newer_than_the_profile_with_an_allowing_default(ct):
    # Nothing to fall back from: the kernel's own answer.
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["keyctl"], "SCMP_ACT_ERRNO", 18))
    r = ct.probe("syscall", NEWER_THAN_NAMED, "keyctl", "getpid")
    assert r.rc == 0, r
    assert r.facts == {NEWER_THAN_NAMED: "ENOSYS", "keyctl": "EXDEV", "getpid": "ok"}


@pytest.mark.parametrize("how", ["run", "create"])
def test_seccomp_applies_to_start_container_hooks(ct, how):
    # startContainer hooks run in the container after the filter is loaded, as in runc.
    seen = ct.tmpdir("hook-out")
    ct.add_mount("/hook-out", "bind", seen, ["rbind", "rw"])
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["keyctl"], "SCMP_ACT_ERRNO", 18))
    ct.cfg["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", TESTBIN + " syscall keyctl > /hook-out/keyctl"]}]}
    ct.probe_args("syscall", "keyctl")
    if how == "run":
        r = ct.run()
        assert r.rc == 0 and r.facts == {"keyctl": "EXDEV"}, r
    else:
        assert ct.create().rc == 0
        assert ct.start().rc == 0
        ct.wait_status("stopped")
    with open(os.path.join(seen, "keyctl")) as f:
        assert f.read().split() == ["keyctl", "EXDEV"]


def test_seccomp_filter_on_exec(ct):
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["keyctl"], "SCMP_ACT_ERRNO", 18))
    _running(ct)
    r = ct.rt("exec", ct.id, TESTBIN, "syscall", "keyctl")
    assert r.rc == 0, r
    assert r.facts["keyctl"] == "EXDEV"


# ------------------------------------------------------------------ seccomp notify


@pytest.fixture
def agent(ct):
    """The example agent, built from examples/seccomp-agent, on a socket of the test's."""
    need(host.seccomp_action("user_notif"))
    need(host.program("cc", "a C compiler, to build examples/seccomp-agent"))
    binary = os.path.join(ct.dir, "seccomp-agent")
    b = subprocess.run(["cc", "-O2", "-Wall", "-o", binary, AGENT_SRC], capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    sock = os.path.join(ct.dir, "agent.sock")
    log = os.path.join(ct.dir, "agent.log")
    p = subprocess.Popen([binary, sock, log])
    try:
        assert wait_for(lambda: os.path.exists(sock), 5), "the agent did not listen"
        yield sock, log
    finally:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _agent_messages(log):
    with open(log) as f:
        return [json.loads(l) for l in f if l.startswith("{")]


def _agent_decisions(log):
    with open(log) as f:
        return [l.strip() for l in f if l.startswith("mkdir ")]


def _notify_profile(sock):
    return allow_all(rule(["mkdir", "mkdirat"], "SCMP_ACT_NOTIFY"),
                     listenerPath=sock, listenerMetadata="mkdir-errno=30")


def test_seccomp_notify_agent_answers(ct, agent):
    sock, log = agent
    ct.add_tmpfs("/tmp")
    ct.cfg["linux"]["seccomp"] = _notify_profile(sock)
    r, (fake, real, check) = ct.multi_probe(["mkdir", "/fake/x"], ["mkdir", "/tmp/y"], ["stat", "/tmp/y"])
    assert r.rc == 0, r
    assert fake.facts["mkdir"] == "ok", fake      # /fake does not exist: the agent said yes
    assert real.facts["mkdir"] == "EROFS", real   # the errno the metadata names
    assert check.facts.get("errno") == "ENOENT", check
    assert _agent_decisions(log) == ["mkdir /fake/x -> 0", "mkdir /tmp/y -> errno 30"]


def test_seccomp_notify_state_sent_to_listener(ct, agent):
    sock, log = agent
    ct.cfg["linux"]["seccomp"] = _notify_profile(sock)
    ct.cfg["annotations"] = {"org.guise.test": "notify"}
    ct.probe_args("sleep", "60")
    assert ct.create().rc == 0
    st = ct.state()
    assert ct.start().rc == 0
    (msg,) = wait_for(lambda: _agent_messages(log), 5)
    assert msg["ociVersion"]
    assert msg["fds"] == ["seccompFd"]
    assert msg["metadata"] == "mkdir-errno=30"
    assert msg["pid"] == st["pid"]
    state = msg["state"]
    assert state["id"] == ct.id and state["pid"] == st["pid"]
    assert state["status"] == "creating"
    assert os.path.realpath(state["bundle"]) == os.path.realpath(ct.bundle)
    assert state.get("annotations", {}).get("org.guise.test") == "notify"
    # exec: its own message, for its own pid, the container running.
    pidfile = os.path.join(ct.dir, "exec.pid")
    r = ct.rt("exec", "--pid-file", pidfile, ct.id, TESTBIN, "mkdir", "/fake/z")
    assert r.rc == 0 and r.facts["mkdir"] == "ok", r
    msgs = wait_for(lambda: len(_agent_messages(log)) == 2 and _agent_messages(log), 5)
    with open(pidfile) as f:
        exec_pid = int(f.read())
    assert msgs[1]["pid"] == exec_pid
    assert msgs[1]["state"]["status"] == "running" and msgs[1]["state"]["id"] == ct.id


@runc_xfail("runc 1.1 refuses linux.seccomp.flags ('not yet supported')")
def test_seccomp_notify_with_killable_receive(ct, agent):
    need(host.seccomp_flag("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"))
    sock, log = agent
    profile = _notify_profile(sock)
    profile["flags"] = ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"]
    ct.cfg["linux"]["seccomp"] = profile
    r = ct.probe("mkdir", "/fake/k")
    assert r.rc == 0 and r.facts["mkdir"] == "ok", r


@skip_unless(not IS_RUNC, "guise refuses what would deadlock it; runc has its own rule (write)")
def test_seccomp_notify_on_sendmsg_is_refused(ct, agent):
    sock, _ = agent
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["sendmsg"], "SCMP_ACT_NOTIFY"), listenerPath=sock)
    r = ct.probe("pid")
    assert r.rc != 0 and "sendmsg" in r.err, r


def test_seccomp_notify_on_write_is_refused(ct, agent):
    # The runtime itself writes after loading the filter; runc refuses it, in these words.
    sock, log = agent
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["mkdir"], "SCMP_ACT_NOTIFY"),
                                           rule(["read", "write"], "SCMP_ACT_NOTIFY"), listenerPath=sock)
    r = ct.probe("pid")
    assert r.rc != 0, r
    assert "SCMP_ACT_NOTIFY cannot be used for the write syscall" in r.err, r
    if not IS_RUNC:
        assert "linux.seccomp: syscalls[1]:" in r.err, r
    assert _agent_messages(log) == []


def test_seccomp_notify_listener_missing(ct):
    ct.cfg["linux"]["seccomp"] = _notify_profile(os.path.join(ct.dir, "nobody-listens.sock"))
    r = ct.probe("pid")
    assert r.rc != 0, r
    assert "nobody-listens.sock" in r.err, r


# ------------------------------------------------------------------ seccomp cache


@skip_unless(not IS_RUNC, "the compiled-program cache is guise's")
def test_seccomp_programs_are_cached_by_content(ct):
    with open(DOCKER_PROFILE) as f:
        profile = json.load(f)
    # A profile no other test uses: its entry is new.
    profile["syscalls"].append(rule(["keyctl"], "SCMP_ACT_ERRNO", 18 + uuid.uuid4().int % 10))
    ct.cfg["linux"]["seccomp"] = profile
    before = set(glob.glob(os.path.join(CACHE_DIR, "*.bpf")))
    r = ct.probe("syscall", "keyctl")
    assert r.rc == 0, r
    made = set(glob.glob(os.path.join(CACHE_DIR, "*.bpf"))) - before
    assert len(made) == 1, made
    entry = made.pop()
    st = os.stat(entry)
    assert st.st_uid == 0 and st.st_mode & 0o077 == 0, oct(st.st_mode)
    assert os.stat(CACHE_DIR).st_mode & 0o022 == 0
    mtime = st.st_mtime_ns
    again = ct.probe("syscall", "keyctl", cid=ct.new_id())
    assert again.rc == 0 and again.facts == r.facts, again
    assert set(glob.glob(os.path.join(CACHE_DIR, "*.bpf"))) - before == {entry}
    assert os.stat(entry).st_mtime_ns == mtime  # read, not written again
    os.unlink(entry)


@skip_unless(not IS_RUNC, "the compiled-program cache is guise's")
def test_seccomp_cache_entry_tampered_is_not_used(ct):
    """An entry that does not parse is compiled afresh, not loaded."""
    ct.cfg["linux"]["seccomp"] = allow_all(rule(["keyctl"], "SCMP_ACT_ERRNO", 28 + uuid.uuid4().int % 5))
    before = set(glob.glob(os.path.join(CACHE_DIR, "*.bpf")))
    assert ct.probe("pid").rc == 0
    (entry,) = set(glob.glob(os.path.join(CACHE_DIR, "*.bpf"))) - before
    with open(entry, "r+b") as f:
        f.truncate(20)
    r = ct.probe("syscall", "keyctl", cid=ct.new_id())
    assert r.rc == 0 and r.facts["keyctl"] != "ok", r
    os.unlink(entry)


# ------------------------------------------------------------------ LSM


# Asking for a label of an LSM the host does not run must be an error, never an
# unconfined process; where the LSM runs, labels are the engines' business.
NO_APPARMOR = "host: %s; the refusal is for hosts without it" % host.apparmor().why
NO_SELINUX = "host: %s; the refusal is for hosts without it" % host.selinux().why


def _apparmor_enabled():
    return bool(host.apparmor())


def _selinux_enabled():
    return bool(host.selinux())


@skip_unless(not _apparmor_enabled(), NO_APPARMOR)
@runc_xfail("runc 1.1 runs the process unconfined when AppArmor is not enabled")
def test_apparmor_profile_without_apparmor_is_an_error(ct):
    ct.cfg["process"]["apparmorProfile"] = "guise-test-profile"
    r = ct.probe("pid")
    assert r.rc != 0, r
    assert "AppArmor" in r.err and "guise-test-profile" in r.err, r


@skip_unless(not _selinux_enabled(), NO_SELINUX)
@runc_xfail("runc 1.1 runs the process unlabelled when SELinux is not enabled")
def test_selinux_label_without_selinux_is_an_error(ct):
    ct.cfg["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0:c1,c2"
    r = ct.probe("pid")
    assert r.rc != 0, r
    assert "SELinux" in r.err, r


@skip_unless(not _selinux_enabled(), NO_SELINUX)
@runc_xfail("runc 1.1 ignores mountLabel when SELinux is not enabled")
def test_mount_label_without_selinux_is_an_error(ct):
    ct.cfg["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
    r = ct.probe("pid")
    assert r.rc != 0, r
    assert "mountLabel" in r.err and "SELinux" in r.err, r


@skip_unless(not _apparmor_enabled(), NO_APPARMOR)
@runc_xfail("runc 1.1 runs the process unconfined when AppArmor is not enabled")
def test_exec_apparmor_profile_without_apparmor_is_an_error(ct, host_tmp):
    _running(ct)
    proc = dict(ct.cfg["process"])
    proc.update({"args": [TESTBIN, "pid"], "apparmorProfile": "guise-test-profile"})
    path = os.path.join(host_tmp, "process.json")
    with open(path, "w") as f:
        json.dump(proc, f)
    r = ct.rt("exec", "-p", path, ct.id)
    assert r.rc != 0 and "AppArmor" in r.err, r


@skip_unless(not _apparmor_enabled(), NO_APPARMOR)
@runc_xfail("runc 1.1 runs the process unconfined when AppArmor is not enabled")
def test_exec_apparmor_flag_without_apparmor_is_an_error(ct):
    # The command-line form must not be dropped either: a user asking for a profile
    # gets it or an error, never an unconfined process.
    _running(ct)
    r = ct.rt("exec", "--apparmor", "guise-test-profile", ct.id, TESTBIN, "pid")
    assert r.rc != 0 and "AppArmor" in r.err, r


@skip_unless(not _selinux_enabled(), NO_SELINUX)
@runc_xfail("runc 1.1 runs the process unlabelled when SELinux is not enabled")
def test_exec_process_label_flag_without_selinux_is_an_error(ct):
    _running(ct)
    r = ct.rt("exec", "--process-label", "system_u:system_r:container_t:s0", ct.id, TESTBIN, "pid")
    assert r.rc != 0 and "SELinux" in r.err, r


# ------------------------------------------------------------------ keyring


def _host_session_keyring():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc.syscall(250, 0, -3, 0)  # keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING)


def test_session_keyring_per_container(ct):
    host_keyring = _host_session_keyring()
    a = ct.probe("keyring")
    b = ct.probe("keyring", cid=ct.new_id())
    assert a.rc == 0 and b.rc == 0, (a, b)
    assert int(a.facts["session"]) != host_keyring and int(b.facts["session"]) != host_keyring
    assert a.facts["session"] != b.facts["session"]
    assert a.facts["desc"].endswith(ct.id), a.facts


def test_no_new_keyring_keeps_the_callers(ct):
    host_keyring = _host_session_keyring()
    r = ct.probe("keyring", extra=["--no-new-keyring"])
    assert r.rc == 0, r
    assert int(r.facts["session"]) == host_keyring


def test_exec_gets_the_containers_keyring_not_the_callers(ct):
    host_keyring = _host_session_keyring()
    _running(ct)
    r = ct.rt("exec", ct.id, TESTBIN, "keyring")
    assert r.rc == 0, r
    assert int(r.facts["session"]) != host_keyring


# ------------------------------------------------------------------ /proc and /sys


def test_proc_and_sys_mounted_with_the_specs_flags(ct):
    for m in ct.cfg["mounts"]:
        if m["destination"] == "/proc":
            m["options"] = ["nosuid", "noexec", "nodev"]
        if m["destination"] == "/sys":
            m["options"] = ["nosuid", "noexec", "nodev", "ro"]
    r = ct.probe("mounts")
    assert r.rc == 0, r
    mounts = {m["mountpoint"]: m for m in parse_mountinfo_text(r.out)}
    for point, want in (("/proc", {"nosuid", "noexec", "nodev"}), ("/sys", {"nosuid", "noexec", "nodev", "ro"})):
        assert want <= set(mounts[point]["options"]), (point, mounts[point])


# ------------------------------------------------------------------ masks over planted paths


def test_masked_path_planted_as_symlink_masks_its_target(ct):
    with open(os.path.join(ct.rootfs, "real-secret"), "w") as f:
        f.write("secret\n")
    os.symlink("/real-secret", os.path.join(ct.rootfs, "secret-link"))
    os.makedirs(os.path.join(ct.rootfs, "real-dir"))
    with open(os.path.join(ct.rootfs, "real-dir", "inner"), "w") as f:
        f.write("inner\n")
    os.symlink("real-dir", os.path.join(ct.rootfs, "dir-link"))
    ct.cfg["linux"]["maskedPaths"] += ["/secret-link", "/dir-link"]
    r, probes = ct.multi_probe(["cat", "/secret-link"], ["cat", "/real-secret"],
                               ["ls", "/dir-link"], ["ls", "/real-dir"])
    assert r.rc == 0, r
    for p in probes:
        assert p.rc == 0 and p.out == "", probes
    with open(os.path.join(ct.rootfs, "real-secret")) as f:
        assert f.read() == "secret\n"


def test_readonly_path_planted_as_symlink(ct):
    ct.cfg["root"]["readonly"] = False
    os.makedirs(os.path.join(ct.rootfs, "data"))
    os.symlink("/data", os.path.join(ct.rootfs, "ro-link"))
    ct.cfg["linux"]["readonlyPaths"].append("/ro-link")
    r, (via_link, direct) = ct.multi_probe(["write", "/ro-link/x", "no"], ["write", "/data/y", "no"])
    assert r.rc == 0, r
    assert via_link.facts.get("errno") == "EROFS", via_link
    assert direct.facts.get("errno") == "EROFS", direct
    assert os.listdir(os.path.join(ct.rootfs, "data")) == []


def test_masked_path_symlink_out_of_the_rootfs_stays_inside(ct, host_tmp):
    secret = os.path.join(host_tmp, "host-secret")
    with open(secret, "w") as f:
        f.write("host\n")
    os.symlink("../" * 20 + secret.lstrip("/"), os.path.join(ct.rootfs, "esc"))
    ct.cfg["linux"]["maskedPaths"].append("/esc")
    r = ct.probe("cat", "/esc")
    assert "host" not in r.out, r
    assert mounts_under(host_tmp) == []
    with open(secret) as f:
        assert f.read() == "host\n"

