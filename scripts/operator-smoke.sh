#!/usr/bin/env bash
# The operator's path, end to end, as a person would walk it (issue 13): install the service
# into a staging root, run the agent as the unit's unprivileged user with the unit's environment
# against a real mosquitto, drive it with lucidctl, reload it with SIGHUP, and set up signatures
# from nothing with lucidctl key generate and sign before a signed install. Exits non-zero with
# a message at the first step that fails. scripts/test.sh runs it after the test suite (so CI does).
#
#   scripts/operator-smoke.sh [BUILD_DIR]     (default: $LUCID_BUILD_DIR or build)
#
# Needs root (it stages directories for the service user and runs setpriv); without root it
# re-runs itself with `sudo -n`. Each step is one function, called in order from main: the
# service install, a crashing plugin dropped in, a maintenance restart with commands in flight,
# signatures, lucidctl against the stopped agent.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${1:-${LUCID_BUILD_DIR:-build}}
build_dir=$(cd "$build_dir" 2>/dev/null && pwd) || { echo "operator-smoke: FAILED: no build directory ${1:-${LUCID_BUILD_DIR:-build}} (run scripts/test.sh first)" >&2; exit 1; }
agent_bin="$build_dir/host/lucid-agent"
ctl_bin="$build_dir/lucidctl/lucidctl"
agent_id=smoke
work=""
root=""
key_id=""
signed_so=""
broker_pid=""
agent_pid=""
sub_pid=""
step_name="start"

fail() {
    echo "operator-smoke: FAILED at '$step_name': $*" >&2
    if [ -n "$work" ] && [ -f "$work/agent.log" ]; then
        echo "---- last lines of the agent's log ----" >&2
        tail -n 30 "$work/agent.log" >&2
    fi
    exit 1
}

step() {
    step_name=$1
    echo "== $1"
}

cleanup() {
    [ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null || true
    [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null || true
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    [ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT

# wait_for SECONDS WHAT CMD...
. scripts/lib/wait_for.sh

ctl() {
    LUCID_ENV_FILE=/dev/null "$ctl_bin" --url "mqtt://127.0.0.1:$port" --agent "$agent_id" "$@"
}

log_has() { grep -qF -- "$1" "$work/agent.log"; }

require_root() {
    [ "$(id -u)" -eq 0 ] && return 0
    command -v sudo >/dev/null || fail "needs root (or sudo) to run the agent as the service user"
    exec sudo -n -E "$0" "$build_dir"
}

check_prerequisites() {
    step "prerequisites"
    scripts/setup.sh
    for tool in setpriv openssl mosquitto systemd-analyze base64 python3; do
        command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || fail "$tool is missing"
    done
    [ -x "$agent_bin" ] && [ -x "$ctl_bin" ] || fail "no lucid-agent/lucidctl in $build_dir (build first)"
    echo_so=$({ find "$build_dir/plugins/echo" -name 'lucid_agent_echo-*.so' 2>/dev/null || true; } | head -n 1)
    [ -n "$echo_so" ] || fail "no echo plugin built in $build_dir/plugins/echo"
    work=$(mktemp -d /tmp/lucid-smoke.XXXXXX)
    chmod 0755 "$work"  # the service user must reach the staging root inside
    root="$work/root"
}

start_broker() {
    step "a real mosquitto on loopback"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\npersistence false\n' \
        "$port" >"$work/mosquitto.conf"
    mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    "$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
    broker_pid=$!
    wait_for 10 "the broker to accept connections" python3 -c \
        "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)"
}

install_service() {
    step "install-service --root (a staging root)"
    "$agent_bin" install-service --root "$root" >"$work/install.log" 2>&1 \
        || fail "install-service failed: $(cat "$work/install.log")"
    unit="$root/etc/systemd/system/lucid-agent.service"
    [ -f "$unit" ] || fail "no unit written at $unit"
    [ "$(stat -c %a "$root/etc/lucid/agent.env")" = 640 ] || fail "the env file is not 0640"
    SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$unit" >"$work/verify.log" 2>&1 \
        || fail "systemd-analyze verify: $(cat "$work/verify.log")"
    ! grep -q "lucid-agent.service" "$work/verify.log" \
        || fail "systemd-analyze warns: $(cat "$work/verify.log")"
}

configure_broker() {
    step "the operator edits the env file"
    cat >"$root/etc/lucid/agent.env" <<ENV
LUCID_MQTT_URL=mqtt://127.0.0.1:$port   # the site broker
LUCID_AGENT_ID=$agent_id
ENV
    chmod 0640 "$root/etc/lucid/agent.env"
}

# What systemd does before ExecStartPre=: RuntimeDirectory= (0700) and StateDirectory= (0750),
# owned by the service's user.
prepare_service_dirs() {
    mkdir -p "$root/run/lucid" "$root/var/lib/lucid"
    chown nobody:nogroup "$root/run/lucid" "$root/var/lib/lucid"
    chmod 0700 "$root/run/lucid"
    chmod 0750 "$root/var/lib/lucid"
}

# The unit's privileged ExecStartPre=/ExecReload=: the service user's copy of the env file.
stage_env_file() {
    "$agent_bin" stage-env-file "$root/etc/lucid/agent.env" "$root/run/lucid/agent.env" \
        || fail "stage-env-file failed"
}

# ExecStart= as the unit runs it: its Environment= (paths moved into the staging root), its
# UMask=, the unprivileged user.
start_agent_as_service_user() {
    step "start the agent as the service user (setpriv nobody)"
    prepare_service_dirs
    launch_agent
    wait_for 30 "the agent to answer ping" ctl --timeout 1 ping
    [ "$(stat -c %U "$root/var/lib/lucid/session")" = nobody ] \
        || fail "{data} is not written by the service user"
}

# One start of ExecStartPre= and ExecStart=, as systemd does at every (re)start; the log is
# appended to, as the journal would be.
launch_agent() {
    stage_env_file
    local -a unit_env=()
    while IFS= read -r assignment; do
        case "$assignment" in
            LUCID_ENV_FILE=/* | LUCID_DATA_DIR=/*) assignment="${assignment%%=*}=$root${assignment#*=}" ;;
        esac
        unit_env+=("$assignment")
    done < <(sed -n 's/^Environment=//p' "$unit")
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${unit_env[@]}" \
        sh -c 'umask 0027 && exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"' \
        sh "$agent_bin" run >>"$work/agent.log" 2>&1 &
    agent_pid=$!
}

# Restart=on-failure: the next start after the agent went down.
restart_agent() {
    launch_agent
    wait_for 30 "the agent to answer ping again" ctl --timeout 1 ping
}

quarantined() { ctl plugin info "$1" 2>&1 | grep -q "crashed: SIGABRT in start"; }

# A plugin whose start() aborts, copied into the drop-in directory as the README says: the agent
# goes down once, comes back online at the next start with the plugin quarantined, and leaves the
# file where it is without loading it again.
crashing_dropin() {
    step "a crashing plugin dropped into plugins.d"
    local dropins="$root/var/lib/lucid/plugins.d"
    local crash_so
    crash_so=$({ find "$build_dir/tests/integration/plugins" -name 'lucid_itest_crash-1.0.0-*.so' \
        2>/dev/null || true; } | head -n 1)
    [ -n "$crash_so" ] || fail "no crash-in-start test plugin built in $build_dir"
    cp "$crash_so" "$dropins/.crash.so.part"
    mv "$dropins/.crash.so.part" "$dropins/$(basename "$crash_so")"
    local code=0
    timeout 60 tail --pid="$agent_pid" -f /dev/null || fail "the agent did not go down"
    wait "$agent_pid" || code=$?
    agent_pid=""
    [ "$code" -ne 0 ] || fail "the agent exited 0 although the plugin aborted it"
    echo "   the agent went down as expected (exit $code); systemd would start it again"
    restart_agent
    local deadline=$((SECONDS + 30))
    until quarantined crash; do
        [ "$SECONDS" -lt "$deadline" ] || fail "plugin info crash: $(ctl plugin info crash 2>&1) $(mosquitto_sub -p $port -v -W 2 -t "lucid/agents/smoke/components/#" 2>&1)"
        sleep 0.1
    done
    [ -f "$dropins/$(basename "$crash_so")" ] || fail "the drop-in file was removed"
    kill -0 "$agent_pid" 2>/dev/null || fail "the agent died again at its second start"
    ctl plugin uninstall crash >/dev/null 2>&1 || fail "could not uninstall the quarantined plugin"
}

# The watcher is subscribed once a message published after its start comes back to it.
marker_seen() {
    mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$1" -m '{}' && grep -q smoke_marker "$work/answers.txt"
}

# Commands published while the agent is down for maintenance (SIGTERM, start again) are all
# answered once it is back: a plugin's command and a core one.
maintenance_restart() {
    step "a maintenance restart with commands in flight"
    local out
    out=$(ctl plugin install "$echo_so" 2>&1) || fail "install echo: $out"
    local base="lucid/agents/$agent_id"
    mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -v -t "$base/components/echo/evt/#" \
        -t "$base/core/evt/ping_result" >"$work/answers.txt" 2>&1 &
    sub_pid=$!
    wait_for 10 "the watcher to subscribe" marker_seen "$base/components/echo/evt/smoke_marker"
    kill -TERM "$agent_pid"
    wait "$agent_pid" || fail "SIGTERM: the agent exited with $?"
    agent_pid=""
    mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$base/components/echo/cmd/echo" \
        -m '{"request_id":"smoke-echo","text":"in flight"}' || fail "mosquitto_pub echo"
    mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$base/core/cmd/ping" \
        -m '{"request_id":"smoke-ping"}' || fail "mosquitto_pub ping"
    restart_agent
    wait_for 30 "the plugin command's answer" grep -q '"request_id":"smoke-echo"' "$work/answers.txt"
    wait_for 30 "the core command's answer" grep -q '"request_id":"smoke-ping"' "$work/answers.txt"
    kill "$sub_pid" 2>/dev/null || true
    sub_pid=""
    ctl plugin uninstall echo >/dev/null 2>&1 || fail "could not uninstall echo"
}

# lucidctl against the stopped agent: says offline at once (exit 3) instead of waiting, and
# still lists what is installed from the registry on disk.
offline_lucidctl() {
    step "lucidctl against the stopped agent"
    local out code=0
    out=$(ctl --timeout 30 ping 2>&1) || code=$?
    [ "$code" -eq 3 ] || fail "ping of the stopped agent exited $code: $out"
    grep -q offline <<<"$out" || fail "ping does not say offline: $out"
    out=$(ctl status 2>&1) || true
    grep -q offline <<<"$out" || fail "status does not say offline: $out"
    out=$(LUCID_ENV_FILE=/dev/null "$ctl_bin" --url mqtt://127.0.0.1:1 --timeout 1 \
        --data-dir "$root/var/lib/lucid" plugin list 2>&1) || fail "offline plugin list: $out"
    grep -Eq 'echo +lucid-agent-echo +1[.]0[.]0' <<<"$out" || fail "offline list lacks echo: $out"
}

operator_commands() {
    step "lucidctl status and ping"
    ctl status >"$work/status.txt" 2>&1 || fail "lucidctl status: $(cat "$work/status.txt")"
    grep -q online "$work/status.txt" || fail "status does not say online: $(cat "$work/status.txt")"
    ctl ping >/dev/null || fail "lucidctl ping failed"
}

# A signing key from nothing, as the README ("Signing artifacts") tells an operator: lucidctl key
# generate, the public key into the device's trusted keys, lucidctl sign beside the artifact.
make_signing_key() {
    step "signatures from nothing with lucidctl key generate and sign"
    local out
    mkdir -p "$root/etc/lucid/trusted-keys" "$work/keys"
    out=$(cd "$work/keys" && LUCID_ENV_FILE=/dev/null "$ctl_bin" key generate release 2>&1) \
        || fail "lucidctl key generate: $out"
    key_id=$(sed -n 's/^key id //p' <<<"$out")
    [ -n "$key_id" ] || fail "lucidctl key generate printed no key id: $out"
    [ "$(stat -c %a "$work/keys/release.key")" = 600 ] || fail "release.key is not mode 0600"
    cp "$work/keys/release.pem" "$root/etc/lucid/trusted-keys/release.pem"
    chmod 0755 "$root/etc/lucid/trusted-keys"
    chmod 0644 "$root/etc/lucid/trusted-keys/release.pem"
    signed_so="$work/$(basename "$echo_so")"
    cp "$echo_so" "$signed_so"
    out=$(ctl sign "$signed_so" --key "$work/keys/release.key" 2>&1) || fail "lucidctl sign: $out"
    grep -q '"format":"lucid-sig-1"' "$signed_so.sig" || fail "no lucid-sig-1 line in $signed_so.sig"
}

reload_requiring_signatures() {
    step "SIGHUP: require signatures (systemctl reload)"
    cat >>"$root/etc/lucid/agent.env" <<ENV
LUCID_TRUSTED_KEYS_DIR=$root/etc/lucid/trusted-keys
LUCID_SIGNATURE_POLICY=required
ENV
    stage_env_file
    kill -HUP "$agent_pid"
    wait_for 10 "the reload to apply" log_has "signature_policy required;"
    log_has "trusted keys 1 from $root/etc/lucid/trusted-keys (release.pem $key_id)" \
        || fail "the reload did not load release.pem"
    kill -0 "$agent_pid" 2>/dev/null || fail "the agent died on SIGHUP"
    ctl ping >/dev/null || fail "no ping after the reload"
}

signed_install() {
    step "unsigned install refused, signed install accepted"
    local out
    if out=$(ctl plugin install "$echo_so" 2>&1); then
        fail "an unsigned install was accepted under signature_policy required: $out"
    fi
    grep -q "signature required" <<<"$out" || fail "unexpected refusal: $out"
    out=$(ctl verify "$signed_so" --keys "$root/etc/lucid/trusted-keys" 2>&1) \
        || fail "lucidctl verify: $out"
    grep -qF "signed by key $key_id (release.pem" <<<"$out" || fail "verify names no key: $out"
    out=$(ctl plugin install "$signed_so" 2>&1) || fail "the signed install failed: $out"
    ctl plugin list >"$work/list.txt" 2>&1 || fail "plugin list: $(cat "$work/list.txt")"
    grep -Eq 'echo +lucid-agent-echo +1[.]0[.]0 +running' "$work/list.txt" \
        || fail "echo is not running: $(cat "$work/list.txt")"
}

stop_agent() {
    step "SIGTERM: a clean stop"
    kill -TERM "$agent_pid"
    local code=0
    wait "$agent_pid" || code=$?
    agent_pid=""
    [ "$code" -eq 0 ] || fail "the agent exited with $code"
}

main() {
    require_root
    check_prerequisites
    start_broker
    install_service
    configure_broker
    start_agent_as_service_user
    operator_commands
    crashing_dropin
    maintenance_restart
    make_signing_key
    reload_requiring_signatures
    signed_install
    stop_agent
    offline_lucidctl
    echo "operator-smoke: OK (${SECONDS}s)"
}

main "$@"
