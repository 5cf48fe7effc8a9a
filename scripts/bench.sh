#!/usr/bin/env bash
# Benchmarks (issue 7): install what is missing, build in Release, run the benchmark program,
# print its table and write it to BENCHMARKS.md with the machine it ran on.
#
#   scripts/bench.sh                 the full run (a few minutes on 2 cores)
#   scripts/bench.sh --quick         about a fifth of the samples, BENCHMARKS.md left alone
#   scripts/bench.sh --only 1,3      some scenarios (numbers of BENCHMARKS.md), file left alone
#   scripts/bench.sh --check [--only …]   a run set against bench/goals.json: exit 1 when a ratio
#                                    left its noise margin (not part of CI: timings are noisy)
#   scripts/bench.sh --calibrate     three full runs; writes bench/goals.json (medians, margins)
#   LUCID_BENCH_DIR=dir scripts/bench.sh    build directory (default build-bench)
#
# Every figure is printed beside a baseline measured in the same run, and the ratio; nothing
# here asserts a wall-clock limit.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

build_dir=${LUCID_BENCH_DIR:-build-bench}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DLUCID_BUILD_BENCH=ON \
    -DLUCID_BUILD_TESTS=OFF -DLUCID_SANITIZE=OFF >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target lucid-bench lucid-bench-check
check="$build_dir/bench/lucid-bench-check"

if [ "${1:-}" = --calibrate ]; then
    shift
    runs=()
    for i in 1 2 3; do
        runs+=("$(mktemp)")
        echo "bench: calibration run $i of 3"
        "$build_dir/bench/lucid-bench" --out "${runs[-1]}" "$@"
    done
    "$check" --calibrate bench/goals.json "${runs[@]}"
    rm -f "${runs[@]}"
    exit 0
fi
check_only=false
if [ "${1:-}" = --check ]; then
    check_only=true
    shift
fi

table=$(mktemp)
trap 'rm -f "$table"' EXIT
status=0
"$build_dir/bench/lucid-bench" --out "$table" "$@" || status=$?
if $check_only; then
    "$check" bench/goals.json "$table" || exit $?
    exit $status
fi
# A partial run (--quick, --only) must not overwrite the published figures.
if [ $# -eq 0 ]; then
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    # Hand-written analysis below this marker (the profile) survives a new run.
    marker='<!-- analysis: kept across runs -->'
    analysis=$(mktemp)
    [ -f BENCHMARKS.md ] && sed -n "/^$marker\$/,\$p" BENCHMARKS.md >"$analysis"
    {
        echo "# Benchmarks"
        echo
        echo "Written by \`scripts/bench.sh\` (issue 7); how each figure is measured is in the"
        echo "README's \"Benchmarks\" section and in \`bench/src/scenario_*.cpp\`. Ratios are"
        echo "lucid / baseline, both measured in the same run."
        echo
        echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)."
        echo "mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'), Release build."
        echo
        cat "$table"
        if [ -s "$analysis" ]; then
            echo
            cat "$analysis"
        fi
    } >BENCHMARKS.md
    rm -f "$analysis"
    echo "bench: wrote BENCHMARKS.md"
fi
exit $status
