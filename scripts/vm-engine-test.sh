#!/usr/bin/env bash
# The engine's cgroup checks on cgroup v2: boots the VM of ../shared/vmtest with `guise`,
# guise-full (which runs its `import`), its monitor and init, and a busybox rootfs tarball, and runs tests/cgroups-vm/engine-tests.sh
# there (which sources tests/cgroups-vm/engine/*.sh). The host's cgroups are v1/hybrid: this
# is where the engine's v2 behaviour (stats, why, the /proc view) is proven.
#
#   bash scripts/vm-engine-test.sh     (BUILD=build; VM_CGROUP=v1|hybrid; VMTEST=dir)
#
# Exit status: 0 when every check passed, or when the VM runner is not there (skipped, with
# the reason printed); 1 when a check failed or the VM did not finish.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VMTEST=${VMTEST:-../shared/vmtest}
export VM_CGROUP=${VM_CGROUP:-v2}

if [[ ! -x "$VMTEST/run-in-vm.sh" ]]; then
  echo "vm-engine-test: skipped: no VM runner at $VMTEST/run-in-vm.sh (../shared/vmtest beside the clone)"
  exit 0
fi
ninja -C "$BUILD" -j"${JOBS:-2}" guise-engine guise-monitor guise-init guise-procview guise-testbin >/dev/null

work=$(mktemp -d /tmp/vm-engine-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The image: the integration tests' busybox rootfs, as a tarball for `guise import`.
/usr/bin/python3 - "$work/bb.tar" <<'PY'
import sys
sys.path.insert(0, "tests/integration")
import engine_fixture
with open(sys.argv[1], "wb") as f:
    f.write(engine_fixture.rootfs_tar_bytes())
PY

# The binaries without their debug sections: they reach the VM inside its initramfs, in
# its RAM, and guise and guise-full with theirs are over 130 MB each.
mkdir "$work/bin"
for b in guise guise-full guise-monitor guise-init guise-procview guise-testbin; do
  strip --strip-debug -o "$work/bin/$b" "$BUILD/$b"
done

# Rootless checks (engine/rootless.sh) run the user's guise through setpriv, with the setuid
# newuidmap/newgidmap; staged at their own paths (their setuid bit kept) when the host has them.
rootless_helpers=()
for h in /usr/bin/newuidmap /usr/bin/newgidmap /usr/bin/setpriv; do
  [[ -x $h ]] && rootless_helpers+=("$h:$h")
done

log=$work/log
echo "== engine checks on cgroup $VM_CGROUP in a VM (kernel from $VMTEST)"
rc=0
VM_MODULES=${VM_MODULES:-"overlay loop fuse"} VM_TIMEOUT=${VM_TIMEOUT:-300} VM_MEM=${VM_MEM:-1024} \
  "$VMTEST/run-in-vm.sh" 'sh ./engine-tests.sh' \
  tests/cgroups-vm/engine-tests.sh tests/cgroups-vm/engine "$work/bin/guise" "$work/bin/guise-full" \
  "$work/bin/guise-monitor" "$work/bin/guise-init" "$work/bin/guise-procview" "$work/bin/guise-testbin" "$work/bb.tar" \
  "${rootless_helpers[@]}" \
  2>&1 | tee "$log" || rc=$?
summary=$(grep -E "^engine-[a-z0-9]+: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1 || true)
if [[ -z "$summary" ]]; then
  echo "vm-engine-test: the VM ended without a summary (exit $rc)" >&2
  exit 1
fi
if [[ $rc != 0 ]] || [[ "$summary" != *", 0 failed"* ]]; then
  echo "vm-engine-test: FAILED: $summary (exit $rc)" >&2
  exit 1
fi
echo "vm-engine-test: $summary"
