#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, then shows the agent at work:
# a private mosquitto on a free loopback port, lucid-agent with a throw-away data directory,
# the cpu plugin installed through MQTT with lucidctl, `lucidctl plugin list`, a few live
# metrics, then everything it started is stopped again. Safe to run twice in a row.
set -euo pipefail
cd "$(dirname "$0")/.."

# LUCID_DEMO_BUILD_DIR: use binaries already built there (the test suite runs the demo this
# way); otherwise install what is missing and build a release into build-demo.
if [ -n "${LUCID_DEMO_BUILD_DIR:-}" ]; then
    build_dir=$LUCID_DEMO_BUILD_DIR
else
    scripts/setup.sh
    build_dir=build-demo
    echo "== building (${build_dir})"
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUCID_BUILD_TESTS=OFF >/dev/null
    # The plugin runner beside the agent: process isolation and `lucidctl upgrade` need it.
    cmake --build "$build_dir" -j"$(nproc)" \
        --target lucid-agent lucid-plugin-runner lucidctl lucid_plugin_cpu >/dev/null
fi

agent_bin="$build_dir/host/lucid-agent"
ctl_bin="$build_dir/lucidctl/lucidctl"
cpu_so=$(find "$build_dir/plugins/cpu" -name 'lucid_agent_cpu-*.so' | head -n 1)

work=$(mktemp -d /tmp/lucid-demo.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# A free port: bind to 0 and let the kernel choose.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
persistence false
CONF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)

export LUCID_MQTT_URL="mqtt://127.0.0.1:$port"
export LUCID_AGENT_ID=demo
export LUCID_DATA_DIR="$work/data"
export LUCID_ENV_FILE=/dev/null

# Wait for the broker by asking it, not by sleeping: lucidctl exits 3 while it is unreachable.
for _ in $(seq 1 100); do
    if "$ctl_bin" --timeout 1 agents >/dev/null 2>&1; then break; fi
done

echo "== starting lucid-agent (data dir $LUCID_DATA_DIR)"
"$agent_bin" run >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    if "$ctl_bin" --timeout 1 ping >/dev/null 2>&1; then break; fi
done
"$ctl_bin" status

echo
echo "== lucidctl plugin install $(basename "$cpu_so")   (inline, through the broker)"
"$ctl_bin" plugin install "$cpu_so" --config '{"interval_s":1}'

echo
echo "== lucidctl plugin list"
"$ctl_bin" plugin list

echo
echo "== three live metrics from the cpu plugin (components/cpu/evt/...)"
# watch ends by itself once head has its three lines and closes the pipe (the pipeline's
# status is then SIGPIPE's, hence || true); timeout only guards against a silent plugin.
timeout 60 "$ctl_bin" watch | grep --line-buffered '/components/cpu/evt/' | head -n 3 || true

echo
echo "== done; stopping the agent and the broker"
