#!/usr/bin/env bash
# test_ws.sh - bourse-ws against a real bourse-engine with real WebSocket
# clients (Node's `ws`, tests/gateways/node/ws_test.js): snapshot plus deltas
# equal the engine's query-book (and bourse-rest's depth), contiguous
# sequence numbers, a slow client closed with 4001 while a fast one gets
# everything, conflation, bad input of every kind, private channels with
# signatures, idle timeouts; then configuration errors, the page and
# /healthz, and an engine restart under a subscriber. With "browser": the
# live page in headless Chromium instead (tests/gateways/node/browser.js),
# which saves a screenshot into the build directory.
# usage: test_ws.sh BUILD_DIR SOURCE_DIR [browser]
set -u
BUILD=$1
SRC=$2
MODE=${3:-ws}
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
WS=$BUILD/gateways/ws/bourse-ws
REST=$BUILD/gateways/rest/bourse-rest
FLOW=$BUILD/tests/test-wsflow
INST="tws$$"
TMP=$(mktemp -d)
failures=0
pids=()
engine_pid=

cleanup() {
    for p in "${pids[@]}" $engine_pid; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$TMP" "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock"
}
trap cleanup EXIT

# ok, fail, wait_until, alive, start_engine (-c $TMP/engine.ini)
. "$SRC/tests/scripts/engine_lib.sh"

# --- the WebSocket client library: installed into the build directory once,
# under a lock (this script runs twice at a time: ws and ws-browser)
NODE_DIR=$BUILD/tests/gateways/node
"$SRC/tests/gateways/node/install.sh" "$NODE_DIR" >"$TMP/npm.log" 2>&1 ||
    { echo "FAIL npm_ci: $(tail -5 "$TMP/npm.log")"; exit 1; }
export NODE_PATH=$NODE_DIR/node_modules

cat >"$TMP/engine.ini" <<EOF2
[engine]
instance = $INST
data_dir = $TMP/data
idle = backoff
idle_sleep_max_us = 500
event_log_capacity = 16384
[matcher]
max_orders = 65536
max_accounts = 16
max_assets = 8
max_instruments = 8
[journal]
fsync = never
acks = fast
EOF2

# ws_ini FILE [key = value lines...]: a gateway config on an ephemeral port;
# the lines given replace the defaults of the same keys.
ws_ini() {
    local f=$1
    shift
    local defaults=("instance = $INST" "port = 0" "keystore = $TMP/keys" "master_key = $TMP/master" "idle = backoff"
                    "idle_sleep_max_us = 500" "queue_max_messages = 2000" "sndbuf_bytes = 16384"
                    "max_message_bytes = 4096" "max_subscriptions = 6" "msg_rate_per_s = 50" "msg_burst = 60"
                    "ping_interval_ms = 1000" "idle_timeout_ms = 4000" "close_timeout_ms = 30000")
    {
        echo "[ws]"
        for d in "${defaults[@]}"; do
            local k=${d%% =*} given=0
            for o in "$@"; do [ "${o%% =*}" = "$k" ] && given=1; done
            [ $given -eq 0 ] && echo "$d"
        done
        printf '%s\n' "$@"
    } >"$f"
}

# start_ws INI LOG: starts a gateway (a child of this shell); sets ws_started
# (its pid) and ws_port once it listens (empty when it died first).
ws_listens() {
    ws_port=$(sed -n 's/.*listening on 127.0.0.1 port \([0-9]*\) .*/\1/p' "$1" | tail -1)
    [ -n "$ws_port" ] || gone "$ws_started"
}
start_ws() {
    "$WS" -c "$1" 2>>"$2" &
    ws_started=$!
    pids+=("$ws_started")
    ws_port=
    wait_until 60 ws_listens "$2"
}

# health PORT: the HTTP status of /healthz.
health() { curl -s -m 5 -o "$TMP/health" -w '%{http_code}' "http://127.0.0.1:$1/healthz"; }
health_is() { [ "$(health "$1")" = "$2" ]; }
wait_health() { wait_until 60 health_is "$1" "$2"; }

send() { "$CLI" -i "$INST" send "$@" >/dev/null || echo "send $* failed" >&2; }

if [ "$MODE" = ws ]; then
    # --- configuration errors: one line naming file and line, exit 1
    printf '[ws]\nport = 1\nqueue_max_messages = 3\n' >"$TMP/bad.ini"
    out=$("$WS" -c "$TMP/bad.ini" 2>&1); rc=$?
    [ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -qF "$TMP/bad.ini:3: queue_max_messages: 3 is outside" \
        && ok bad_config_value_names_file_and_line || fail bad_config_value_names_file_and_line "exit $rc: $out"
    printf '[ws]\n[engine]\nidle = spin\n' >"$TMP/bad2.ini"
    out=$("$WS" -c "$TMP/bad2.ini" 2>&1); rc=$?
    [ $rc -eq 1 ] && echo "$out" | grep -qF "bad2.ini:3: unknown section [engine]" && ok unknown_section_is_refused \
        || fail unknown_section_is_refused "exit $rc: $out"
    printf '[ws]\nconflation = maybe\n' >"$TMP/bad3.ini"
    out=$("$WS" -c "$TMP/bad3.ini" 2>&1); rc=$?
    [ $rc -eq 1 ] && echo "$out" | grep -qF "bad3.ini:2: conflation: 'maybe' is not one of" && ok bad_bool_is_refused \
        || fail bad_bool_is_refused "exit $rc: $out"
    printf '[ws]\nping_interval_ms = 5000\nidle_timeout_ms = 1000\n' >"$TMP/bad4.ini"
    out=$("$WS" -c "$TMP/bad4.ini" 2>&1); rc=$?
    [ $rc -eq 1 ] && echo "$out" | grep -qF "ping_interval_ms (5000) must be below idle_timeout_ms" && ok ping_after_idle_is_refused \
        || fail ping_after_idle_is_refused "exit $rc: $out"
    out=$("$WS" -c "$TMP/none.ini" 2>&1); rc=$?
    [ $rc -eq 1 ] && echo "$out" | grep -qF "none.ini: No such file" && ok missing_config_is_named || fail missing_config_is_named "$out"
    out=$(BOURSE_WS_PORT=x "$WS" 2>&1); rc=$?
    [ $rc -eq 1 ] && echo "$out" | grep -qF "environment BOURSE_WS_PORT" && ok bad_env_override_is_named || fail bad_env_override_is_named "$out"
    ws_ini "$TMP/ws.ini"
    "$WS" -c "$TMP/ws.ini" --print-config | grep -q "^queue_max_messages = 2000$" && ok print_config_shows_values \
        || fail print_config_shows_values "no queue_max_messages"
fi

# --- keys for two accounts, from bourse-rest's key CLI (one store for both gateways)
printf '[rest]\ninstance = %s\nport = 0\nkeystore = %s\nmaster_key = %s\nidle = backoff\n' "$INST" "$TMP/keys" "$TMP/master" >"$TMP/rest.ini"
eval "$("$REST" -c "$TMP/rest.ini" keys create --role trader --account 1 2>/dev/null)"
K1=$BOURSE_KEY S1=$BOURSE_SECRET
eval "$("$REST" -c "$TMP/rest.ini" keys create --role read-only --account 2 2>/dev/null)"
K2=$BOURSE_KEY S2=$BOURSE_SECRET
[ -n "$K1" ] && [ -n "$K2" ] || fail keys_created "no keys"

# --- the gateway first: alive, not ready
ws_ini "$TMP/ws.ini"
start_ws "$TMP/ws.ini" "$TMP/ws.log"
ws_pid=$ws_started PORT=$ws_port
[ -n "$PORT" ] || { fail gateway_listens "$(cat "$TMP/ws.log")"; exit 1; }
if [ "$MODE" = ws ]; then
    [ "$(health "$PORT")" = 503 ] && grep -q '"ready":false' "$TMP/health" && ok healthz_503_without_engine \
        || fail healthz_503_without_engine "$(cat "$TMP/health")"
fi
start_engine || { fail engine_starts "$(cat "$TMP/engine.log")"; exit 1; }
wait_health "$PORT" 200 && ok gateway_attaches_and_becomes_ready || fail gateway_attaches_and_becomes_ready "$(tail -3 "$TMP/ws.log")"

# --- the market
send add-asset asset=1 name=BTC decimals=8
send add-asset asset=2 name=USD decimals=2
send add-asset asset=3 name=ETH decimals=8
send define-fee-tier tier=0 maker_bps=10 taker_bps=20
send add-instrument instrument=1 symbol=BTC-USD base=1 quote=2 tick_size=100 lot_size=1000000 \
    min_qty=1000000 max_qty=10000000000 ref_price=6000000 band_bps=2000
send add-instrument instrument=2 symbol=ETH-USD base=3 quote=2 tick_size=100 lot_size=1000000 \
    min_qty=1000000 max_qty=10000000000 ref_price=300000 band_bps=2000
for a in 1 2 3; do
    send add-account account=$a
    send deposit account=$a asset=1 amount=100000000000
    send deposit account=$a asset=2 amount=100000000000
    send deposit account=$a asset=3 amount=100000000000
done
send new-order account=3 instrument=1 side=buy price=5990000 qty=3000000
send new-order account=3 instrument=1 side=sell price=6010000 qty=4000000
# The gateway learns the new instruments from the admin events, then builds
# their books: wait until it lists both, built (its /healthz said ready
# before it knew of them).
node "$SRC/tests/gateways/node/ws_ready.js" "$PORT" BTC-USD ETH-USD >"$TMP/ready.out" 2>&1 ||
    fail gateway_builds_the_new_books "$(cat "$TMP/ready.out")"

if [ "$MODE" = browser ]; then
    out=$(cd "$NODE_DIR" && node "$SRC/tests/gateways/node/browser.js" "http://127.0.0.1:$PORT" "$CLI" "$INST" \
        "$BUILD/ws-live-page.png" 2>&1)
    rc=$?
    echo "$out"
    [ $rc -eq 0 ] || failures=$((failures + 1))
    [ "$failures" -eq 0 ]
    exit
fi

# --- the page and plain HTTP
code=$(curl -s -o "$TMP/page" -w '%{http_code} %{content_type}' "http://127.0.0.1:$PORT/")
[ "$code" = "200 text/html; charset=utf-8" ] && grep -q "BOURSE" "$TMP/page" && grep -q 'new WebSocket' "$TMP/page" \
    && ok page_is_served_at_root || fail page_is_served_at_root "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
[ "$code" = 404 ] && ok unknown_path_is_404 || fail unknown_path_is_404 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "http://127.0.0.1:$PORT/ws")
[ "$code" = 405 ] && ok post_is_405 || fail post_is_405 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
    -H 'Sec-WebSocket-Version: 8' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "http://127.0.0.1:$PORT/ws")
[ "$code" = 426 ] && ok other_websocket_version_is_426 || fail other_websocket_version_is_426 "$code"
code=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1; printf "GARBAGE\r\n\r\n" >&3; head -1 <&3' _ "$PORT" 2>/dev/null)
case $code in *400*) ok garbage_request_is_400 ;; *) fail garbage_request_is_400 "'$code'" ;; esac

# --- a conflating gateway beside it, and bourse-rest for its depth endpoint
ws_ini "$TMP/wsc.ini" "conflation = true" "conflation_interval_ms = 50" "queue_max_messages = 8192" "sndbuf_bytes = 0"
start_ws "$TMP/wsc.ini" "$TMP/wsc.log"
wsc_pid=$ws_started PORTC=${ws_port:-0}
"$REST" -c "$TMP/rest.ini" 2>>"$TMP/rest.log" &
pids+=($!)
RPORT=
rest_ready() {
    RPORT=$(sed -n 's/.*listening on 127.0.0.1 port \([0-9]*\).*/\1/p' "$TMP/rest.log" | tail -1)
    [ -n "$RPORT" ] && curl -s "http://127.0.0.1:$RPORT/readyz" | grep -q '"ready":true'
}
wait_until 60 rest_ready || fail rest_gateway_ready "$(tail -3 "$TMP/rest.log")"
wait_health "$PORTC" 200 || fail conflated_gateway_ready "$(tail -2 "$TMP/wsc.log")"

cat >"$TMP/env.json" <<EOF2
{"port": $PORT, "port_conflated": $PORTC, "cli": "$CLI", "flow": "$FLOW", "instance": "$INST",
 "flow_count": ${BOURSE_WS_FLOW_COUNT:-6000}, "flow_rate": ${BOURSE_WS_FLOW_RATE:-3000}, "idle_ms": 4000,
 "rest_url": "${RPORT:+http://127.0.0.1:$RPORT}",
 "keys": {"acct1": {"key": "$K1", "secret": "$S1"}, "acct2": {"key": "$K2", "secret": "$S2"}}}
EOF2
(cd "$NODE_DIR" && node "$SRC/tests/gateways/node/ws_test.js" "$TMP/env.json") 2>&1 | tee "$TMP/node.out"
failures=$((failures + $(grep -c '^FAIL' "$TMP/node.out")))
grep -q '^ok   fast_client_survived_everything' "$TMP/node.out" || fail node_tests_completed "see above"
grep -q 'send queue overflow' "$TMP/ws.log" && ok overflow_is_logged || fail overflow_is_logged "$(tail -3 "$TMP/ws.log")"
[ "$(health "$PORT")" = 200 ] && ok gateway_up_after_everything || fail gateway_up_after_everything "$(tail -3 "$TMP/ws.log")"

# --- the engine restarts under a subscriber: the gateway reattaches and sends a fresh snapshot
(cd "$NODE_DIR" && exec node "$SRC/tests/gateways/node/ws_test.js" "$TMP/env.json" watch >"$TMP/watch.out" 2>&1) &
watch_pid=$!
pids+=("$watch_pid")
wait_until 60 grep -q '"type":"snapshot"' "$TMP/watch.out" || fail watcher_gets_a_snapshot "$(cat "$TMP/watch.out")"

# --- the gateway lapped by the engine (stopped while the log wraps): it resyncs and rebuilds its books
snaps() { grep -c '"type":"snapshot"' "$TMP/watch.out"; }
snaps_grew() { [ "$(snaps)" -gt "$before" ]; }
# The gateway's reader lag, from bourse status: past the event log's 16384
# records, it has been lapped.
reader_lag() { "$CLI" -i "$INST" status | awk -v p="$1" '/^event log/ { e = 1; next } e && $3 == p { print $6 }'; }
lap_flow() {
    "$FLOW" "$INST" 1 6000 20000 $((11 + lap_try++)) >>"$TMP/lapflow.out" 2>&1 ||
        { fail lap_flow_runs "$(tail -3 "$TMP/lapflow.out")"; return 0; }
    [ "$(reader_lag "$ws_pid")" -gt 16384 ]
}
before=$(snaps)
kill -STOP "$ws_pid"
lap_try=0
wait_until 300 lap_flow || fail gateway_is_lapped "lag $(reader_lag "$ws_pid")"
kill -CONT "$ws_pid"
wait_until 60 snaps_grew
grep -q "event log lapped this gateway" "$TMP/ws.log" && ok lap_is_noticed_and_logged || fail lap_is_noticed_and_logged "$(tail -3 "$TMP/ws.log")"
[ "$(snaps)" -gt "$before" ] && ok lapped_gateway_sends_subscribers_a_fresh_snapshot \
    || fail lapped_gateway_sends_subscribers_a_fresh_snapshot "$(tail -c 300 "$TMP/watch.out")"
wait_health "$PORT" 200 && ok gateway_ready_again_after_the_lap || fail gateway_ready_again_after_the_lap "$(cat "$TMP/health")"

before=$(snaps)
kill -9 "$engine_pid"; wait "$engine_pid" 2>/dev/null; engine_pid=
wait_health "$PORT" 503 && ok engine_death_makes_gateway_unready || fail engine_death_makes_gateway_unready "$(cat "$TMP/health")"
start_engine || fail engine_restarts "$(tail -3 "$TMP/engine.log")"
send new-order account=3 instrument=1 side=buy price=5900000 qty=1000000
wait_health "$PORT" 200 && ok gateway_reattaches_after_engine_restart || fail gateway_reattaches_after_engine_restart "$(tail -3 "$TMP/ws.log")"
wait_until 60 snaps_grew
[ "$(snaps)" -gt "$before" ] && ok subscriber_gets_a_fresh_snapshot_after_restart \
    || fail subscriber_gets_a_fresh_snapshot_after_restart "$(tail -c 300 "$TMP/watch.out")"
grep -q "detached, attaching again" "$TMP/ws.log" && ok detach_is_logged || fail detach_is_logged "$(tail -3 "$TMP/ws.log")"

# --- clean stop: clients get 1001
kill -INT "$ws_pid"
wait "$ws_pid"
rc=$?
[ $rc -eq 0 ] && ok sigint_stops_gateway_cleanly || fail sigint_stops_gateway_cleanly "exit $rc"
wait_until 60 grep -q '"type":"closed"' "$TMP/watch.out"
grep -q '"type":"closed","code":1001' "$TMP/watch.out" && ok shutdown_closes_clients_with_1001 \
    || fail shutdown_closes_clients_with_1001 "$(tail -c 200 "$TMP/watch.out")"

kill -INT "$wsc_pid"
wait "$wsc_pid"
# sanitizer builds: the gateways' own reports (leaks are reported at exit)
if grep -qE "Sanitizer|runtime error" "$TMP/ws.log" "$TMP/wsc.log"; then
    fail gateways_exit_clean_under_sanitizers "$(grep -hE -A5 "Sanitizer|runtime error" "$TMP/ws.log" "$TMP/wsc.log" | head -20)"
else
    ok gateways_exit_clean_under_sanitizers
fi
[ "$failures" -eq 0 ]
