"""checkpoint and restore through CRIU, as far as this host lets them run.

Where `criu check` fails (on this machine's kernel criu cannot parse the vDSO), both
commands must refuse with criu's own reason and leave the container as it was. Where
criu works, tests/cgroups-vm/criu-tests.sh checkpoints and restores a container in the
cgroup-v2 VM (scripts/vm-test.sh).
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import pid_alive, runc_xfail, wait_for

# Written whole (by rename): a reader never sees the file empty.
COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /out/.count; mv /out/.count /out/count; sleep 0.05; done"


def criu_check():
    """(exit status, output) of `criu check`; (None, "") when criu is not installed."""
    criu = shutil.which("criu")
    if not criu:
        return None, ""
    r = subprocess.run([criu, "check"], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def criu_reasons(output):
    """criu's own messages: the text of its "Error (file:line): ..." lines that say why."""
    found = [m.group(1).strip() for m in re.finditer(r"Error \([^)]*\): (.*)", output)]
    return [f for f in found if not f.startswith("exited, status")]


def need_failing_criu():
    rc, out = criu_check()
    if rc is None:
        pytest.skip("criu is not installed (apt-get install criu)")
    if rc == 0:
        pytest.skip("criu check passes on this kernel: there is no refusal to see here "
                    "(checkpoint and restore are checked in the VM: scripts/vm-test.sh)")
    reasons = criu_reasons(out)
    assert reasons, "criu check failed without an Error line:\n" + out
    return reasons


def read_count(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def run_counter(ct, host_tmp):
    ct.add_mount("/out", "bind", host_tmp, ["rbind", "rw"])
    ct.set_args("/bin/sh", "-c", COUNTER)
    r = ct.run("-d")
    assert r.rc == 0, r
    count = os.path.join(host_tmp, "count")
    assert wait_for(lambda: read_count(count) > 0, 10), "the counter never started"
    return count


@runc_xfail("runc says only 'criu failed: type DUMP errno 0' and names its log file, not criu's reason")
def test_checkpoint_refused_with_criu_reason_and_container_runs_on(ct, host_tmp):
    reasons = need_failing_criu()
    count = run_counter(ct, host_tmp)
    pid = ct.state()["pid"]
    r = ct.rt("checkpoint", "--image-path", os.path.join(ct.dir, "images"), ct.id)
    assert r.rc != 0, r
    st = ct.state()
    assert st["status"] == "running" and st["pid"] == pid and pid_alive(pid)
    before = read_count(count)
    assert wait_for(lambda: read_count(count) > before + 3, 10), "the container stopped counting"
    assert "criu" in r.err
    assert any(reason in r.err for reason in reasons), (reasons, r.err)


@runc_xfail("runc says only 'criu failed: type RESTORE errno 0' and names its log file, not criu's reason")
def test_restore_refused_with_criu_reason_and_leaves_nothing(ct):
    reasons = need_failing_criu()
    images = ct.tmpdir("images")
    with open(os.path.join(images, "descriptors.json"), "w") as f:  # runc reads it before criu runs
        f.write('["/dev/null", "/dev/null", "/dev/null"]')
    cid = ct.new_id()
    ct.write_config(cid)
    r = ct.rt("restore", "--image-path", images, "--bundle", ct.bundle, "--detach", cid, track=cid)
    assert r.rc != 0, r
    assert ct.state_result(cid).rc != 0  # no state; the ct fixture checks for cgroups and processes
    assert any(reason in r.err for reason in reasons), (reasons, r.err)


def test_checkpoint_of_created_container_is_refused(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    r = ct.rt("checkpoint", "--image-path", os.path.join(ct.dir, "images"), ct.id)
    assert r.rc != 0, r
    assert "created" in r.err, r
    assert ct.status() == "created"


@runc_xfail("runc carries out --pre-dump and --lazy-pages")
@pytest.mark.parametrize("flag", ["--pre-dump", "--lazy-pages"])
def test_checkpoint_flags_not_carried_out_are_refused_by_name(ct, host_tmp, flag):
    run_counter(ct, host_tmp)
    images = os.path.join(ct.dir, "images")
    r = ct.rt("checkpoint", flag, "--image-path", images, ct.id)
    assert r.rc != 0, r
    assert flag in r.err, r
    assert ct.status() == "running"
    assert not os.path.exists(images)


def test_init_leads_a_session_of_its_own(ct):
    """As runc's init: criu refuses to dump a tree whose session leader is outside it."""
    ct.probe_args("sleep", "30")
    assert ct.run("-d").rc == 0
    pid = ct.state()["pid"]
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    assert int(fields[3]) == pid  # session id
    assert os.getsid(0) != pid
