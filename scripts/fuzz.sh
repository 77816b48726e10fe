#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, in a clang tree of its own: build-fuzz) and runs each,
# from its committed corpus in fuzz/corpus, for a share of a bounded time. Fails on any
# crash, leak, sanitizer report, failed check or hang, printing the report and where the
# input that caused it was kept.
#   scripts/fuzz.sh                      every target, about 60 s in all (CI)
#   scripts/fuzz.sh 3600                 an hour in all
#   scripts/fuzz.sh 600 layer_unpack     ten minutes on one target
set -euo pipefail
cd "$(dirname "$0")/.."

total=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(oci_config oci_process image_documents layer_unpack registry_answers run_flags
                                dns_message)

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > "$probe/p.cc"
if ! command -v clang++ >/dev/null || ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cc" -o "$probe/p" 2>/dev/null; then
  echo "fuzz: SKIPPED: no clang++ with libFuzzer here (Debian: clang, libclang-rt-dev; scripts/setup.sh installs them)"
  exit 0
fi

export CCACHE_BASEDIR="$PWD"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGUISE_FUZZ=ON >/dev/null
ninja -C build-fuzz -j"${JOBS:-2}" --quiet fuzz-targets

per=$((total / ${#targets[@]}))
((per >= 1)) || per=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for t in "${targets[@]}"; do
  run=build-fuzz/run/$t
  rm -rf "$run"
  mkdir -p "$run/corpus" "$run/tmp"
  dict=()
  [[ -f fuzz/dict/$t.dict ]] && dict=(-dict=../../../fuzz/dict/$t.dict)
  # Relative paths only: layer_unpack runs chrooted, with its current directory left outside.
  if (cd "$run" && TMPDIR="$PWD/tmp" ../../fuzz/fuzz-"$t" -max_total_time="$per" -timeout=20 -rss_limit_mb=2048 \
        -artifact_prefix=./ -print_final_stats=1 "${dict[@]}" corpus ../../../fuzz/corpus/"$t" > log 2>&1); then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log")
    cov=$(grep -E '^#[0-9]+' "$run/log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
    printf 'fuzz: %-18s %8s runs in %ss, %s\n' "$t" "$runs" "$per" "$cov"
  else
    echo "fuzz: $t FAILED; its report (all of it in $run/log):"
    grep -avE '^(#[0-9]+|INFO:|MS: |\s+NEW_FUNC)' "$run/log" | head -60
    ls "$run" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | sed "s|^|fuzz: the input: $run/|"
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]} (a found input goes into fuzz/corpus/TARGET once fixed)"
  exit 1
fi
