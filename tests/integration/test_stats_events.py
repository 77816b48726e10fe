"""`guise stats` and `guise events`: docker's numbers and shapes, CPU throttling under a
quota (and none without one), memory and pids against their limits, pressure where the
kernel keeps it per cgroup, and the event log: create/start/die with the exit code,
kill/stop, filters, --since/--until, following, the `throttled` event, bad flags."""
import json
import os
import re
import subprocess
import time

import pytest

from engine_fixture import cgroup_of, eng, images, memory_controller, template_store, wait_for  # noqa: F401

BUSY = ["sh", "-c", "while :; do :; done"]
# A cgroup that never reaches its quota is never throttled: on a 2-core host busy with other
# work a container got a third of a CPU, below a quota of 0.5. The quota here is 0.1 CPU,
# which four loops reach whenever they run at all (the VM check, on an idle machine, uses 0.5).
CAP = ["--cpus", "0.1"]
BUSY4 = ["sh", "-c", "for i in 1 2 3 4; do (while :; do :; done) & done; wait"]


def cpu_quota_supported():
    """The cpu controller's bandwidth control, on v1 or v2."""
    if os.path.exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"):
        return True
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            return "cpu" in f.read().split()
    except OSError:
        return False


def needs_cpu_quota():
    if not cpu_quota_supported():
        pytest.skip("host: no cpu controller with bandwidth control (cfs quota)")


def stats_json(eng, *names):
    r = eng.ok("stats", "--no-stream", "--format", "json", *names, timeout=30)
    rows = [json.loads(line) for line in r.out.splitlines() if line.strip()]
    assert len(rows) == len(names) if names else True, r
    return rows


def now_s():
    return "%.9f" % time.time()


def events(eng, *args, timeout=30):
    return eng.ok("events", *args, timeout=timeout).out.splitlines()


def events_json(eng, *args):
    return [json.loads(line) for line in events(eng, "--format", "json", *args)]


# --------------------------------------------------------------- stats


def test_throttled_under_a_cpu_quota(eng):
    needs_cpu_quota()
    eng.run_d("--name", "capped", "--network", "none", *CAP, "bb", *BUSY4)
    time.sleep(0.5)
    row = stats_json(eng, "capped")[0]
    assert row["Name"] == "capped" and row["Container"] == "capped"
    assert re.fullmatch(r"[0-9a-f]{12}", row["ID"])
    assert row["Periods"] >= 5, row            # ~10 periods of 100 ms in the ~1 s interval
    assert row["ThrottledPeriods"] > 0, row
    assert row["ThrottledPeriodsTotal"] >= row["ThrottledPeriods"]
    assert float(row["CPUThrottled"].rstrip("%")) > 50, row  # busy loops run out of their quota every period
    assert re.fullmatch(r"[0-9.]+(us|ms|s)", row["ThrottledTime"]) and row["ThrottledTime"] != "0s", row
    assert 2 <= float(row["CPUPerc"].rstrip("%")) <= 16, row  # a tenth of a CPU


def test_no_throttling_without_a_limit(eng):
    needs_cpu_quota()
    eng.run_d("--name", "free", "--network", "none", "bb", *BUSY)
    time.sleep(0.3)
    row = stats_json(eng, "free")[0]
    assert row["Periods"] == 0 and row["ThrottledPeriods"] == 0 and row["ThrottledPeriodsTotal"] == 0, row
    assert row["CPUThrottled"] == "--" and row["ThrottledTime"] == "0s", row
    assert float(row["CPUPerc"].rstrip("%")) > 20, row  # a busy loop on a host shared with others


def test_memory_usage_against_the_limit(eng):
    if not memory_controller():
        pytest.skip("host: no memory cgroup")
    eng.run_d("--name", "mem", "--network", "none", "--memory", "64m", "bb", "sh", "-c",
              "x=$(head -c 8000000 /dev/zero | tr '\\0' a); sleep 100; echo ${#x}")  # not last: no exec
    time.sleep(1)
    row = stats_json(eng, "mem")[0]
    usage, limit = row["MemUsage"].split(" / ")
    assert limit == "64MiB", row
    m = re.fullmatch(r"([0-9.]+)(B|KiB|MiB)", usage)
    assert m, row
    mib = float(m.group(1)) / {"B": 1 << 20, "KiB": 1024, "MiB": 1}[m.group(2)]
    assert 4 < mib < 64, row  # the shell holds the 8 MB string
    assert abs(float(row["MemPerc"].rstrip("%")) - mib / 64 * 100) < 2, row
    assert row["OOMKills"] == "0"


def test_pids_current_and_max(eng):
    eng.run_d("--name", "forks", "--network", "none", "--pids-limit", "20", "bb", "sh", "-c",
              "sleep 100 & sleep 100 & wait")
    eng.run_d("--name", "nolimit", "--network", "none", "bb", "sleep", "100")
    wait_for(lambda: stats_json(eng, "forks")[0]["PIDs"] == "3", 5)
    rows = {r["Name"]: r for r in stats_json(eng, "forks", "nolimit")}
    assert (rows["forks"]["PIDs"], rows["forks"]["PIDsLimit"]) == ("3", "20")
    assert (rows["nolimit"]["PIDs"], rows["nolimit"]["PIDsLimit"]) == ("1", "max")


def test_docker_fields_and_table(eng):
    eng.run_d("--name", "quiet", "--network", "none", "bb", "sleep", "100")
    row = stats_json(eng, "quiet")[0]
    for k in ("BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"):
        assert isinstance(row[k], str), (k, row)
    assert row["NetIO"] == "0B / 0B"  # --network none: only loopback, which docker does not count
    assert re.fullmatch(r"[0-9.]+(B|kB|MB|GB) / [0-9.]+(B|kB|MB|GB)", row["BlockIO"]), row
    out = eng.ok("stats", "--no-stream").out.splitlines()
    assert re.match(r"CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE / LIMIT\s+MEM %\s+NET I/O\s+BLOCK I/O\s+PIDS / MAX\s+"
                    r"THROTTLED\s+THR TIME\s+PSI CPU/MEM/IO\s+MEM.HIGH\s+OOM$", out[0]), out
    assert len(out) == 2 and "quiet" in out[1], out
    # a template, and --no-trunc
    cid = eng.fmt("quiet", "{{.Id}}")
    r = eng.ok("stats", "--no-stream", "--no-trunc", "--format", "{{.ID}} {{.Name}} {{.PIDs}}", "quiet")
    assert r.out == "%s quiet 1\n" % cid
    # stopped containers only with -a
    eng.ok("stop", "-t", "0", "quiet")
    assert eng.ok("stats", "--no-stream", "--format", "{{.Name}}").out == ""
    assert eng.ok("stats", "--no-stream", "-a", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}").out == \
        "quiet 0.00% 0\n"


def test_net_io_counts_the_containers_interfaces(eng):
    # traffic to the store's own bridge (the container's gateway), nowhere else
    r = eng("run", "-d", "--name", "talk", "bb", "sh", "-c",
            "gw=$(ip route | awk '/default/ {print $3}'); ping -c 3 -W 1 -s 1000 $gw; sleep 100")
    if r.rc != 0:
        pytest.skip("host: no container networking here: %s" % r.err.strip()[:200])
    pid = eng.pid("talk")
    assert wait_for(lambda: stats_json(eng, "talk")[0]["NetIO"] != "0B / 0B", 10)
    rx, tx = stats_json(eng, "talk")[0]["NetIO"].split(" / ")
    assert re.fullmatch(r"[0-9.]+kB", rx) and re.fullmatch(r"[0-9.]+kB", tx), (rx, tx)  # 3 pings of 1 kB
    with open("/proc/%d/net/dev" % pid) as f:
        eth = [l for l in f.read().splitlines() if ":" in l and not l.strip().startswith("lo:")]
    assert eth, "the container has an interface besides lo"


def container_pressure_file(pid):
    """The container's own cpu.pressure (v2, or the cgroup2 directory of a hybrid host)."""
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f.read().splitlines():
            if line.startswith("0::"):
                for root in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
                    p = root + line[3:] + "/cpu.pressure"
                    if os.path.exists(p):
                        try:
                            open(p).read()
                            return p
                        except OSError:
                            return None
    return None


def test_pressure_is_the_containers_or_absent(eng):
    eng.run_d("--name", "psi", "--network", "none", "bb", *BUSY)
    pid = eng.pid("psi")
    row = stats_json(eng, "psi")[0]
    if container_pressure_file(pid) is None:
        # a v1-only host (or no PSI): said, never the host's /proc/pressure numbers
        assert row["PSI"] == "--" and row["Pressure"] is None and row["CPUPressure"] == "--", row
    else:
        assert row["Pressure"]["cpu"] is not None, row
        assert re.fullmatch(r"[0-9.]+% / ([0-9.]+%|--)", row["CPUPressure"]), row
        assert re.fullmatch(r"[0-9.]+ / ([0-9.]+|--) / ([0-9.]+|--)", row["PSI"]), row


def test_stats_bad_input(eng):
    for args, words in ((["--format", "{{.Nope"], "--format"), (["--bogus"], "--bogus"), (["nosuch"], "nosuch")):
        r = eng("stats", "--no-stream", *args)
        assert r.rc == (1 if args == ["nosuch"] else 125), r
        assert len(r.err.strip().splitlines()) <= 2 and words in r.err, r


def test_stats_streams_frames(eng):
    eng.run_d("--name", "s1", "--network", "none", "bb", "sleep", "100")
    p = subprocess.Popen(eng.argv("stats", "--format", "{{.Name}} {{.PIDs}}"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3.5)
    finally:
        p.terminate()
        out, _ = p.communicate(timeout=10)
    frames = out.splitlines()
    assert 2 <= frames.count("s1 1") <= 4, out  # one frame a second


# --------------------------------------------------------------- events


def test_lifecycle_events_with_exit_code(eng):
    t0 = now_s()
    cid = eng.run_d("--name", "dies", "--network", "none", "bb", "sh", "-c", "exit 3")
    assert eng.ok("wait", "dies").out == "3\n"
    eng.ok("rm", "dies")
    lines = events(eng, "--since", t0, "--until", now_s())
    acts = [l.split()[2] for l in lines]
    assert acts == ["create", "start", "die", "destroy"], lines
    die = lines[2]
    # `cause` is there where the state records why it ended
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container die %s "
                        r"\((cause=[^,]*, )?exitCode=3, image=bb, name=dies\)" % cid, die), die
    j = events_json(eng, "--since", t0, "--until", now_s(), "--filter", "event=die")
    assert len(j) == 1
    e = j[0]
    assert (e["status"], e["id"], e["from"], e["Type"], e["Action"], e["scope"]) == \
        ("die", cid, "bb", "container", "die", "local")
    e["Actor"]["Attributes"].pop("cause", None)
    assert e["Actor"] == {"ID": cid, "Attributes": {"exitCode": "3", "image": "bb", "name": "dies"}}
    assert e["time"] == e["timeNano"] // 10**9 and abs(e["time"] - float(t0)) < 30


def test_kill_stop_pause_rename_events(eng):
    t0 = now_s()
    eng.run_d("--name", "ka", "--network", "none", "bb", "sleep", "100")
    eng.ok("pause", "ka")
    eng.ok("unpause", "ka")
    eng.ok("rename", "ka", "kb")
    eng.ok("stop", "-t", "1", "kb")  # sleep as PID 1 ignores SIGTERM: killed after 1 s
    lines = events(eng, "--since", t0, "--until", now_s(), "--format", "{{.Action}} {{.Actor.Attributes.name}}")
    assert lines[:4] == ["create ka", "start ka", "pause ka", "unpause ka"], lines
    assert lines[4] == "rename kb"
    assert lines[5:] == ["kill kb", "kill kb", "die kb", "stop kb"], lines
    sig = events(eng, "--since", t0, "--until", now_s(), "--filter", "event=kill",
                 "--format", "{{.Actor.Attributes.signal}}")
    assert sig == ["15", "9"]
    old = events(eng, "--since", t0, "--until", now_s(), "--filter", "event=rename",
                 "--format", "{{.Actor.Attributes.oldName}}")
    assert old == ["ka"]


def test_filters_since_and_until(eng):
    t0 = now_s()
    a = eng.run_d("--name", "aa", "--network", "none", "bb", "true")
    eng.ok("wait", "aa")
    time.sleep(0.05)
    t1 = now_s()
    time.sleep(0.05)
    eng.run_d("--name", "bb2", "--network", "none", "bb", "sh", "-c", "exit 1")
    eng.ok("wait", "bb2")
    t2 = now_s()
    fmt = ["--format", "{{.Action}} {{.Actor.Attributes.name}}"]
    assert events(eng, "--since", t0, "--until", t2, "--filter", "event=die", *fmt) == ["die aa", "die bb2"]
    assert events(eng, "--since", t0, "--until", t1, *fmt) == ["create aa", "start aa", "die aa"]
    assert events(eng, "--since", t1, "--until", t2, "--filter", "event=die", *fmt) == ["die bb2"]
    assert events(eng, "--since", t0, "--until", t2, "--filter", "container=bb2", "--filter", "event=start", *fmt) == \
        ["start bb2"]
    assert events(eng, "--since", t0, "--until", t2, "--filter", "container=" + a[:10],
                  "--filter", "event=create", "--filter", "event=die", *fmt) == ["create aa", "die aa"]
    assert events(eng, "--since", t0, "--until", t2, "--filter", "type=image", *fmt) == []
    # a duration back from now, and RFC 3339
    assert "die bb2" in events(eng, "--since", "2m", "--until", t2, *fmt)
    rfc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(t0) - 1))
    assert len(events(eng, "--since", rfc, "--until", t2, *fmt)) == 6


def test_events_follows_until_interrupted_or_until(eng):
    p = subprocess.Popen(eng.argv("events", "--format", "{{.Action}} {{.Actor.Attributes.name}}"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        eng.run_d("--name", "fo", "--network", "none", "bb", "true")
        eng.ok("wait", "fo")
        time.sleep(1)
    finally:
        p.terminate()
        out, err = p.communicate(timeout=10)
    assert out.splitlines()[:3] == ["create fo", "start fo", "die fo"], (out, err)
    # --until in the future: follows, then ends by itself
    start = time.time()
    until = "%.3f" % (time.time() + 2)
    r = eng.ok("events", "--until", until, timeout=15)
    assert 1.5 <= time.time() - start < 6 and r.out == "", r


def test_throttled_event_only_under_a_quota(eng):
    needs_cpu_quota()
    eng.run_d("--name", "capped", "--network", "none", *CAP, "bb", *BUSY4)
    eng.run_d("--name", "free", "--network", "none", "bb", *BUSY)
    lines = events(eng, "--until", "%.3f" % (time.time() + 4), "--filter", "event=throttled", "--format", "json")
    got = [json.loads(l) for l in lines]
    names = [e["Actor"]["Attributes"]["name"] for e in got]
    assert names == ["capped"], lines  # once: the event is sent when it starts, not every second
    attrs = got[0]["Actor"]["Attributes"]
    assert float(attrs["throttledPercent"]) > 10 and int(attrs["throttledPeriods"]) > 0, attrs
    # a threshold it does not reach: none
    lines = events(eng, "--until", "%.3f" % (time.time() + 3), "--filter", "event=throttled",
                   "--throttle-threshold", "100")
    assert lines == []


def test_oom_event_then_die_137(eng):
    if not memory_controller():
        pytest.skip("host: no memory cgroup")
    t0 = now_s()
    eng.run_d("--name", "hog", "--network", "none", "--memory", "16m", "--memory-swap", "16m", "bb", "sh", "-c",
              "x=$(head -c 60000000 /dev/zero | tr '\\0' a); echo survived ${#x}")
    assert eng.ok("wait", "hog").out == "137\n"
    lines = events(eng, "--since", t0, "--until", now_s(), "--filter", "container=hog",
                   "--format", "{{.Action}} {{.Actor.Attributes.exitCode}}")
    # "<no value>": Go's text for a missing key. One oom event per notification the monitor takes.
    assert lines[:2] == ["create <no value>", "start <no value>"] and lines[-1] == "die 137", lines
    assert lines[2:-1] and set(lines[2:-1]) == {"oom <no value>"}, lines


def test_restart_policy_events(eng):
    t0 = now_s()
    eng.run_d("--name", "again", "--network", "none", "--restart", "on-failure:2", "bb", "sh", "-c", "exit 2")
    fmt = ["--format", "{{.Action}} {{.Actor.Attributes.exitCode}}"]
    want = ["create <no value>", "start <no value>", "die 2"] + ["restart <no value>", "start <no value>", "die 2"] * 2
    assert wait_for(lambda: events(eng, "--since", t0, "--until", now_s(), *fmt) == want, 15), \
        events(eng, "--since", t0, "--until", now_s(), *fmt)


def test_rm_auto_remove_logs_destroy(eng):
    t0 = now_s()
    eng.ok("run", "--rm", "--name", "gone", "--network", "none", "bb", "true")
    assert wait_for(lambda: "destroy gone" in events(eng, "--since", t0, "--until", now_s(), "--format",
                                                     "{{.Action}} {{.Actor.Attributes.name}}"), 5)


def test_events_bad_input(eng):
    for args, words in ((["--since", "yesterday"], "--since \"yesterday\""),
                        (["--until", "2026-13-45"], "--until"),
                        (["--filter", "colour=red"], "colour"),
                        (["--filter", "event"], "--filter"),
                        (["--format", "{{.Action"], "--format"),
                        (["--throttle-threshold", "150"], "--throttle-threshold"),
                        (["--bogus"], "--bogus")):
        r = eng("events", "--until", "1", *args) if args[0] != "--until" else eng("events", *args)
        assert r.rc == 125, r
        err = [l for l in r.err.splitlines() if l.strip() and not l.startswith("See '")]
        assert len(err) == 1 and words in err[0], r
    env = dict(os.environ, GUISE_THROTTLE_THRESHOLD="lots")
    p = subprocess.run(eng.argv("events", "--until", "1"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    assert p.returncode == 125 and "GUISE_THROTTLE_THRESHOLD \"lots\"" in p.stderr, p
    # the flag wins over the environment
    p = subprocess.run(eng.argv("events", "--until", "1", "--throttle-threshold", "5"), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 0, p
