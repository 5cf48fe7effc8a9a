#!/usr/bin/env bash
# ThreadSanitizer over the threaded parts (issue 8): the command lanes and the dispatcher, the
# registry's cross-process lock, plugin workers, and the agent itself as a process (network
# thread, lanes, plugin threads, stall watch) in integration tests against a real broker.
# scripts/test.sh runs it after the ASan+UBSan suite; ASan and TSan need separate build trees.
#
#   scripts/tsan.sh                 build in build-tsan/ and run the tests below
#   scripts/tsan.sh --no-build      run them again without building
set -euo pipefail
cd "$(dirname "$0")/.."

tests=(
    test_host_commands          # dispatcher, lanes, dedup store
    test_registry_concurrency   # registry lock across threads and processes
    lucid_abi_tests             # plugin workers, timers, callbacks isolated per plugin
    test_host_plugin_stall      # stall detection, recovery, a plugin cut off from the host
    test_components_messaging   # plugin traffic through the agent, broker restarts
    test_components_concurrency # commands while an install downloads
    test_faults_broker          # broker restarts under command load
    test_components_hang        # a plugin stuck in a callback; the agent exits around it
    test_components_isolation   # plugins in child processes: crashes, hangs, restarts
    test_components_isolation_messages  # posted messages, unsubscribe with a full window
    test_runner_protocol        # the runner protocol's codec
    test_components_plugin_telemetry  # publish_metric and de-duplication from plugin threads
)
# The same binaries again with every plugin in a lucid-plugin-runner child.
variants=(test_components_messaging_process)
build_dir=${LUCID_TSAN_BUILD_DIR:-build-tsan}

if [ "${1:-}" != "--no-build" ]; then
    # -O1 -g1: TSan's own advice is -O1 or more, and line tables are all its reports use; the
    # build takes about 40 % less than at -O2 -g.
    flags="-O1 -g1 -DNDEBUG"
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUCID_TSAN=ON \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
        -DLUCID_SANITIZE=OFF -DLUCID_WERROR="${LUCID_WERROR:-OFF}" -DLUCID_BUILD_TESTS=ON
    cmake --build "$build_dir" -j"$(nproc)" --target lucid-agent lucid-plugin-runner "${tests[@]}"
fi

# halt_on_error: a race in the agent ends it, so the test that drove it fails too.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
pattern="^($(IFS='|'; echo "${tests[*]} ${variants[*]}" | tr ' ' '|'))\$"
# setarch -R: the TSan runtime of GCC 12 cannot map its shadow memory under the high mmap
# randomization of recent kernels; without ASLR it always can.
setarch "$(uname -m)" -R ctest --test-dir "$build_dir" --output-on-failure --timeout 300 \
    -j"$(nproc)" -R "$pattern"
