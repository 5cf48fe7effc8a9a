# Sourced by the scripts that drive real processes (operator-smoke.sh, cluster-test.sh).
# wait_for SECONDS WHAT CMD...: runs CMD until it succeeds or SECONDS pass, then calls the
# caller's `fail` with WHAT: waits on the event itself, not a fixed delay.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for $what"
        sleep 0.1
    done
}
