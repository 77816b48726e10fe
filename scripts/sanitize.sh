#!/usr/bin/env bash
# AddressSanitizer (leaks included) and UndefinedBehaviorSanitizer over the real thing:
# builds build-asan (cmake -DGUISE_SANITIZE=ON: every host-side executable and the unit
# tests instrumented, linked dynamically), runs every unit test, then a slice of the
# integration tests with those binaries: the runtime's create/start/exec/kill/delete (its
# container init up to the exec of the container's program), guise-init, the engine's
# run/exec/stop/rm with its monitor, `why`, the /proc view, and pulls from a registry on
# loopback. A report from any process, a daemon's included (each writes its own file
# under the report directory), fails the run and is printed.
#   scripts/sanitize.sh                  the CI slice (README "Sanitizers")
#   scripts/sanitize.sh tests/integration/test_network.py ...   other integration tests
set -euo pipefail
cd "$(dirname "$0")/.."

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGUISE_SANITIZE=ON >/dev/null
ninja -C build-asan -j"${JOBS:-2}" --quiet guise-engine guise-oci guise-monitor guise-init guise-procview unit-tests

slice=("$@")
((${#slice[@]})) || slice=(
  tests/integration/test_lifecycle.py
  tests/integration/test_init.py
  tests/integration/test_engine_run.py
  tests/integration/test_engine_exec.py
  tests/integration/test_why.py
  tests/integration/test_proc_view.py
  tests/integration/test_images.py
)

reports=$(mktemp -d /tmp/guise-sanitizers.XXXXXX)
trap 'rm -rf "$reports"' EXIT
# Each process reports into a file of its own (NAME.PID): the monitor and the /proc view
# have no terminal to print to. halt: the first finding ends the process, so a test sees it.
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="log_path=$reports/lsan"

status=0
echo "-- unit tests (build-asan/unit-tests)"
build-asan/unit-tests --gtest_brief=1 > "$reports/unit.out" 2>&1 || status=$?
tail -3 "$reports/unit.out"
((status == 0)) || { cat "$reports/unit.out"; }

echo "-- integration slice with the build-asan binaries: ${slice[*]##*/}"
GUISE_RUNTIME="$PWD/build-asan/guise-oci" GUISE_ENGINE="$PWD/build-asan/guise" GUISE="$PWD/build-asan/guise" \
  GUISE_INIT="$PWD/build-asan/guise-init" \
  /usr/bin/python3 -m pytest "${slice[@]}" -q -p no:cacheprovider || status=$?

found=$(find "$reports" -name 'asan.*' -o -name 'ubsan.*' -o -name 'lsan.*' | sort)
if [[ -n $found ]]; then
  echo "sanitizers: $(wc -l <<<"$found") report(s):"
  for f in $found; do
    echo "==== $f"
    head -60 "$f"
  done
  exit 1
fi
((status == 0)) || exit "$status"
echo "sanitizers: no report from any process"
