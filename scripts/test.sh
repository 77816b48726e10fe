#!/usr/bin/env bash
# The whole test suite, as root: unit tests; the fuzz targets for a minute; integration tests that start real
# containers on this kernel (including the attack suite); containerd, docker and
# podman driving guise-oci; the cgroup checks in a cgroup-v2 VM, and checkpoint/restore there.
# Builds first, installing packages as needed. Extra arguments go to the integration pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build-only

echo "== unit tests"
if ! ctest --test-dir build --output-on-failure -j2 > build/ctest.log 2>&1; then
  cat build/ctest.log
  exit 1
fi
# The summary line, and each test ctest did not run (a skip says why in the log).
grep -E "tests passed|tests failed|\(Skipped\)" build/ctest.log

echo "== fuzzing: every target from its corpus, about a minute in all (README \"Fuzzing\")"
bash scripts/fuzz.sh

echo "== integration tests (runtime: build/guise-oci)"
/usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider "$@"

echo "== engines: containerd, docker and podman driving guise-oci (and runc as the reference)"
bash scripts/engine-test.sh

bash scripts/vm-test.sh
bash scripts/vm-criu-test.sh

echo "== speed regression check: guise-oci vs crun (fails only past 2x the recorded ratio)"
bash bench/check.sh
