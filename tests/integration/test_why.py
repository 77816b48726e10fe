"""`guise why`: each case a real container made to die that way, its cause and the
evidence asserted from `why --format json` and its paragraph; `inspect`'s OOMKilled true
exactly when an OOM kill happened in the last run, whichever process it hit.

The image "why" is the busybox rootfs with the static test binary (memhog), a crafted
arm64 ELF header, a CRLF script, a script for a missing interpreter, and dynamic
programs from the host missing their loader or their libc."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import image_builder as ib
from conftest import wait_for
from engine_fixture import Engine, busybox_rootfs_entries, eng, images, memory_controller  # noqa: F401

HOST_DYNAMIC = "/usr/bin/true"
HOST_LOADER = "/lib64/ld-linux-x86-64.so.2"
MIB = 1 << 20


def _testbin():
    from conftest import REPO
    return os.path.join(REPO, "build", "guise-testbin")


def _arm64_elf():
    """A 64-byte ELF header for arm64 (EM_AARCH64 = 183): enough for the kernel to refuse it."""
    h = bytearray(64)
    h[0:4] = b"\x7fELF"
    h[4], h[5], h[6] = 2, 1, 1                # 64-bit, little-endian, version 1
    h[16:18] = (2).to_bytes(2, "little")      # ET_EXEC
    h[18:20] = (183).to_bytes(2, "little")    # EM_AARCH64
    h[20:24] = (1).to_bytes(4, "little")
    h[52:54] = (64).to_bytes(2, "little")     # e_ehsize
    return bytes(h)


def _why_entries():
    entries = busybox_rootfs_entries()
    with open(_testbin(), "rb") as f:
        entries.append(ib.F("bin/guise-testbin", f.read(), 0o755))
    entries += [ib.D("app"), ib.F("app/arm64", _arm64_elf(), 0o755),
                ib.F("app/crlf.sh", b"#!/bin/sh\r\necho from crlf\r\n", 0o755),
                ib.F("app/bash.sh", b"#!/bin/bash\necho never\n", 0o755)]
    if os.path.exists(HOST_DYNAMIC) and os.path.exists(HOST_LOADER):
        with open(HOST_DYNAMIC, "rb") as f:
            dyn = f.read()
        with open(os.path.realpath(HOST_LOADER), "rb") as f:
            loader = f.read()
        if HOST_LOADER.encode() in dyn:
            entries.append(ib.F("app/dyn-nolib", dyn, 0o755))
            # The same program asking for a loader the image does not have.
            entries.append(ib.F("app/dyn-noloader", dyn.replace(HOST_LOADER.encode(), HOST_LOADER[:-1].encode() + b"9"),
                                0o755))
            entries += [ib.D("lib64"), ib.F(HOST_LOADER.lstrip("/"), loader, 0o755)]
    return entries


@pytest.fixture(scope="module")
def template_store(images, tmp_path_factory):
    """The engine fixture's store, with the image "why" beside "bb"."""
    root = str(tmp_path_factory.mktemp("why-template") / "store")
    e = Engine(root)
    e.ok("import", images.rootfs_tar, "bb:latest", timeout=60)
    tar = os.path.join(str(tmp_path_factory.mktemp("why-image")), "why.tar")
    with open(tar, "wb") as f:
        f.write(ib.layer_tar(_why_entries()))
    e.ok("import", tar, "why:1", timeout=60)
    return root


def why(eng, name):
    r = eng.ok("why", "--format", "json", name)
    return json.loads(r.out)


def why_text(eng, name):
    return eng.ok("why", name).out


def wait_exited(eng, name, timeout=60):
    assert wait_for(lambda: eng.status(name) in ("exited", "created", "dead"), timeout), eng.status(name)


def pids_controller():
    if os.path.isdir("/sys/fs/cgroup/pids"):
        return True
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            return "pids" in f.read().split()
    except FileNotFoundError:
        return False


need_memory = pytest.mark.skipif(not memory_controller(), reason="host: no memory cgroup controller")
need_pids = pytest.mark.skipif(not pids_controller(), reason="host: no pids cgroup controller")


# ------------------------------------------------------------------ OOM


@need_memory
def test_oom_kill_of_pid1(eng):
    eng.run_d("--name", "hog", "--memory", "32m", "--memory-swap", "32m", "why:1", "/bin/guise-testbin",
              "memhog", "256")
    wait_exited(eng, "hog")
    j = why(eng, "hog")
    f = j["facts"]
    assert j["cause"] == "oom", j
    assert j["exit_code"] == 137 and f["signal"] == 9 and f["main_oom_killed"], j
    assert f["oom_kills"] >= 1 and f["memory_limit"] == 32 * MIB, f
    assert 24 * MIB <= f["memory_peak"] <= 33 * MIB, f
    assert f["memory_cache"] >= 0 and f["cache_at_oom"] >= 0, f
    if f["oom_victims"]:  # the kernel log was readable: PID 1 was the one chosen
        assert any(v["name"].startswith("guise-testbin") for v in f["oom_victims"]), f
    text = why_text(eng, "hog")
    assert "OOM killer killed PID 1" in text and "memory limit 32 MiB" in text and "--memory" in text, text
    assert eng.inspect("hog")["State"]["OOMKilled"] is True


@need_memory
@pytest.mark.parametrize("init", [False, True])
def test_oom_kill_of_a_child_while_pid1_lives_on(eng, init):
    flags = ["--init"] if init else []
    eng.run_d("--name", "child", *flags, "--memory", "32m", "--memory-swap", "32m", "why:1", "sh", "-c",
              "/bin/guise-testbin memhog 256; echo hog ended $?; exit 0")
    wait_exited(eng, "child")
    j = why(eng, "child")
    f = j["facts"]
    assert j["cause"] == "oom-child", j
    assert j["exit_code"] == 0 and f["signal"] == 0 and not f["main_oom_killed"] and f["oom_kills"] >= 1, j
    assert f["init"] is init, f
    if f["oom_victims"]:
        assert [v["name"] for v in f["oom_victims"]][0].startswith("guise-testbin"), f
        assert "killed guise-testbin" in j["summary"], j
    assert "lived on and then exited by itself with code 0" in j["summary"], j
    # docker's OOMKilled would say false here (PID 1 exited 0); guise's says an OOM kill happened.
    st = eng.inspect("child")["State"]
    assert st["OOMKilled"] is True and st["ExitCode"] == 0, st


# ------------------------------------------------------------------ pids


@need_pids
def test_pids_limit_hit(eng):
    eng.run_d("--name", "forky", "--pids-limit", "10", "bb", "sh", "-c",
              "for i in $(seq 30); do sleep 3 & done; wait")
    wait_exited(eng, "forky")
    j = why(eng, "forky")
    f = j["facts"]
    assert j["cause"] == "pids-limit", j
    assert f["pids_limit"] == 10 and f["pids_limit_hits"] >= 1, f
    assert "pids limit 10; the kernel refused %d fork" % f["pids_limit_hits"] in j["evidence"], j
    assert "--pids-limit" in j["advice"]
    assert eng.inspect("forky")["State"]["OOMKilled"] is False


# ------------------------------------------------------------------ seccomp


def test_seccomp_kill_names_the_syscall(eng, tmp_path):
    profile = tmp_path / "kill-mkdir.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": ['
                       '{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}')
    eng.run_d("--name", "sc", "--security-opt", "seccomp=%s" % profile, "bb", "mkdir", "/tmp/x")
    wait_exited(eng, "sc")
    j = why(eng, "sc")
    f = j["facts"]
    assert j["cause"] == "seccomp" and f["signal"] == signal.SIGSYS and j["exit_code"] == 128 + 31, j
    if f["seccomp_syscall"] >= 0:  # the kernel's audit record could be read
        assert f["seccomp_syscall_name"] in ("mkdir", "mkdirat"), f
        assert "(%s)" % f["seccomp_syscall_name"] in j["evidence"], j
    else:
        assert "did not say which syscall" in j["evidence"], j


# ------------------------------------------------------------------ could not start


def run_fails(eng, name, *cmd):
    r = eng("run", "--name", name, "why:1", *cmd)
    assert r.rc in (126, 127), r
    assert len(r.err.strip().splitlines()) == 1, r
    return r


@pytest.mark.skipif(os.uname().machine == "aarch64", reason="host: arm64 runs the arm64 ELF")
def test_wrong_architecture(eng):
    r = run_fails(eng, "arm", "/app/arm64")
    assert r.rc == 126 and "built for arm64, this host is x86-64" in r.err, r
    j = why(eng, "arm")
    assert j["cause"] == "exec" and j["facts"]["start"]["kind"] == "wrong-arch", j
    assert "built for arm64, this host is x86-64" in j["summary"], j
    assert eng.inspect("arm")["State"]["ExitCode"] == 126


def test_crlf_script(eng):
    r = run_fails(eng, "crlf", "/app/crlf.sh")
    assert "Windows line endings" in r.err, r
    j = why(eng, "crlf")
    assert j["facts"]["start"]["kind"] == "crlf-shebang" and j["facts"]["start"]["detail"] == "/bin/sh\r", j
    assert '"/bin/sh\\r"' in j["evidence"] and "dos2unix" in j["advice"], j


@pytest.mark.skipif(shutil.which("runc") is None, reason="host: no runc binary")
def test_start_failure_under_runc(eng):
    # runc execs the program after `start` returned: its init exits 1, and the image says why.
    r = eng("run", "--name", "viarunc", "--runtime", "runc", "--network", "none", "why:1", "/app/crlf.sh")
    assert r.rc != 0, r
    j = why(eng, "viarunc")
    assert j["cause"] == "exec" and j["facts"]["start"]["kind"] == "crlf-shebang", j


def test_missing_interpreter(eng):
    r = run_fails(eng, "nobash", "/app/bash.sh")
    assert "interpreter /bin/bash does not exist" in r.err, r
    assert why(eng, "nobash")["facts"]["start"]["kind"] == "no-interpreter"


def test_not_found_names_the_path_searched(eng):
    r = run_fails(eng, "nf", "no-such-program")
    assert r.rc == 127 and '"no-such-program"' in r.err, r
    j = why(eng, "nf")
    assert j["facts"]["start"]["kind"] == "not-found", j
    assert "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in j["evidence"], j


def test_not_found_under_init(eng):
    # guise-init is what exec's the program: the exec fails in the container, exit 127.
    r = eng("run", "--init", "--name", "nfi", "why:1", "no-such-program")
    assert r.rc == 127 and "no-such-program" in r.err, r
    j = why(eng, "nfi")
    assert j["cause"] == "exec" and j["facts"]["start"]["kind"] == "not-found" and j["facts"]["init"], j


def test_directory_and_not_executable(eng):
    r = run_fails(eng, "dir", "/app")
    assert r.rc == 126 and "is a directory" in r.err, r
    r = run_fails(eng, "nox", "/bin/noexec")
    assert r.rc == 126 and "not executable" in r.err, r
    assert why(eng, "nox")["facts"]["start"]["kind"] == "not-executable"


def test_noexec_mount(eng, tmp_path):
    # A volume whose host directory lies on a tmpfs mounted noexec: the bind keeps the flag.
    d = tmp_path / "nx"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "noexec,size=8m", "none", str(d)], check=True)
    try:
        shutil.copy2(_testbin(), str(d / "prog"))
        r = eng("run", "--name", "nx", "-v", "%s:/nx" % d, "why:1", "/nx/prog", "exit", "0")
        assert r.rc == 126 and "noexec" in r.err and len(r.err.strip().splitlines()) == 1, r
        j = why(eng, "nx")
        assert j["facts"]["start"]["kind"] == "noexec-mount" and j["facts"]["start"]["detail"] == "/nx", j
        eng.ok("rm", "-f", "nx")
    finally:
        subprocess.run(["umount", "-l", str(d)])


@pytest.mark.skipif(not os.path.exists(HOST_LOADER), reason="host: no %s to copy" % HOST_LOADER)
def test_missing_loader(eng):
    r = run_fails(eng, "nold", "/app/dyn-noloader")
    assert r.rc == 127 and "loader /lib64/ld-linux-x86-64.so.9" in r.err, r
    assert why(eng, "nold")["facts"]["start"]["kind"] == "no-loader"


@pytest.mark.skipif(not os.path.exists(HOST_LOADER), reason="host: no %s to copy" % HOST_LOADER)
def test_missing_library(eng):
    # The exec works; the loader then finds no libc and exits 127.
    r = eng("run", "--name", "nolib", "why:1", "/app/dyn-nolib")
    assert r.rc == 127 and "libc.so.6" in r.err, r
    j = why(eng, "nolib")
    assert j["cause"] == "exec" and j["facts"]["start"]["kind"] == "no-library", j
    assert j["facts"]["start"]["detail"] == "libc.so.6" and "shared library libc.so.6" in j["summary"], j


# ------------------------------------------------------------------ stop, kill, exit


def test_stop_timeout_of_a_sigterm_ignoring_pid1(eng):
    eng.run_d("--name", "stubborn", "bb", "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done")
    assert wait_for(lambda: "ready" in eng.ok("logs", "stubborn").out, 10)
    t = time.monotonic()
    eng.ok("stop", "-t", "1", "stubborn")
    assert time.monotonic() - t >= 1
    j = why(eng, "stubborn")
    f = j["facts"]
    assert j["cause"] == "stop-timeout" and j["exit_code"] == 137 and f["oom_kills"] == 0, j
    assert f["stop_timeout_elapsed"] and [r["by"] for r in f["stop_requests"]] == ["stop", "stop-timeout"], f
    assert "`guise stop` sent SIGTERM" in j["summary"] and "--stop-timeout" in j["advice"], j
    assert eng.inspect("stubborn")["State"]["OOMKilled"] is False


def test_stop_that_pid1_obeys(eng):
    # A PID 1 that handles SIGTERM and exits 0; under --init, a sleep that dies of it.
    eng.run_d("--name", "polite", "bb", "sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 1; done")
    assert wait_for(lambda: "ready" in eng.ok("logs", "polite").out, 10)
    eng.ok("stop", "-t", "10", "polite")
    j = why(eng, "polite")
    assert j["cause"] == "stopped" and j["exit_code"] == 0 and j["facts"]["signal"] == 0, j
    eng.run_d("--name", "polite2", "--init", "bb", "sleep", "100")
    eng.ok("stop", "-t", "10", "polite2")
    j = why(eng, "polite2")
    assert j["cause"] == "stopped" and j["exit_code"] == 143 and j["facts"]["signal"] == signal.SIGTERM, j
    assert "ended on its signal (exit code 143, SIGTERM)" in j["summary"], j


def test_kill_9_from_outside(eng):
    eng.run_d("--name", "victim", "bb", "sleep", "100")
    os.kill(eng.pid("victim"), signal.SIGKILL)
    wait_exited(eng, "victim")
    j = why(eng, "victim")
    assert j["cause"] == "signal" and j["exit_code"] == 137 and j["facts"]["oom_kills"] == 0, j
    assert "from outside guise, not by the OOM killer" in j["summary"] and "came from outside" in j["evidence"], j
    assert eng.inspect("victim")["State"]["OOMKilled"] is False


def test_guise_kill(eng):
    eng.run_d("--name", "killed", "bb", "sleep", "100")
    eng.ok("kill", "killed")
    wait_exited(eng, "killed")
    j = why(eng, "killed")
    assert j["cause"] == "killed" and "`guise kill` sent SIGKILL" in j["summary"], j


def test_clean_exit_3_with_the_log_tail(eng):
    r = eng("run", "--name", "three", "bb", "sh", "-c", "echo first; echo last words; exit 3")
    assert r.rc == 3, r
    j = why(eng, "three")
    assert j["cause"] == "exited" and j["exit_code"] == 3 and j["log_tail"][-1] == "last words", j
    text = why_text(eng, "three")
    assert "exited by itself with code 3" in text and "Last lines of its log:\n  first\n  last words\n" in text, text
    assert eng.inspect("three")["State"]["OOMKilled"] is False


def test_dropped_capability_named_from_the_log(eng):
    # sethostname needs CAP_SYS_ADMIN, which docker's default set leaves out.
    r = eng("run", "--name", "nocap", "--network", "none", "bb", "hostname", "other")
    assert r.rc == 1 and "Operation not permitted" in r.err, r
    j = why(eng, "nocap")
    assert j["cause"] == "exited" and j["capability"] == "SYS_ADMIN", j
    assert "--cap-add SYS_ADMIN" in j["advice"], j


def test_running_and_never_started(eng):
    eng.run_d("--name", "up", "bb", "sleep", "100")
    j = why(eng, "up")
    assert j["cause"] == "running" and "has not exited" in j["summary"], j
    eng.ok("create", "--name", "fresh", "bb", "true")
    j = why(eng, "fresh")
    assert j["cause"] == "created" and "never run" in j["summary"], j
    r = eng("why", "no-such-container")
    assert r.rc != 0 and "no-such-container" in r.err, r
