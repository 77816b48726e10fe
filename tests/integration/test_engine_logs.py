"""guise logs: the whole log, -f, --tail, -t, --since, and following across a rotation."""
import re
import subprocess
import time

from engine_fixture import eng, images, template_store, wait_for  # noqa: F401

# RFC3339Nano, as docker prints it: trailing zeros of the fraction dropped (Go's format).
STAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z (.*)$")


def test_logs_keeps_streams_apart(eng):
    cid = eng.run_d("bb", "sh", "-c", "echo o1; echo e1 >&2; echo o2")
    eng.ok("wait", cid)
    r = eng.ok("logs", cid)
    assert r.out == "o1\no2\n" and r.err == "e1\n"


def test_logs_follow_ends_with_the_container(eng):
    cid = eng.run_d("bb", "sh", "-c", "for i in 1 2 3; do echo n$i; sleep 0.3; done")
    t0 = time.monotonic()
    r = eng.ok("logs", "-f", cid, timeout=20)
    assert r.out == "n1\nn2\nn3\n"
    assert time.monotonic() - t0 > 0.4  # it waited for the output that came later
    assert eng.status(cid) == "exited"


def test_logs_tail(eng):
    cid = eng.run_d("bb", "sh", "-c", "for i in 1 2 3 4 5; do echo l$i; done")
    eng.ok("wait", cid)
    assert eng.ok("logs", "--tail", "2", cid).out == "l4\nl5\n"
    assert eng.ok("logs", "--tail", "0", cid).out == ""
    assert eng.ok("logs", "--tail", "all", cid).out == "l1\nl2\nl3\nl4\nl5\n"


def test_logs_timestamps(eng):
    cid = eng.run_d("bb", "sh", "-c", "echo a; echo b")
    eng.ok("wait", cid)
    lines = eng.ok("logs", "-t", cid).out.splitlines()
    assert [STAMP_RE.match(l).group(2) for l in lines] == ["a", "b"], lines


def test_logs_since(eng):
    cid = eng.run_d("bb", "sh", "-c", "echo early; sleep 1.5; echo late")
    eng.ok("wait", cid)
    stamps = eng.ok("logs", "-t", cid).out.splitlines()
    late_at = stamps[1].split()[0]
    assert eng.ok("logs", "--since", late_at, cid).out == "late\n"
    assert eng.ok("logs", "--since", "1h", cid).out == "early\nlate\n"


def test_logs_follow_across_rotation(eng):
    cid = eng.run_d("--log-opt", "max-size=1k", "--log-opt", "max-file=5", "bb", "sh", "-c",
                    "sleep 0.5; i=0; while [ $i -lt 60 ]; do echo line-$i-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy; "
                    "i=$((i+1)); sleep 0.02; done")
    p = subprocess.run(eng.argv("logs", "-f", cid), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    lines = p.stdout.decode().splitlines()
    assert p.returncode == 0
    assert lines == ["line-%d-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy" % i for i in range(60)], lines
