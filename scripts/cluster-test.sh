#!/usr/bin/env bash
# The fleet against a two-node MQTT broker cluster (issue 16, item 8): two aedes nodes sharing
# one Redis (retained messages, subscriptions and persistent sessions in Redis, messages between
# the nodes through Redis pub/sub), the agents connected to node A and lucidctl to node B, so
# that everything the fleet relies on has to cross the cluster:
#
#   - retained statuses: `lucidctl agents --select` on B lists every agent of A online;
#   - broker artifacts and retained desired documents: a rollout driven from B converges every
#     agent of A (exit 0);
#   - retained desired state and persistent sessions: an agent stopped before a second rollout
#     is left pending (exit 4), converges on its own when it comes back, and `rollout resume`
#     then finishes (exit 0);
#   - QoS 1 commands queued in a persistent session: commands sent from B while an agent is
#     stopped are answered when it comes back, on node B this time (its session moved nodes).
#
#   scripts/cluster-test.sh [BUILD_DIR]     (default: $LUCID_BUILD_DIR or build)
#
# Uses lucid-agent, lucidctl and the echo and cpu example plugins of BUILD_DIR (builds those
# targets, -j2, when missing), installs what is missing through scripts/setup.sh (redis-server,
# node and npm) and the broker's npm packages, pinned by tests/cluster/package-lock.json, into
# BUILD_DIR/cluster-broker/ (npm ci, only when the lock changed). Prints one PASS or FAIL line per
# claim and what each phase cost; exits 1 at the first failure. README "Broker clusters and
# bridges" says what it costs and why CI does not run it yet.
set -euo pipefail
cd "$(dirname "$0")/.."

build_arg=${1:-${LUCID_BUILD_DIR:-build}}
# The agents and lucidctl must see only what this script sets: a LUCID_* variable or the earlier
# agent's MQTT_* of the caller's shell would point them elsewhere.
while IFS= read -r name; do unset "$name"; done < <(compgen -e \
    | grep -E '^(LUCID_|MQTT_HOST$|MQTT_PORT$|AGENT_USERNAME$|AGENT_PASSWORD$)' || true)

agent_count=5
agent_ids=()
for i in $(seq 1 "$agent_count"); do agent_ids+=("cluster-agent-$i"); done
selector=site=cluster
work=""
declare -A agent_pids=()
redis_pid=""
node_a_pid=""
node_b_pid=""
sub_pid=""
failing_agent=""
phase_name="start"
phase_started=$SECONDS

fail() {
    echo "cluster-test: FAIL: $phase_name: $*" >&2
    if [ -n "$work" ]; then
        local log
        for log in "$work/node-a.log" "$work/node-b.log" ${failing_agent:+"$work/$failing_agent.log"}; do
            [ -f "$log" ] || continue
            echo "---- last lines of $(basename "$log") ----" >&2
            tail -n 20 "$log" >&2
        done
    fi
    exit 1
}

# Each claim says when it was proven, in seconds since its phase began.
pass() { echo "cluster-test: PASS: $* (+$((SECONDS - phase_started))s)"; }

phase() {
    phase_name=$1
    phase_started=$SECONDS
    echo "== $1"
}

phase_done() { echo "cluster-test: $phase_name took $((SECONDS - phase_started))s"; }

cleanup() {
    local pid
    for pid in "${agent_pids[@]}" "$sub_pid" "$node_a_pid" "$node_b_pid" "$redis_pid"; do
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    [ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT

# wait_for SECONDS WHAT CMD...
. scripts/lib/wait_for.sh

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# lucidctl always on node B; the agents are on node A. timeout: a hung lucidctl fails the run.
ctl() { timeout 120 "$ctl_bin" --url "mqtt://127.0.0.1:$port_b" "$@"; }

check_prerequisites() {
    phase "prerequisites (packages, build, npm ci)"
    # A node from elsewhere (NodeSource's nodejs carries npm) is used as it is: Debian's packages
    # are asked for only when the commands are missing.
    local extra=(redis-server)
    command -v node >/dev/null || extra+=(nodejs)
    command -v npm >/dev/null || extra+=(npm)
    scripts/setup.sh "${extra[@]}"
    for tool in redis-server node npm python3 mosquitto_pub mosquitto_sub; do
        command -v "$tool" >/dev/null || fail "$tool is missing"
    done
    build_dir=$(cd "$build_arg" 2>/dev/null && pwd) \
        || fail "no build directory $build_arg (run scripts/test.sh first)"
    agent_bin="$build_dir/host/lucid-agent"
    ctl_bin="$build_dir/lucidctl/lucidctl"
    echo_so="$build_dir/plugins/echo/lucid_agent_echo-1.0.0-linux_x86_64.so"
    cpu_so="$build_dir/plugins/cpu/lucid_agent_cpu-1.0.0-linux_x86_64.so"
    build_missing
    install_broker_packages
    work=$(mktemp -d /tmp/lucid-cluster.XXXXXX)
    phase_done
}

# Only the four targets this test needs, at most -j2 (the machine is shared).
build_missing() {
    local path
    for path in "$agent_bin" "$ctl_bin" "$echo_so" "$cpu_so"; do
        [ -e "$path" ] && continue
        [ -f "$build_dir/CMakeCache.txt" ] || fail "$build_dir is not configured (run scripts/test.sh first)"
        echo "cluster-test: building lucid-agent, lucidctl and the echo and cpu plugins in $build_dir"
        cmake --build "$build_dir" -j2 --target lucid-agent lucidctl lucid_plugin_echo lucid_plugin_cpu \
            || fail "the build failed"
        break
    done
    for path in "$agent_bin" "$ctl_bin" "$echo_so" "$cpu_so"; do
        [ -e "$path" ] || fail "$path is missing after the build"
    done
}

# node_modules lives in the (git-ignored) build directory; npm ci runs again only when the lock
# file changed, so a second run costs no download.
install_broker_packages() {
    broker_dir="$build_dir/cluster-broker"
    if [ -d "$broker_dir/node_modules" ] && cmp -s tests/cluster/package-lock.json "$broker_dir/package-lock.json"; then
        return 0
    fi
    mkdir -p "$broker_dir"
    cp tests/cluster/package.json tests/cluster/package-lock.json "$broker_dir/"
    echo "cluster-test: npm ci in $broker_dir"
    (cd "$broker_dir" && npm ci --no-audit --no-fund --loglevel=error) || {
        rm -f "$broker_dir/package-lock.json"  # so that the next run tries again
        fail "npm ci failed"
    }
}

alive() { kill -0 "$1" 2>/dev/null; }

# Waits for a line in a log while the process writing it runs: one that died fails at once.
wait_for_line() {
    local seconds=$1 pid=$2 log=$3 line=$4
    local deadline=$((SECONDS + seconds))
    until grep -qF -- "$line" "$log"; do
        alive "$pid" || fail "$(basename "$log" .log) exited: $(tail -n 5 "$log")"
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for '$line' in $log"
        sleep 0.1
    done
}

start_cluster() {
    phase "cluster: redis-server and two aedes nodes"
    local port_redis
    port_redis=$(free_port)
    port_a=$(free_port)
    port_b=$(free_port)
    # No config file and nothing written to disk: the test's Redis lives and dies with the run.
    redis-server --port "$port_redis" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$work" --daemonize no >"$work/redis.log" 2>&1 &
    redis_pid=$!
    wait_for_line 10 "$redis_pid" "$work/redis.log" "Ready to accept connections"
    NODE_PATH="$broker_dir/node_modules" node tests/cluster/aedes-node.js a "$port_a" "$port_redis" \
        >"$work/node-a.log" 2>&1 &
    node_a_pid=$!
    NODE_PATH="$broker_dir/node_modules" node tests/cluster/aedes-node.js b "$port_b" "$port_redis" \
        >"$work/node-b.log" 2>&1 &
    node_b_pid=$!
    wait_for_line 20 "$node_a_pid" "$work/node-a.log" "listening on 127.0.0.1:$port_a"
    wait_for_line 20 "$node_b_pid" "$work/node-b.log" "listening on 127.0.0.1:$port_b"
    echo "   redis 127.0.0.1:$port_redis, node A 127.0.0.1:$port_a (agents), node B 127.0.0.1:$port_b (lucidctl)"
    phase_done
}

# One agent on the given node's port, its own data directory, the cluster's label.
start_agent() {
    local id=$1 port=$2
    mkdir -p "$work/$id"
    LUCID_ENV_FILE=/dev/null LUCID_DATA_DIR="$work/$id" LUCID_AGENT_ID="$id" \
        LUCID_MQTT_URL="mqtt://127.0.0.1:$port" LUCID_LABELS="$selector" \
        LUCID_LEGACY_REGISTRY="$work/$id/no-legacy-registry.json" LUCID_SUPERVISED=no \
        "$agent_bin" run >>"$work/$id.log" 2>&1 &
    agent_pids[$id]=$!
}

# SIGTERM, as a maintenance stop: the agent leaves its persistent session behind.
stop_agent() {
    local id=$1 code=0
    kill -TERM "${agent_pids[$id]}"
    wait "${agent_pids[$id]}" || code=$?
    unset "agent_pids[$id]"
    [ "$code" -eq 0 ] || { failing_agent=$id; fail "$id exited $code on SIGTERM"; }
}

# Whether `lucidctl agents` on node B shows every agent online; the table is kept to be shown.
all_online() {
    ctl --timeout 5 agents --select "$selector" >"$work/agents.txt" 2>&1 || return 1
    [ "$(awk '$2 == "online"' "$work/agents.txt" | wc -l)" -eq "$agent_count" ]
}
agent_offline() { ctl --timeout 5 agents --select "$selector" 2>/dev/null | grep -Eq "^$1 +offline "; }

start_agents() {
    phase "agents on node A, listed from node B"
    local id
    for id in "${agent_ids[@]}"; do start_agent "$id" "$port_a"; done
    wait_for 60 "every agent online in 'lucidctl agents' on node B" all_online
    cat "$work/agents.txt"
    pass "lucidctl agents --select $selector on node B lists all $agent_count agents of node A online"
    phase_done
}

runs_component() {
    ctl --agent "$1" --timeout 5 plugin list 2>/dev/null | grep -Eq "^$2 +[^ ]+ +1[.]0[.]0 +running"
}

# Runs a rollout from node B; its output goes to $work/$1.out and its exit code to rollout_code.
run_rollout() {
    local name=$1
    shift
    rollout_code=0
    ctl rollout start "$@" >"$work/$name.out" 2>&1 || rollout_code=$?
    cat "$work/$name.out"
}

# Every agent but the one stopped on purpose is online and has published its status and
# core/metadata: one the rollout calls offline, or skips for an unknown platform (the rollout
# still exits 0 then), means lucidctl did not read every retained message of the broker.
saw_every_agent() {
    local name=$1 stopped=${2:-} line
    line=$(grep -E "^  [^ ]+ (skipped: |offline, )" "$work/$name.out" | grep -vF "  $stopped offline, " | head -n 1) || true
    [ -z "$line" ] || fail "lucidctl on node B missed retained messages of an online agent: ${line#  }"
}

first_rollout() {
    phase "rollout of echo from node B"
    run_rollout rollout1 "$echo_so" --select "$selector" --canary 1 --batch 50% --timeout 60
    saw_every_agent rollout1
    [ "$rollout_code" -eq 0 ] || fail "rollout start exited $rollout_code (expected 0)"
    local id
    for id in "${agent_ids[@]}"; do
        runs_component "$id" echo || { failing_agent=$id; fail "$id does not run echo 1.0.0"; }
    done
    pass "rollout start (broker artifact, retained desired documents) from node B converged all $agent_count agents of node A (exit 0)"
    phase_done
}

deployment_converged() {
    local out
    out=$(ctl --agent "$1" --timeout 5 --json desired status 2>/dev/null) || return 1
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if d.get("revision") == int(sys.argv[2]) and d.get("state") == "converged" else 1)
' "$out" "$2"
}

# The highest revision the rollout wrote to the agent, from the retained rollout state.
rollout_revision() {
    ctl --timeout 5 --json rollout status "$1" 2>/dev/null | python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["agents"][sys.argv[1]]["revision"])
' "$2"
}

stopped_agent_rollout() {
    phase "rollout with a stopped agent, which converges when it comes back"
    local late=${agent_ids[$((agent_count - 1))]}
    stop_agent "$late"
    wait_for 30 "$late offline in 'lucidctl agents' on node B" agent_offline "$late"
    # A short --timeout: it is also how long lucidctl waits for the pending agent at the end.
    run_rollout rollout2 "$cpu_so" --select "$selector" --canary 1 --batch 50% --timeout 15
    saw_every_agent rollout2 "$late"
    [ "$rollout_code" -eq 4 ] || fail "rollout start exited $rollout_code (expected 4, $late pending)"
    grep -q "still pending: $late" "$work/rollout2.out" || fail "the rollout does not list $late as still pending"
    local rollout_id
    rollout_id=$(sed -n 's/^rollout \([a-z0-9-]*\): .*/\1/p' "$work/rollout2.out" | head -n 1)
    [ -n "$rollout_id" ] || fail "no rollout id in the output"
    pass "rollout start from node B with $late stopped exits 4 and lists it pending"
    local revision
    revision=$(rollout_revision "$rollout_id" "$late") || fail "no revision for $late in rollout status $rollout_id"
    start_agent "$late" "$port_a"
    wait_for 60 "$late to converge on revision $revision" deployment_converged "$late" "$revision"
    runs_component "$late" cpu || { failing_agent=$late; fail "$late does not run cpu 1.0.0"; }
    pass "$late back on node A applied its retained desired revision $revision (cpu 1.0.0) on its own"
    local out code=0
    out=$(ctl rollout resume "$rollout_id" --timeout 30 2>&1) || code=$?
    echo "$out"
    [ "$code" -eq 0 ] || fail "rollout resume $rollout_id exited $code (expected 0)"
    pass "rollout resume $rollout_id from node B finishes converged (exit 0)"
    phase_done
}

# The watcher on node B is subscribed once a message published after its start comes back.
marker_seen() {
    mosquitto_pub -h 127.0.0.1 -p "$port_b" -q 1 -t "$1" -m '{}' && grep -q cluster_marker "$work/answers.txt"
}

# Commands published on node B (QoS 1) while the agent is stopped wait in its persistent session
# in Redis; it comes back on node B, not A, so the session has to move between the nodes.
offline_commands() {
    phase "commands queued while an agent is stopped, answered when it is back"
    local id=${agent_ids[$((agent_count - 2))]}
    local base="lucid/agents/$id"
    mosquitto_sub -h 127.0.0.1 -p "$port_b" -q 1 -v -t "$base/components/echo/evt/#" \
        -t "$base/core/evt/ping_result" >"$work/answers.txt" 2>&1 &
    sub_pid=$!
    wait_for 10 "the watcher to subscribe on node B" marker_seen "$base/components/echo/evt/cluster_marker"
    stop_agent "$id"
    mosquitto_pub -h 127.0.0.1 -p "$port_b" -q 1 -t "$base/core/cmd/ping" \
        -m '{"request_id":"cluster-ping"}' || fail "mosquitto_pub ping"
    mosquitto_pub -h 127.0.0.1 -p "$port_b" -q 1 -t "$base/components/echo/cmd/echo" \
        -m '{"request_id":"cluster-echo","text":"queued"}' || fail "mosquitto_pub echo"
    start_agent "$id" "$port_b"
    failing_agent=$id
    wait_for 60 "the answer to the queued ping" grep -q '"request_id":"cluster-ping","ok":true' "$work/answers.txt"
    wait_for 60 "the answer to the queued echo" grep -q '"request_id":"cluster-echo","ok":true' "$work/answers.txt"
    failing_agent=""
    kill "$sub_pid" 2>/dev/null || true
    wait "$sub_pid" 2>/dev/null || true
    sub_pid=""
    pass "a ping and a plugin command sent from node B while $id was stopped were answered when it came back (on node B)"
    wait_for 30 "every agent online again" all_online
    pass "all $agent_count agents online at the end"
    phase_done
}

main() {
    check_prerequisites
    start_cluster
    start_agents
    first_rollout
    stopped_agent_rollout
    offline_commands
    echo "cluster-test: OK, every claim passed (total ${SECONDS}s)"
}

main "$@"
