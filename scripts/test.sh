#!/usr/bin/env bash
# The whole test suite, as root: unit tests; the fuzz targets for a minute; integration tests
# that start real containers on this kernel (the attack suite and a fault-injection walk among
# them); containerd, docker and podman driving guise-oci; the cgroup checks in a cgroup-v2 VM (the runtime's and the engine's), and
# checkpoint/restore there.
# An ASan+UBSan build runs the unit tests and a slice of the integration tests.
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

echo "== fault-injection build (build-fault: each step of create, exec, delete and run can be failed or killed)"
# Only a few files differ from build/ (CMakeLists.txt, GUISE_FAULT_INJECTION): the rest
# comes from ccache. tests/integration/test_fault_walk.py walks its steps.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B build-fault -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGUISE_FAULT_INJECTION=ON >/dev/null
ninja -C build-fault -j"${JOBS:-2}" --quiet guise-engine guise-oci guise-monitor guise-init guise-procview

echo "== sanitizers: build-asan (ASan with leaks, UBSan): the unit tests and an integration slice (README \"Sanitizers\")"
bash scripts/sanitize.sh

echo "== integration tests (runtime: build/guise-oci)"
/usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider "$@"

echo "== engines: containerd, docker and podman driving guise-oci (and runc as the reference)"
bash scripts/engine-test.sh

bash scripts/vm-test.sh
bash scripts/vm-engine-test.sh
bash scripts/vm-criu-test.sh

echo "== speed regression check: guise-oci vs crun (fails only past 2x the recorded ratio)"
bash bench/check.sh
