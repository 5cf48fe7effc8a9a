#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan) in build-fuzz/ and runs
# each one; exits 1 if any target crashed, after printing where each crashing input is.
#
#   scripts/fuzz.sh                     every target for LUCID_FUZZ_SECONDS (default 60) seconds
#   scripts/fuzz.sh --ci                every target for 10 seconds (scripts/test.sh)
#   scripts/fuzz.sh --build-only        build and run nothing (scripts/test.sh builds beside
#                                       other parts, then runs --ci)
#   scripts/fuzz.sh command names       only the named targets (command registry manifest elf names
#                                       source_url labels desired runner_frames signature
#                                       permit revocation proc logs dedup agent_state journal)
#   LUCID_FUZZ_BUILD_DIR=dir            another build directory
#   LUCID_FUZZ_JOBS=n                   targets run at a time (default: the number of cores)
#
# Seeds are read from tests/fuzz/corpus/<target>/ and never written to; what a run discovers
# goes to build-fuzz/corpus/<target>/ and is reused by the next run. Reproduce a crash with
#   build-fuzz/tests/fuzz/fuzz_<target> <crash file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${LUCID_FUZZ_SECONDS:-60}
targets=()
build_only=no
for arg in "$@"; do
    case "$arg" in
        --ci) seconds=10 ;;
        --build-only) build_only=yes ;;
        -h | --help) sed -n '2,/^set /p' "$0" | sed '$d'; exit 0 ;;
        -*) echo "fuzz: unknown option $arg" >&2; exit 2 ;;
        *) targets+=("$arg") ;;
    esac
done
build_targets=(lucid_fuzz)
if [ ${#targets[@]} -eq 0 ]; then
    targets=(command registry manifest elf names source_url labels desired runner_frames signature
        permit revocation proc logs dedup agent_state journal)
else
    build_targets=("${targets[@]/#/fuzz_}")
fi

scripts/setup.sh  # clang and libclang-rt-14-dev (libFuzzer, ASan, UBSan) included

build_dir=${LUCID_FUZZ_BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLUCID_FUZZ=ON \
    -DLUCID_BUILD_TESTS=OFF \
    -DLUCID_SANITIZE=OFF >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target "${build_targets[@]}"
[ "$build_only" = yes ] && exit 0

# One target's run; prints its verdict and returns non-zero when it crashed.
fuzz_one() {
    local target=$1
    local binary="$build_dir/tests/fuzz/fuzz_$target"
    local corpus="$build_dir/corpus/$target"
    local artifacts="$build_dir/artifacts/$target"
    local log="$build_dir/fuzz_$target.log"
    mkdir -p "$corpus" "$artifacts"
    touch "$build_dir/fuzz_$target.start"
    # The first corpus directory receives new inputs; the seeds stay untouched.
    if "$binary" "$corpus" "tests/fuzz/corpus/$target" \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
        local runs
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz: $target ok after ${seconds}s, ${runs:-?} runs"
        return 0
    fi
    echo "fuzz: $target FAILED (log: $log)" >&2
    grep -E "^==[0-9]+==ERROR|^SUMMARY|runtime error|deadly signal|out-of-memory|timeout" \
        "$log" | head -5 >&2 || true
    find "$artifacts" -type f -newer "$build_dir/fuzz_$target.start" | while read -r crash; do
        echo "fuzz: crash input: $crash (reproduce: $binary $crash)" >&2
    done
    return 1
}

# One target per core at a time: each target is single-threaded, so on two cores the whole
# set takes half the wall time for the same fuzzing per target.
jobs=${LUCID_FUZZ_JOBS:-$(nproc)}
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
failed=0
running=0
for target in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
    fuzz_one "$target" &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done
exit "$failed"
