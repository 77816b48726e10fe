#!/usr/bin/env bash
# The cgroup tests on cgroup v2: boots a Debian kernel under QEMU with ../shared/vmtest
# (cgroup2 at /sys/fs/cgroup, cpu memory io pids cpuset ... enabled), copies the static
# guise-oci and guise-testbin in, and runs tests/cgroups-vm/cgroup-tests.sh there. The
# host's own cgroups are v1/hybrid: this is where v2 is proven.
#
#   bash scripts/vm-test.sh            (BUILD=build; VM_CGROUP=hybrid or v1 runs the same
#                                       checks on those layouts; VMTEST=dir overrides
#                                       ../shared/vmtest)
#
# Exit status: 0 when every check passed, or when the VM runner is not there (skipped,
# with the reason printed); 1 when a check failed or the VM did not finish.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VMTEST=${VMTEST:-../shared/vmtest}
export VM_CGROUP=${VM_CGROUP:-v2}

if [[ ! -x "$VMTEST/run-in-vm.sh" ]]; then
  echo "vm-test: skipped: no VM runner at $VMTEST/run-in-vm.sh (../shared/vmtest beside the clone)"
  exit 0
fi
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[[ "$(id -u)" = 0 ]] || command -v cpio >/dev/null || need+=(cpio)
command -v busybox >/dev/null || need+=(busybox-static)
if ((${#need[@]})); then
  echo "vm-test: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

if [[ ! -f "$BUILD/build.ninja" ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD" -j"${JOBS:-2}" guise-oci guise-testbin cgroup-smoke >/dev/null

log=$(mktemp /tmp/vm-test.XXXXXX)
trap 'rm -f "$log"' EXIT
echo "== cgroup $VM_CGROUP tests in a VM (kernel from $VMTEST)"
rc=0
VM_MODULES=${VM_MODULES:-"overlay loop"} VM_TIMEOUT=${VM_TIMEOUT:-240} \
  "$VMTEST/run-in-vm.sh" 'sh ./cgroup-tests.sh ./guise-oci ./guise-testbin' \
  tests/cgroups-vm/cgroup-tests.sh "$BUILD/guise-oci" "$BUILD/guise-testbin" "$BUILD/tests/cgroups-vm/cgroup-smoke" \
  2>&1 | tee "$log" || rc=$?
summary=$(grep -E "^cgroup-[a-z0-9]+: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -1 || true)
if [[ -z "$summary" ]]; then
  echo "vm-test: the VM ended without a summary (exit $rc)" >&2
  exit 1
fi
if [[ $rc != 0 ]] || [[ "$summary" != *", 0 failed" ]]; then
  echo "vm-test: FAILED: $summary (exit $rc)" >&2
  exit 1
fi
echo "vm-test: $summary"
