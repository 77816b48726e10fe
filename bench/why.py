"""`guise why` against podman's and docker's `inspect` on the same deaths: each case of
tests/integration/test_why.py run through every engine on one image (the busybox rootfs
with guise-testbin, a crafted arm64 ELF, a CRLF script, host programs missing their loader
or libc), recording guise's cause and each engine's State.OOMKilled, ExitCode and Error.
Driven by bench/why.sh (as root, in a private mount namespace without the cgroup2 mount at
/sys/fs/cgroup/unified, which crun refuses); writes bench/results/WHY.md and why-raw.json.

    /usr/bin/python3 bench/why.py [--only guise,podman,docker] [--cases oom-pid1,...]
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import image_builder as ib  # noqa: E402
import test_why  # noqa: E402  (its image; first, so that its conftest is tests/integration's)

sys.path.insert(0, BENCH)
import engine_run as er  # noqa: E402

SECCOMP = '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], ' \
          '"action": "SCMP_ACT_KILL_PROCESS"}]}'
HOG = ["--memory", "32m", "--memory-swap", "32m"]

# name -> (what the table says, run flags, command, what to do once it runs)
CASES = {
    "oom-pid1": ("memory hog as PID 1, --memory 32m", HOG, ["/bin/guise-testbin", "memhog", "256"], None),
    "oom-child": ("memory hog as a child, PID 1 exits 0", HOG,
                  ["sh", "-c", "/bin/guise-testbin memhog 256; exit 0"], None),
    "pids": ("fork bomb under --pids-limit 10", ["--pids-limit", "10"],
             ["sh", "-c", "for i in $(seq 30); do sleep 3 & done; wait"], None),
    "seccomp": ("mkdir under a seccomp kill rule", ["SECCOMP"], ["mkdir", "/tmp/x"], None),
    "arm64": ("an arm64 ELF", [], ["/app/arm64"], None),
    "crlf": ("a CRLF script", [], ["/app/crlf.sh"], None),
    "no-library": ("libc missing", [], ["/app/dyn-nolib"], None),
    "no-loader": ("the loader missing", [], ["/app/dyn-noloader"], None),
    "stop-timeout": ("SIGTERM-ignoring PID 1, stop -t 1", [],
                     ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"], "stop"),
    "kill-9": ("kill -9 of PID 1 from the host", [], ["sleep", "100"], "kill"),
    "exit-3": ("exit 3", [], ["sh", "-c", "echo bye; exit 3"], None),
}


def log(msg):
    print("why: " + msg, file=sys.stderr, flush=True)


def image_tar(path):
    with open(path, "wb") as f:
        f.write(ib.layer_tar(test_why._why_entries()))


class Engine:
    def __init__(self, inner, env=None, opts=()):
        self.e, self.env, self.opts = inner, env, list(opts)
        self.name = inner.name

    def cli(self, *args):
        return self.e.cli(*args)

    def sh(self, *args, timeout=120, cwd=None):
        return er.sh(self.cli(*args), env=self.env, timeout=timeout, cwd=cwd)

    def inspect(self, name, field):
        r = self.sh("inspect", "--format", "{{json .State.%s}}" % field, name)
        return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None


def run_case(eng, case, profile, image):
    what, flags, cmd, action = CASES[case]
    name = "why-" + case
    flags = [("--security-opt" if f == "SECCOMP" else f) for f in flags]
    if "--security-opt" in flags:
        flags.insert(flags.index("--security-opt") + 1, "seccomp=" + profile)
    # conmon 2.1.6 (podman 4.3) writes its OOM marker "oom" into podman's working directory,
    # where podman, looking in the bundle, never finds it: one directory per case tells.
    cwd = os.path.join(os.getcwd(), "cwd-" + eng.name + "-" + case)
    os.makedirs(cwd, exist_ok=True)
    r = eng.sh("run", "-d", "--name", name, *eng.opts, *flags, image, *cmd, cwd=cwd)
    out = {"run_rc": r.returncode, "run_err": (r.stderr.strip().splitlines() or [""])[-1][:300]}
    if r.returncode == 0 and action:
        time.sleep(1.5)
        if action == "stop":
            eng.sh("stop", "-t", "1", name)
        elif action == "kill":
            pid = eng.inspect(name, "Pid")
            if pid:
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and eng.inspect(name, "Running"):
        time.sleep(0.2)
    out["OOMKilled"] = eng.inspect(name, "OOMKilled")
    out["ExitCode"] = eng.inspect(name, "ExitCode")
    out["Error"] = eng.inspect(name, "Error") or ""
    out["conmon_oom_marker"] = os.path.exists(os.path.join(cwd, "oom"))
    lg = eng.sh("logs", name)
    lines = (lg.stdout + lg.stderr).strip().splitlines()
    out["log"] = lines[-1][:200] if lines else ""
    if eng.name == "guise":
        w = eng.sh("why", "--format", "json", name)
        if w.returncode == 0:
            j = json.loads(w.stdout)
            out["cause"], out["summary"] = j["cause"], j["summary"]
    eng.sh("rm", "-f", name)
    return out


START_CASES = ("arm64", "crlf", "no-library", "no-loader")


def cell(o, case):
    if "skipped" in o:
        return o["skipped"]
    s = "OOMKilled %s, exit %s" % (str(o.get("OOMKilled")).lower(), o.get("ExitCode"))
    if o.get("conmon_oom_marker"):
        s += " (conmon's oom marker written)"
    if case in START_CASES:
        said = o.get("Error") or o.get("run_err") if o.get("run_rc") else o.get("Error") or o.get("log")
        if said:
            s += "; %s: %s" % ("run failed" if o.get("run_rc") else "says", said.replace("|", "/")[:140])
    return s


def report(raw, path):
    engs = [e for e in raw["engines"] if e != "guise"]
    L = ["# `guise why` against podman's and docker's inspect", "",
         "Each case is a container made to die that way (bench/why.sh; the cases of "
         "tests/integration/test_why.py), on one image: the busybox rootfs with guise-testbin, a crafted arm64 ELF "
         "header, a CRLF script, and the host's /usr/bin/true without its libc or with a loader path the image lacks. "
         "guise's column is `guise why`'s cause and first sentence; the others are what their `inspect` says.", "",
         "Host: %s; %s." % (raw["host"], "; ".join("%s: %s" % (k, v) for k, v in raw["versions"].items())), "",
         "| case | guise why | guise inspect | " + " | ".join(engs) + " |",
         "|---|---|---|" + "---|" * len(engs)]
    for c in raw["cases"]:
        g = raw["results"][c].get("guise", {})
        gw = ("**%s**: %s" % (g.get("cause"), g.get("summary", ""))).replace("|", "/") if "cause" in g else cell(g, "")
        gi = "OOMKilled %s, exit %s" % (str(g.get("OOMKilled")).lower(), g.get("ExitCode")) if "cause" in g else ""
        row = [CASES[c][0], gw, gi] + [cell(raw["results"][c].get(e, {"skipped": "not run"}), c) for e in engs]
        L.append("| " + " | ".join(row) + " |")
    L += ["", "What it shows:", "",
          "- podman (4.3, crun) says OOMKilled false for both OOM kills, even PID 1's with exit 137: its conmon "
          "(2.1.6) saw the OOM and wrote its marker file, into podman's working directory, where podman never looks "
          "(tests/engines/engines.py, PodmanEnv.cwd). docker says true "
          "for both, also when only a child was killed and PID 1 exited 0. guise's OOMKilled is true for both (an "
          "OOM kill happened in the last run), and `why` tells them apart: `oom` (PID 1) against `oom-child`.",
          "- Exit 137 without any OOM (the stop timeout, a kill from the host) is the same number in every engine; "
          "only `why` names the stop timeout (`stop-timeout`) apart from an outside SIGKILL (`signal`).",
          "- The pids limit and the seccomp kill leave a bare 2 and 159 in podman and docker; `why` names the limit "
          "and how many forks it refused, and the syscall (from the kernel's audit record).",
          "- A program that cannot start: podman and docker record the runtime's message (or exit 1 with it in the "
          "log); guise names the cause found in the image: the ELF's machine, the CRLF interpreter, the missing "
          "loader or library."]
    if raw["notes"]:
        L += ["", "Notes:", ""] + ["- " + n for n in raw["notes"]]
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")
    return L


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="guise,podman,docker")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--work", default=os.path.join(BENCH, "work", "why"))
    ap.add_argument("--results", default=os.path.join(BENCH, "results"))
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))
    er.become_subreaper()
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(prefix="why-", dir=args.work)
    os.chdir(work)  # conmon leaves an "oom" marker in its working directory
    bindir = er.private_binaries(args.build, work)
    cases = args.cases.split(",")
    raw = {"cases": cases, "engines": [], "results": {c: {} for c in cases}, "notes": [], "versions": {},
           "host": " ".join(os.uname()[2:3] + os.uname()[4:5])}
    tar = os.path.join(work, "why.tar")
    image_tar(tar)
    profile = os.path.join(work, "kill-mkdir.json")
    with open(profile, "w") as f:
        f.write(SECCOMP)
    engs = []
    try:
        for e in args.only.split(","):
            try:
                if e == "guise":
                    inner = er.Guise(work, bindir)
                    eng = Engine(inner, opts=["--network", "none"])
                elif e == "podman":
                    inner = er.Podman(work, "crun")
                    eng = Engine(inner, opts=inner.run_opts())
                elif e == "docker":
                    log("starting a private dockerd")
                    inner = er.Docker()
                    eng = Engine(inner, env=inner.env, opts=["--network", "none"])
                else:
                    sys.exit("unknown engine " + e)
                engs.append(eng)
                raw["versions"][e] = inner.version()
                inner.import_image(tar)
                raw["engines"].append(e)
            except RuntimeError as ex:
                why = str(ex).splitlines()[0][:300]
                raw["notes"].append("%s: not run: %s" % (e, why))
                log("%s: %s" % (e, why))
        for c in cases:
            for eng in engs:
                if eng.name not in raw["engines"]:
                    continue
                log("%s: %s" % (c, eng.name))
                try:
                    raw["results"][c][eng.name] = run_case(eng, c, profile, eng.e.image)
                except Exception as ex:  # noqa: BLE001 - one case's failure is a cell, not the end
                    raw["results"][c][eng.name] = {"skipped": "failed: %s" % str(ex)[:200]}
    finally:
        for eng in engs:
            try:
                eng.e.cleanup()
            except Exception as ex:  # noqa: BLE001
                log("cleanup of %s: %s" % (eng.name, ex))
        er.remove_cgroups(er.CGROUP_PARENT)
    os.makedirs(args.results, exist_ok=True)
    with open(os.path.join(args.results, "why-raw.json"), "w") as f:
        json.dump(raw, f, indent=1)
    print("\n".join(report(raw, os.path.join(args.results, "WHY.md"))))


if __name__ == "__main__":
    main()
