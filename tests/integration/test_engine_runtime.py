"""`guise run --runtime runc|crun|PATH`: the container driven through an OCI runtime
binary instead of the guise library: output and exit codes pass through, stop and rm
go through the same binary, and a runtime that fails leaves one line and nothing else."""
import os
import shutil

import pytest

from engine_fixture import eng, images, leftovers, template_store  # noqa: F401

RUNC = shutil.which("runc") or ("/usr/sbin/runc" if os.path.exists("/usr/sbin/runc") else None)
CRUN = shutil.which("crun") or ("/usr/bin/crun" if os.path.exists("/usr/bin/crun") else None)

needs_runc = pytest.mark.skipif(RUNC is None, reason="host: no runc binary")


@needs_runc
def test_runc_output_and_exit_codes_pass_through(eng):
    r = eng("run", "--rm", "--runtime", "runc", "bb", "sh", "-c", "echo hi")
    assert (r.rc, r.out) == (0, "hi\n"), r
    r = eng("run", "--rm", "--runtime", "runc", "bb", "sh", "-c", "echo err >&2; exit 3")
    assert (r.rc, r.err) == (3, "err\n"), r


@needs_runc
def test_runc_detached_stop_rm(eng):
    cid = eng.run_d("--name", "viarunc", "--runtime", "runc", "bb", "sleep", "100")
    assert eng.status("viarunc") == "running"
    pid = eng.pid("viarunc")
    assert pid > 0 and os.path.exists("/proc/%d" % pid)
    top = eng.ok("top", "viarunc").out
    assert "sleep" in top, top
    eng.ok("pause", "viarunc")
    assert eng.wait_status("viarunc", "paused")
    eng.ok("unpause", "viarunc")
    assert eng.wait_status("viarunc", "running")
    r = eng("exec", "viarunc", "true")
    assert r.rc == 125 and len(r.err.strip().splitlines()) == 1, r
    eng.ok("stop", "-t", "1", "viarunc")
    assert eng.status("viarunc") == "exited"
    assert eng.inspect("viarunc")["State"]["ExitCode"] == 137
    assert not os.path.exists("/proc/%d/cmdline" % pid) or not open("/proc/%d/cmdline" % pid).read()
    eng.ok("rm", "viarunc")
    assert leftovers(eng, [cid]) == []


@needs_runc
def test_runc_rm_force_of_a_running_container(eng):
    cid = eng.run_d("--runtime", "runc", "bb", "sleep", "100")
    eng.ok("rm", "-f", cid)
    assert leftovers(eng, [cid]) == []


def test_failing_runtime_is_one_line_and_leaves_nothing(eng):
    r = eng("run", "--runtime", "/bin/false", "bb", "true")
    assert r.rc == 125, r
    assert len(r.err.strip().splitlines()) == 1 and "/bin/false" in r.err, r
    assert eng.ids() == []
    assert leftovers(eng, eng.seen_ids) == []


def test_unknown_runtime_names_the_flag(eng):
    r = eng("run", "--runtime", "nosuchruntime", "bb", "true")
    assert r.rc == 125, r
    assert len(r.err.strip().splitlines()) == 1 and "--runtime" in r.err, r
    assert eng.ids() == []


@pytest.mark.skipif(CRUN is None, reason="host: no crun binary")
def test_crun_output(eng):
    r = eng("run", "--rm", "--runtime", "crun", "bb", "sh", "-c", "echo hi; exit 3")
    # crun 1.8 knows OCI specs up to 1.1 ("unknown version specified"), and not every
    # cgroup layout: a refusal of this host, not of guise.
    if r.rc == 125 and any(w in r.err for w in ("unknown version", "cgroup")):
        pytest.skip("host: crun refuses this host: " + r.err.strip())
    assert (r.rc, r.out) == (3, "hi\n"), r


@needs_runc
def test_runc_tty_master_comes_through_the_console_socket(eng):
    cid = eng.run_d("--runtime", "runc", "-t", "bb", "sh", "-c", "tty; echo tty-ok")
    assert eng.wait_status(cid, "exited")
    out = eng.ok("logs", cid).out
    assert "/dev/pts/" in out and "tty-ok" in out, out
    eng.ok("rm", cid)
    assert leftovers(eng, [cid]) == []


@needs_runc
def test_runc_restart_policy_runs_it_again(eng):
    cid = eng.run_d("--runtime", "runc", "--restart", "on-failure:2", "bb", "sh", "-c", "exit 4")
    assert eng.wait_status(cid, "exited", timeout=15)
    assert eng.fmt(cid, "{{.RestartCount}} {{.State.ExitCode}}") == "2 4"
