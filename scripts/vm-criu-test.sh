#!/usr/bin/env bash
# Checkpoint and restore through criu, in the cgroup-v2 VM of ../shared/vmtest: on the
# development host's kernel criu cannot run at all (it fails on the vDSO), so this is
# where `guise-oci checkpoint` and `restore` are proven. Runs tests/cgroups-vm/criu-tests.sh
# with the static guise-oci, Debian's criu (its libraries travel along) and GNU tar.
#
#   bash scripts/vm-criu-test.sh       (BUILD=build; VM_CGROUP=hybrid or v1 runs the same
#                                       checks on those layouts; VMTEST=dir overrides
#                                       ../shared/vmtest)
#
# criu needs kernel modules the shared VM image does not load (the socket diag modules,
# nf_tables and nf_conntrack_netlink): they go into a base image of its own, cached
# apart from the shared one ($VMTEST_CRIU_CACHE, default ~/.cache/guise-vmtest-criu).
# Exit status: 0 when every check passed, or when skipped (the reason printed);
# 1 when a check failed or the VM did not finish.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VMTEST=${VMTEST:-../shared/vmtest}

if [[ ! -x "$VMTEST/run-in-vm.sh" ]]; then
  echo "vm-criu-test: skipped: no VM runner at $VMTEST/run-in-vm.sh"
  exit 0
fi
criu=$(command -v criu || true)
if [[ -z "$criu" ]]; then
  echo "vm-criu-test: skipped: criu is not installed (apt-get install criu)"
  exit 0
fi
tar=$(command -v tar || true)
if [[ -z "$tar" ]] || ! "$tar" --version 2>/dev/null | grep -q "GNU tar"; then
  echo "vm-criu-test: skipped: no GNU tar on this host (criu dumps tmpfs contents with it)"
  exit 0
fi
ninja -C "$BUILD" -j"${JOBS:-2}" guise-oci console-receiver >/dev/null

modules="nf_tables nf_conntrack_netlink unix_diag inet_diag tcp_diag udp_diag raw_diag netlink_diag af_packet_diag"
cache=${VMTEST_CRIU_CACHE:-$HOME/.cache/guise-vmtest-criu}
shared=${VMTEST_CACHE:-$HOME/.cache/guise-vmtest}
mkdir -p "$cache/debs"
for deb in "$shared"/debs/*.deb; do  # the kernel package, when the shared cache has it already
  [[ -e "$deb" && ! -e "$cache/debs/${deb##*/}" ]] && ln -s "$deb" "$cache/debs/"
done

log=$(mktemp /tmp/vm-criu-test.XXXXXX)
trap 'rm -f "$log"' EXIT
echo "== checkpoint and restore through criu in a VM (kernel from $VMTEST)"
rc=0
VMTEST_CACHE=$cache EXTRA_MODULES=$modules VM_MODULES="overlay $modules" VM_CGROUP=${VM_CGROUP:-v2} VM_TIMEOUT=${VM_TIMEOUT:-300} \
  "$VMTEST/run-in-vm.sh" 'PATH=/job/gnu:$PATH sh ./criu-tests.sh ./guise-oci ./console-receiver' \
  tests/cgroups-vm/criu-tests.sh "$BUILD/guise-oci" "$BUILD/tests/cgroups-vm/console-receiver" \
  "$criu:/usr/sbin/criu" "$tar:/job/gnu/tar" \
  2>&1 | tee "$log" || rc=$?
summary=$(grep -E "^criu: ([0-9]+ passed, [0-9]+ failed|skipped: .*)$" "$log" | tail -1 || true)
if [[ -z "$summary" ]]; then
  echo "vm-criu-test: the VM ended without a summary (exit $rc)" >&2
  exit 1
fi
if [[ $rc != 0 ]] || [[ "$summary" == *"passed"* && "$summary" != *", 0 failed" ]]; then
  echo "vm-criu-test: FAILED: $summary (exit $rc)" >&2
  exit 1
fi
echo "vm-criu-test: $summary"
