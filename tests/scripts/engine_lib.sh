# engine_lib.sh - what the shell tests that run a bourse-engine share. Sourced
# after ENGINE, CLI, INST and TMP are set (and DATA for write_engine_ini); the
# engine's stderr goes to $TMP/engine.log; the caller counts failures from
# failures=0.
#
# No test here waits a fixed time for something to happen: it waits for the
# event (a log line, a seq, a file), polling inside a bounded wait whose
# deadline is generous (a sanitizer build on a loaded machine is slow), or it
# makes the state it needs happen (`bourse snapshot`, load until the journal
# has the files it needs).

# write_engine_ini [MAX_ORDERS]: writes $TMP/engine.ini, the engine and
# matcher settings these tests share (a backoff idle, small rings and pools,
# max_orders 65536 unless given, data under $DATA), then what the caller gives
# on standard input: lines before its first section header add to [matcher].
write_engine_ini() {
    {
        cat <<EOF2
[engine]
instance = $INST
data_dir = $DATA
idle = backoff
idle_sleep_max_us = 200
ring_capacity = 1024
[matcher]
max_orders = ${1:-65536}
max_accounts = 16
max_assets = 4
max_instruments = 4
EOF2
        cat
    } >"$TMP/engine.ini"
}

ok() { echo "ok   $1"; }
fail() {
    echo "FAIL $1: $2"
    failures=$((failures + 1))
}

# wait_until SECONDS CMD...: runs CMD every 50 ms until it succeeds (0) or
# SECONDS have passed (1). The deadline only bounds a wait that ends at its
# event; it is no measure of how long the event should take.
wait_until() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# alive PID: the process runs. A child that died but was not waited for yet is
# a zombie, which kill -0 still finds: read its state instead.
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) [ZX] ' "/proc/$1/stat" 2>/dev/null; }
gone() { ! alive "$1"; }

# How long an engine may take to come up: it recovers its whole journal first.
ENGINE_START_S=${ENGINE_START_S:-180}

engine_started() {
    "$CLI" -i "$INST" status 2>/dev/null | grep -q "pid $engine_pid, running" || gone "$engine_pid"
}

# start_engine [ARGS...]: starts the engine in the background (engine_pid),
# with -c $TMP/engine.ini unless given other arguments, and waits until the
# CLI sees it running; returns 1 when it dies or does not come up.
start_engine() {
    [ $# -gt 0 ] || set -- -c "$TMP/engine.ini"
    "$ENGINE" "$@" 2>>"$TMP/engine.log" &
    engine_pid=$!
    wait_until "$ENGINE_START_S" engine_started
    "$CLI" -i "$INST" status 2>/dev/null | grep -q "pid $engine_pid, running"
}

send() { "$CLI" -i "$INST" send "$@" >/dev/null; }

# BTC (1), USD (2), fee tier 0, BTC-USD (1), and accounts 1 to 8 funded in
# both assets: the book the load generator trades on.
add_reference_data() {
    send add-asset asset=1 name=BTC decimals=8
    send add-asset asset=2 name=USD decimals=2
    send define-fee-tier tier=0 maker_bps=10 taker_bps=20
    send add-instrument instrument=1 symbol=BTC-USD base=1 quote=2 tick_size=100 lot_size=1000000 \
        min_qty=1000000 max_qty=10000000000 ref_price=100000 band_bps=5000
    for a in 1 2 3 4 5 6 7 8; do
        send add-account account=$a
        send deposit account=$a asset=1 amount=100000000000
        send deposit account=$a asset=2 amount=100000000000
    done
}

# The digest the engine reports now, and the seq of that query: "SEQ DIGEST".
engine_digest() {
    "$CLI" -i "$INST" send query-digest | sed -n 's/.*"cmd_seq":\([0-9]*\).*"digest":\([0-9]*\).*/\1 \2/p'
}

# snapshot_since LINE SEQ: prints the seq of the first snapshot at SEQ or later
# that the engine log reports written after its first LINE lines; returns 1
# when there is none (yet). The log spans every engine this test ran.
snapshot_since() {
    tail -n +"$(($1 + 1))" "$TMP/engine.log" | sed -n 's/.*snapshot at seq \([0-9]*\) written.*/\1/p' |
        awk -v s="$2" '$1 >= s { print; found = 1; exit } END { exit !found }'
}

# Asks for a snapshot (bourse snapshot) and waits until the engine logs it
# written; prints its seq. A request that comes while a timer snapshot is
# being written is dropped by the engine; the next timer snapshot, at a later
# seq, then stands for it.
snapshot_now() {
    local from seq
    from=$(wc -l <"$TMP/engine.log")
    seq=$("$CLI" -i "$INST" snapshot | sed -n 's/.*"cmd_seq":\([0-9]*\).*/\1/p' | head -1)
    [ -n "$seq" ] && wait_until 120 snapshot_since "$from" "$seq" >/dev/null && snapshot_since "$from" "$seq"
}
