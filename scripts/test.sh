#!/usr/bin/env bash
# The whole test suite: unit tests (no root needed) and integration tests that start
# real containers on this kernel (root). Builds first, installing packages if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build-only

echo "== unit tests"
ctest --test-dir build --output-on-failure -j2 | tail -n 3

echo "== integration tests (runtime: build/guise-oci)"
/usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider "$@"
