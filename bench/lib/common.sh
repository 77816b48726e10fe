# Sourced by the bench/*.sh entry points.  Expects $BENCH (the bench/ directory).
# shellcheck shell=bash

REPO=$(cd "$BENCH/.." && pwd)
WORK=$BENCH/work
PY=/usr/bin/python3 # Debian's python (python3-matplotlib), not a pyenv shim on PATH

log() { printf '%s\n' "bench: $*" >&2; }
die() { log "$*"; exit 2; }

require_root() {
  [ "$(id -u)" = 0 ] || die "run as root: sudo bash $0"
}

# apt-get install whatever is missing; `apt-get update` only when an install fails.
# shellcheck disable=SC2120 # the extra packages are optional
ensure_packages() { # [extra packages...]
  local want=() p
  command -v runc >/dev/null || want+=(runc)
  command -v crun >/dev/null || want+=(crun)
  [ -x /bin/busybox ] && /bin/busybox ls /proc/self/exe >/dev/null 2>&1 || want+=(busybox-static)
  command -v gcc >/dev/null || want+=(gcc)
  [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || want+=(libc6-dev)
  [ -x $PY ] || want+=(python3)
  ls /usr/lib/x86_64-linux-gnu/libseccomp.so.2* >/dev/null 2>&1 || want+=(libseccomp2)
  command -v unshare >/dev/null || want+=(util-linux)
  for p in "$@"; do
    case $p in
      python3-matplotlib) $PY -c 'import matplotlib' 2>/dev/null || want+=("$p") ;;
      *) dpkg -s "$p" >/dev/null 2>&1 || want+=("$p") ;;
    esac
  done
  [ ${#want[@]} = 0 ] && return 0
  log "apt-get install -y ${want[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >"$WORK/apt.log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$WORK/apt.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >>"$WORK/apt.log" 2>&1 ||
      die "apt-get install ${want[*]} failed; see $WORK/apt.log"
  fi
}

# The engine harnesses (engine-run.sh, engine.sh) take guise's binaries from one build
# directory: --build DIR among their arguments, else build/.  Prints the directory.
engine_build_dir() { # args...
  local build=$REPO/build b
  while [ $# -gt 0 ]; do
    [ "$1" = --build ] && build=${2:-}
    shift
  done
  for b in guise guise-full guise-monitor guise-init guise-oci guise-procview; do
    [ -x "$build/$b" ] ||
      die "no $build/$b: ninja -C build guise-engine guise-monitor guise-init guise-oci guise-procview"
  done
  printf '%s\n' "$build"
}

# A private copy of guise-oci: other people rebuild build/ while we measure.  If the build is
# missing (a rebuild in progress), wait for it.
copy_guise() {
  local src=${GUISE_OCI:-$REPO/build/guise-oci} tries=0
  mkdir -p "$WORK/bin"
  until [ -x "$src" ] && "$src" --version >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ $tries -le 60 ] || die "$src missing or broken for 10 minutes"
    log "waiting for $src (being rebuilt?)"
    sleep 10
  done
  cp "$src" "$WORK/bin/guise-oci.tmp.$$"
  # A copy taken while a link was writing the file would not run: take it again.
  "$WORK/bin/guise-oci.tmp.$$" --version >/dev/null 2>&1 || { sleep 10; copy_guise; return; }
  mv -f "$WORK/bin/guise-oci.tmp.$$" "$WORK/bin/guise-oci"
}

build_floor() {
  mkdir -p "$WORK/bin"
  local prog
  for prog in floor maxrss; do
    if [ ! -x "$WORK/bin/$prog" ] || [ "$BENCH/$prog.c" -nt "$WORK/bin/$prog" ]; then
      gcc -O2 -static -Wall -o "$WORK/bin/$prog.tmp" "$BENCH/$prog.c" 2>"$WORK/gcc-$prog.log" ||
        { cat "$WORK/gcc-$prog.log" >&2; die "building $prog.c failed"; }
      mv -f "$WORK/bin/$prog.tmp" "$WORK/bin/$prog"
    fi
  done
  $PY "$BENCH/lib/seccomp_bpf.py" "$BENCH/profiles/seccomp-default.json" "$WORK/seccomp-default.bpf" ||
    die "compiling the seccomp profile to BPF failed"
}

# Runs "$@" in a private mount namespace without the cgroup2 mount at /sys/fs/cgroup/unified:
# crun refuses a hybrid host (v1 controllers + that mount).  Every runtime and the floor run
# in this same namespace, so the change is the same for all of them.
NS_PRELUDE='if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then umount /sys/fs/cgroup/unified || exit 97; fi'
in_bench_ns() {
  unshare -m --propagation private sh -c "$NS_PRELUDE"'; exec "$@"' sh "$@"
}

# The driver runs in the background so that a signal to this script is handled at once:
# on INT/TERM the trap asks the driver (by its pid: unshare and sh exec into it) to stop;
# it deletes its containers on the way out.
driver_pid=
run_driver() { # driver args...
  # A simple command in the background: bash forks and execs unshare, which execs sh, which
  # execs python, so $! is the driver itself.
  unshare -m --propagation private sh -c "$NS_PRELUDE"'; exec "$@"' sh $PY "$BENCH/driver.py" "$@" &
  driver_pid=$!
  local rc=0
  wait "$driver_pid" || rc=$?
  driver_pid=
  return $rc
}

on_signal() {
  log "interrupted: stopping the driver and cleaning up"
  if [ -n "$driver_pid" ]; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
  exit 130
}

# Bundles (rootfs per variant and runtime; configs every time) and the cgroup parents.
prepare() { # VARIANTS SLOTS
  $PY - "$1" "$2" <<'EOF' || die "preparing bundles/cgroups failed"
import os, sys
sys.path.insert(0, os.environ["BENCH"] + "/lib")
import benchlib as B
variants = sys.argv[1].split(",")
base = B.cgroup_base()
B.ensure_cgroup_parents(base)
B.make_bundles(base, int(sys.argv[2]), variants=variants)
EOF
}

# Deletes every container left in the state roots, removes the roots and every cgroup the
# benchmark made.  Safe to run any number of times.
cleanup_all() {
  in_bench_ns $PY - <<'EOF' || true
import os, shutil, subprocess, sys
sys.path.insert(0, os.environ["BENCH"] + "/lib")
import benchlib as B
for rt in B.RUNTIMES:
    root = B.state_root(rt)
    if not os.path.isdir(root):
        continue
    for cid in os.listdir(root):
        if os.path.isdir(os.path.join(root, cid)):
            subprocess.run([B.runtime_binary(rt), "--root", root, "delete", "--force", cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(root, ignore_errors=True)
B.remove_cgroups(B.cgroup_base())
EOF
}
