#!/usr/bin/env bash
# test_runner_links RUNNER: lucid-plugin-runner links libc, libstdc++ and their runtime pieces
# only (and a sanitizer's runtime in a sanitizer build): no MQTT, no download or TLS stack, no
# logger, no Boost — a plugin in process isolation carries none of the agent's libraries.
set -euo pipefail
runner=$1
needed=$(readelf -d "$runner" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "$runner needs:" $needed
status=0
for lib in $needed; do
    case "$lib" in
        libc.so.* | libm.so.* | libstdc++.so.* | libgcc_s.so.* | ld-linux*.so.* | \
            libasan.so.* | libubsan.so.* | libtsan.so.*) ;;
        *) echo "FAIL: lucid-plugin-runner links $lib"; status=1 ;;
    esac
done
exit $status
