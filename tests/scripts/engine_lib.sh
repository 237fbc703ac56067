# engine_lib.sh - what the shell tests that run a bourse-engine on a config
# file share. Sourced after ENGINE, CLI, INST, TMP and DATA are set; the config
# is $TMP/engine.ini (write_engine_ini), the engine's stderr goes to $TMP/engine.log; the caller
# counts failures from failures=0.

# Writes $TMP/engine.ini: the engine and matcher settings these tests share (a
# backoff idle, small rings and pools, data under $DATA), then the sections the
# caller gives on standard input.
write_engine_ini() {
    {
        cat <<EOF
[engine]
instance = $INST
data_dir = $DATA
idle = backoff
idle_sleep_max_us = 200
ring_capacity = 1024
[matcher]
max_orders = 65536
max_accounts = 16
max_assets = 4
max_instruments = 4
EOF
        cat
    } >"$TMP/engine.ini"
}

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
