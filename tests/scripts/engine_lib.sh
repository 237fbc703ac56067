# engine_lib.sh - what the shell tests that run a bourse-engine on a config
# file share. Sourced after ENGINE, CLI, INST and TMP are set; the config is
# $TMP/engine.ini, the engine's stderr goes to $TMP/engine.log; the caller
# counts failures from failures=0.

ok() { echo "ok   $1"; }
fail() {
    echo "FAIL $1: $2"
    failures=$((failures + 1))
}

# Starts the engine in the background (engine_pid) and waits until the CLI
# sees it running; returns 1 when it dies or does not come up in 20 s.
start_engine() {
    "$ENGINE" -c "$TMP/engine.ini" 2>>"$TMP/engine.log" &
    engine_pid=$!
    for _ in $(seq 400); do
        "$CLI" -i "$INST" status 2>/dev/null | grep -q "pid $engine_pid, running" && return 0
        kill -0 "$engine_pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

send() { "$CLI" -i "$INST" send "$@" >/dev/null; }

# The digest the engine reports now, and the seq of that query: "SEQ DIGEST".
engine_digest() {
    "$CLI" -i "$INST" send query-digest | sed -n 's/.*"cmd_seq":\([0-9]*\).*"digest":\([0-9]*\).*/\1 \2/p'
}
