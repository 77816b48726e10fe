"""Processes, cgroups, mounts and the runtime's logging wrapper, for the engine tests."""

import fcntl
import os
import pty
import re
import select
import shlex
import shutil
import signal
import struct
import subprocess
import termios
import time

CGROUP_ROOT = "/sys/fs/cgroup"


class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    @property
    def both(self):
        return self.out + self.err

    def __repr__(self):
        return "Result(argv=%r, rc=%r,\n  out=%r,\n  err=%r)" % (
            self.argv, self.rc, self.out[-3000:], self.err[-3000:])


def run(argv, env=None, timeout=120, stdin_data=None, cwd=None):
    """Runs ARGV to completion, stdout/stderr captured through files.

    Files, not pipes: an engine's client may leave a child behind (conmon, a
    shim) that inherits its stdout and would hold a pipe open.
    """
    import tempfile
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=fo, stderr=fe,
                             stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                             start_new_session=True)
        try:
            if stdin_data is not None:
                p.stdin.write(stdin_data.encode())
                p.stdin.close()
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            rc = "timeout after %ss" % timeout
        fo.seek(0)
        fe.seek(0)
        return Result(argv, rc, fo.read().decode(errors="replace"), fe.read().decode(errors="replace"))


def run_pty(argv, env=None, timeout=120, rows=30, cols=100, cwd=None):
    """Runs ARGV with a new pty as its controlling terminal and stdio; returns
    Result with everything read from the master as out."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=slave, stdout=slave, stderr=slave,
                         preexec_fn=child_setup, close_fds=True)
    os.close(slave)
    out = b""
    end = time.monotonic() + timeout
    rc = None
    while True:
        left = end - time.monotonic()
        if left <= 0:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
            rc = "timeout after %ss" % timeout
            break
        r, _, _ = select.select([master], [], [], min(left, 0.5))
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: no slave end open any more
                chunk = b""
            if not chunk:
                rc = p.wait(timeout=max(1, end - time.monotonic()))
                break
            out += chunk
        elif p.poll() is not None:
            # The client exited; something else may still hold the slave.
            rc = p.returncode
            while select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            break
    os.close(master)
    return Result(argv, rc, out.decode(errors="replace"), "")


def wait_for(pred, timeout=30.0, interval=0.1):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            return v
        time.sleep(interval)


# --------------------------------------------------------------- processes


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def pids_mentioning(text):
    """pids whose command line contains TEXT (a unique temp dir path)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd and pid_alive(int(entry)):
            found.append(int(entry))
    return found


def kill_pids(pids, sig=signal.SIGKILL, timeout=10):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    wait_for(lambda: not any(pid_alive(p) for p in pids), timeout)


class Daemon:
    """A daemon process we start; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name, argv, env, log_path, ready, timeout=90):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_for(lambda: self.proc.poll() is not None or ready(), timeout, 0.2) \
                or self.proc.poll() is not None:
            tail = self.tail()
            self.stop()
            raise RuntimeError("%s did not start (rc %s):\n%s" % (name, self.proc.returncode, tail))

    def tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --------------------------------------------------------------- mounts


def _unescape(p):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), p)


def mounts_under(path):
    path = os.path.realpath(path)
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = _unescape(line.split()[4])
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return out


def unmount_all_under(path):
    for _ in range(3):
        mps = mounts_under(path)
        if not mps:
            return
        for mp in sorted(set(mps), key=len, reverse=True):
            subprocess.run(["umount", "-l", mp], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)


def remove_tree(path):
    unmount_all_under(path)
    shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------- cgroups


def own_cgroups(pid="self"):
    """{controller: path} of PID's v1 cgroups (and "" for the v2 line)."""
    out = {}
    with open("/proc/%s/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in (ctrls.split(",") if ctrls else [""]):
                out[c] = path
    return out


def mount_dir_of(controller):
    """Where the hierarchy of a v1 controller (cpu, memory, name=systemd...) is mounted,
    or the cgroup2 mount for "": read from mountinfo (/sys/fs/cgroup/unified on a
    hybrid host, /sys/fs/cgroup itself on a v2 one, cpu,cpuacct where co-mounted)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, supers = fields[sep + 1], fields[sep + 3].split(",")
            if (controller == "" and fstype == "cgroup2") or (fstype == "cgroup" and controller in supers):
                return _unescape(fields[4])
    if controller == "":
        return os.path.join(CGROUP_ROOT, "unified")
    return os.path.join(CGROUP_ROOT, controller.replace("name=", ""))


def cgroup_file(pid, controller, name):
    path = own_cgroups(pid)[controller]
    with open(os.path.join(mount_dir_of(controller), path.lstrip("/"), name)) as f:
        return f.read().strip()


def misplaced_cgroups(pid, parent):
    """Controllers in which PID's cgroup is not below our own cgroup/PARENT."""
    mine = own_cgroups()
    bad = []
    for ctrl, path in own_cgroups(pid).items():
        if ctrl not in mine:
            continue
        base = mine[ctrl].rstrip("/") + "/" + parent + "/"
        if not path.startswith(base):
            bad.append("%s: %s (want below %s)" % (ctrl or "cgroup2", path, base))
    return bad


def remove_cgroup_dir(top):
    """rmdir TOP and everything below it, killing what is left in them (ours);
    returns the directories that could not be removed."""
    left = []
    if not os.path.isdir(top):
        return left
    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
        try:
            with open(os.path.join(dirpath, "cgroup.procs")) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            pids = []
        if pids:
            # a frozen cgroup's tasks cannot die until thawed
            try:
                with open(os.path.join(dirpath, "freezer.state"), "w") as f:
                    f.write("THAWED")
            except OSError:
                pass
            kill_pids(pids, timeout=5)
        for _ in range(50):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
        if os.path.isdir(dirpath):
            left.append(dirpath)
    return left


def remove_cgroup_tree(parent):
    """Removes PARENT (relative to our own cgroup) in every hierarchy."""
    left = []
    for ctrl, path in own_cgroups().items():
        left += remove_cgroup_dir(os.path.join(mount_dir_of(ctrl), path.lstrip("/"), parent))
    return left


def stray_cgroups_at_roots(parent):
    """Directories named PARENT directly under a hierarchy's root where our own
    cgroup is not that root: a runtime or engine made them outside our cgroup."""
    bad = []
    for ctrl, path in own_cgroups().items():
        if path.strip("/") == "":
            continue
        d = os.path.join(mount_dir_of(ctrl), parent)
        if os.path.isdir(d):
            bad.append(d)
    return bad


# --------------------------------------------------------------- runtime wrapper

WRAPPER = r"""#!/bin/bash
# Records every call of the OCI runtime (argv, stdin of `update -`, stdout and
# stderr where they are not the container's, exit status), then runs it.
real=%(real)s
dir=%(dir)s
id=$(date +%%s%%N)-$$
printf '%%s\0' "$@" > "$dir/$id.argv"
# podman gives root's runtimes no --root (runc would keep its state in
# /run/runc, guise-oci in /run/guise), and `--runtime-flag root=` does not
# reach its `delete`: a call without --root gets this session's.
case " $* " in
  *" --root "*|*" --root="*) ;;
  *) printf '%%s' %(default_root)s > "$dir/$id.root"; set -- --root %(default_root)s "$@" ;;
esac
cmd= ; skip=
for a in "$@"; do
  if [ -n "$skip" ]; then skip=; continue; fi
  case $a in
    --root|--log|--log-format|--criu) skip=1 ;;
    -*) ;;
    *) cmd=$a; break ;;
  esac
done
case $cmd in
  create|run|exec)
    # stdio are the container's: left alone
    "$real" "$@"; rc=$? ;;
  *)
    if [ "$cmd" = update ] && printf '%%s\n' "$@" | grep -qx -- '-'; then
      cat > "$dir/$id.stdin"
      "$real" "$@" < "$dir/$id.stdin" > "$dir/$id.out" 2> "$dir/$id.err"; rc=$?
    else
      "$real" "$@" > "$dir/$id.out" 2> "$dir/$id.err"; rc=$?
    fi
    cat "$dir/$id.out"; cat "$dir/$id.err" >&2 ;;
esac
# the engine's --log file, whose last error line it shows its user
log=
prev=
for a in "$@"; do
  [ "$prev" = --log ] && log=$a
  case $a in --log=*) log=${a#--log=} ;; esac
  prev=$a
done
[ -n "$log" ] && [ -f "$log" ] && tail -n 20 "$log" > "$dir/$id.log" 2>/dev/null
for a in "$@"; do
  case $a in --resources=*) cp "${a#--resources=}" "$dir/$id.stdin" 2>/dev/null ;; esac
done
echo $rc > "$dir/$id.rc"
exit $rc
"""


class Runtime:
    """An OCI runtime as the engines see it: a logging wrapper named NAME."""

    def __init__(self, key, real, bindir, calls):
        self.key = key          # "guise" or "runc"
        self.real = real
        self.name = "guise-oci" if key == "guise" else "runc"
        os.makedirs(bindir, exist_ok=True)
        os.makedirs(calls, exist_ok=True)
        self.calls_dir = calls
        self.path = os.path.join(bindir, self.name)
        with open(self.path, "w") as f:
            f.write(WRAPPER % {"real": real, "dir": calls,
                               "default_root": shlex.quote(os.path.normpath(os.path.join(
                                   calls, "..", "..", "default-root", key)))})
        os.chmod(self.path, 0o755)

    def calls(self, since_ns=0):
        """[{argv, rc, out, err, stdin, log}] of calls made since SINCE_NS."""
        out = []
        for name in sorted(os.listdir(self.calls_dir)):
            if not name.endswith(".argv"):
                continue
            stem = name[:-5]
            if int(stem.split("-")[0]) < since_ns:
                continue
            call = {}
            for ext in ("argv", "rc", "out", "err", "stdin", "log", "root"):
                try:
                    with open(os.path.join(self.calls_dir, stem + "." + ext), "rb") as f:
                        call[ext] = f.read()
                except FileNotFoundError:
                    call[ext] = None
            call["argv"] = [a.decode(errors="replace") for a in call["argv"].split(b"\0")[:-1]]
            call["rc"] = int(call["rc"]) if call["rc"] else None
            for ext in ("out", "err", "stdin", "log", "root"):
                if call[ext] is not None:
                    call[ext] = call[ext].decode(errors="replace")
            out.append(call)
        return out

    def describe_calls(self, since_ns=0, only_failed=False):
        lines = []
        for c in self.calls(since_ns):
            if only_failed and c["rc"] == 0:
                continue
            lines.append("%s => rc %s%s" % (" ".join(c["argv"]), c["rc"],
                                            "  (run with --root %s)" % c["root"] if c["root"] else ""))
            for ext in ("stdin", "err", "log"):
                if c.get(ext):
                    lines.append("    %s: %s" % (ext, c[ext].strip().replace("\n", "\n        ")))
        return "\n".join(lines)
