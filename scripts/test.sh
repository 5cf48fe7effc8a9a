#!/usr/bin/env bash
# The README's second command: install what is missing, build, run every test.
#
#   scripts/test.sh            build in build/ with ASan+UBSan and run all tests
#   LUCID_WERROR=ON scripts/test.sh    what .ci/run does (warnings are errors)
#   LUCID_SANITIZE=OFF scripts/test.sh a plain build, e.g. to attach gdb
#   scripts/test.sh -R registry        extra arguments go to ctest, and only ctest runs (a
#                                      quick subset; -N builds and lists without running)
# then, without arguments: scripts/cross.sh arm64 (the arm64 build, at the lowest priority
# beside the suite, then its tests under qemu), scripts/operator-smoke.sh (the operator's path,
# about 20 s), scripts/cluster-test.sh (the fleet on a two-node aedes cluster, about 45 s),
# scripts/fuzz.sh --ci (every fuzz target for 10 seconds) and scripts/tsan.sh (the threaded
# parts under ThreadSanitizer in build-tsan/)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

# Each part says what it cost, so the README's figures can be checked against any CI log.
part_started=$SECONDS
part_done() {
    echo "test.sh: $1 took $((SECONDS - part_started))s"
    part_started=$SECONDS
}

build_dir=${LUCID_BUILD_DIR:-build}
cmake -S . -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=Debug \
    -DLUCID_WERROR="${LUCID_WERROR:-OFF}" \
    -DLUCID_SANITIZE="${LUCID_SANITIZE:-ON}" \
    -DLUCID_BUILD_TESTS=ON
cmake --build "$build_dir" -j"$(nproc)"
part_done "setup and the ASan+UBSan build"
if [ "$#" -gt 0 ]; then
    ctest --test-dir "$build_dir" --output-on-failure --timeout 300 -j"$(nproc)" "$@"
    echo "test.sh: ctest $* only; run scripts/test.sh without arguments for everything"
    exit 0
fi
# The suite waits on brokers and agents about as much as it computes (about half of the 2
# cores is idle): the arm64 cross-build (packages, compile, the outside plugins) takes that half
# at the lowest priority, so the suite's own timing is as it was. setsid: its own process group,
# stopped with it when the suite fails.
cross_log="$build_dir/cross-arm64-build.log"
setsid -w nice -n 19 scripts/cross.sh arm64 --build >"$cross_log" 2>&1 &
cross_build=$!
trap 'kill -- -"$cross_build" 2>/dev/null || true' EXIT
ctest --test-dir "$build_dir" --output-on-failure --timeout 300 -j"$(nproc)"
part_done "the test suite (ctest; the arm64 build beside it)"
if ! wait "$cross_build"; then
    cat "$cross_log"
    echo "test.sh: scripts/cross.sh arm64 --build failed (log above: $cross_log)" >&2
    exit 1
fi
trap - EXIT
grep '^cross.sh: .* took' "$cross_log"
part_done "the rest of the arm64 build"
# The next three parts mostly wait (qemu, lintian, agents, brokers): the fuzz targets' clang
# build takes the idle core at the lowest priority meanwhile.
fuzz_log="$build_dir/fuzz-build.log"
setsid -w nice -n 19 scripts/fuzz.sh --build-only >"$fuzz_log" 2>&1 &
fuzz_build=$!
trap 'kill -- -"$fuzz_build" 2>/dev/null || true' EXIT
# The cross-built agent, lucidctl, unit tests and package under qemu-user (README "Devices").
scripts/cross.sh arm64 --test
part_done "arm64 under qemu"
# The operator's path end to end (service install, the service user, reload, signatures).
scripts/operator-smoke.sh "$build_dir"
part_done "operator-smoke"
# The fleet against a two-node aedes cluster sharing Redis (npm packages cached in the build).
scripts/cluster-test.sh "$build_dir"
part_done "broker cluster (aedes + Redis)"
if ! wait "$fuzz_build"; then
    cat "$fuzz_log"
    echo "test.sh: scripts/fuzz.sh --build-only failed (log above: $fuzz_log)" >&2
    exit 1
fi
trap - EXIT
part_done "the rest of the fuzz build"
# 10 s of each libFuzzer target (clang, build-fuzz/), two at a time.
scripts/fuzz.sh --ci
part_done "fuzzing (10 s per target)"
LUCID_WERROR="${LUCID_WERROR:-OFF}" scripts/tsan.sh
part_done "ThreadSanitizer (build and tests)"
