#!/usr/bin/env bash
# test_rest.sh - bourse-rest against a real bourse-engine, over HTTP with curl:
# every endpoint, every authentication failure, rate limits, a full command
# ring (503), a stopped engine (504), an engine restart (503, then reattach),
# a lapped event-log reader, bad input of every kind (the gateway answers a
# clear 4xx and stays up), the access log, the key CLI, keys created while
# the gateway runs (usable at once) and the bound on key store rereads.
# Nothing here assumes the machine's speed: it waits for events (a log line,
# a port, an answer, a ring position) with a generous bound that only catches
# a hang, and sleeps only as the poll interval of such a wait.
# usage: test_rest.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$1
SRC=$2
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
REST=$BUILD/gateways/rest/bourse-rest
SIGN=$SRC/scripts/bourse-curl
INST="trest$$"
TMP=$(mktemp -d)
failures=0
engine_pid=
rest_pid=
rest2_pid=
rest3_pid=

cleanup() {
    for p in $rest_pid $rest2_pid $rest3_pid $engine_pid; do
        kill -CONT "$p" 2>/dev/null
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$TMP" "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock"
}
trap cleanup EXIT

. "$SRC/tests/scripts/engine_lib.sh" # ok, fail, wait_until, gone, start_engine

cat >"$TMP/engine.ini" <<EOF
[engine]
instance = $INST
data_dir = $TMP/data
idle = backoff
idle_sleep_max_us = 500
ring_capacity = 64
event_log_capacity = 256
[matcher]
max_orders = 4096
max_gtd_orders = 1024
max_accounts = 16
max_assets = 8
max_instruments = 8
max_levels = 256
[journal]
fsync = never
acks = durable
EOF

# rest_ini FILE [key = value lines...]: a gateway config on an ephemeral port.
rest_ini() {
    local f=$1
    shift
    {
        echo "[rest]"
        echo "instance = $INST"
        echo "port = 0"
        echo "keystore = $TMP/keys"
        echo "master_key = $TMP/master"
        echo "idle = backoff"
        echo "request_timeout_ms = 1500"
        echo "recv_window_ms = 20000"
        echo "read_timeout_ms = 1000"
        echo "body_limit_bytes = 4096"
        echo "header_limit_bytes = 4096"
        printf '%s\n' "$@"
    } >"$f"
}
rest_ini "$TMP/rest.ini" "access_log = $TMP/access.log" "key_rate_per_s = 1000" "key_burst = 1000" \
    "addr_rate_per_s = 5000" "addr_burst = 5000"

# The bound of every wait (engine_lib.sh's wait_until): only there to end a hang.
WAIT_S=60

# alive_or_done PID CMD...: CMD succeeded, or PID is gone (so that a wait
# ends at once; the caller tells which)
alive_or_done() { local p=$1; shift; "$@" || gone "$p"; }

# start_rest INI LOG: starts a gateway; sets started_pid and started_port
# (from this start's log line) once it listens, started_port empty if it
# exited first.
listen_port() { tail -c +"$2" "$1" | sed -n 's/.*listening on 127.0.0.1 port \([0-9]*\).*/\1/p' | tail -1; }
rest_listens() { [ -n "$(listen_port "$1" "$2")" ]; }
start_rest() {
    local from=$(( $(stat -c %s "$2" 2>/dev/null || echo 0) + 1 ))
    "$REST" -c "$1" 2>>"$2" &
    started_pid=$!
    wait_until $WAIT_S alive_or_done "$started_pid" rest_listens "$2" "$from"
    started_port=$(listen_port "$2" "$from")
}

# wait_ready URL [want]: until /readyz answers want (default 200).
readyz_is() { [ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$1/readyz")" = "$2" ]; }
wait_ready() { wait_until $WAIT_S readyz_is "$1" "${2:-200}"; }

# The key store's rereads so far: keywatch logs each one.
reloads() { grep -c "key store reloaded" "$TMP/rest.log"; }

# call WHO METHOD PATH [BODY] [-- curl options]: a request signed with WHO's
# key (WHO_KEY, WHO_SECRET). Sets $code; body in $TMP/body, headers in $TMP/hdr.
call() {
    local who=$1
    shift
    local k=${who}_KEY s=${who}_SECRET
    local args=("$@") has_dd=0 arg
    for arg in "${args[@]}"; do [ "$arg" = "--" ] && has_dd=1; done
    [ $has_dd -eq 0 ] && args+=(--)
    code=$(BOURSE_URL=${URL_OVERRIDE:-$URL} BOURSE_KEY=${!k} BOURSE_SECRET=${!s} "$SIGN" "${args[@]}" \
        -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' 2>"$TMP/curl.err")
}

# expect NAME CODE [NEEDLE...]: the last call's status and body.
expect() {
    local name=$1 want=$2
    shift 2
    if [ "$code" != "$want" ]; then
        fail "$name" "status $code, expected $want: $(head -c 400 "$TMP/body" 2>/dev/null) $(cat "$TMP/curl.err")"
        return 1
    fi
    for needle in "$@"; do
        if ! grep -qF -- "$needle" "$TMP/body"; then
            fail "$name" "body lacks '$needle': $(head -c 600 "$TMP/body")"
            return 1
        fi
    done
    ok "$name"
}

header_has() { grep -qi "^$1" "$TMP/hdr"; }

# healthy NAME: the gateway still answers /healthz.
healthy() {
    [ "$(curl -s -m $WAIT_S -o /dev/null -w '%{http_code}' "$URL/healthz")" = "200" ] || fail "$1" "no /healthz after it"
}

json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$TMP/body" | head -1; }

# --- configuration and key CLI errors: one line, non-zero exit
printf '[rest]\nport = 99999\n' >"$TMP/bad.ini"
out=$("$REST" -c "$TMP/bad.ini" 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -qF "$TMP/bad.ini:2: port: 99999 is outside" \
    && ok bad_config_value_names_file_and_line || fail bad_config_value_names_file_and_line "exit $rc: $out"
printf '[rest]\nport = 1\n[engine]\nidle = spin\n' >"$TMP/bad2.ini"
out=$("$REST" -c "$TMP/bad2.ini" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -qF "bad2.ini:4: unknown section [engine]" \
    && ok unknown_section_is_refused || fail unknown_section_is_refused "exit $rc: $out"
out=$("$REST" -c "$TMP/none.ini" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -qF "none.ini: No such file" && ok missing_config_is_named || fail missing_config_is_named "$out"
out=$("$REST" -c "$TMP/rest.ini" keys create --role root --account 1 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -qF -- "--role must be" && ok keys_create_refuses_bad_role || fail keys_create_refuses_bad_role "$out"
"$REST" -c "$TMP/rest.ini" --print-config | grep -q "^body_limit_bytes = 4096$" && ok print_config_shows_values \
    || fail print_config_shows_values "no body_limit_bytes"

# --- keys before the gateway starts: the first admin key from the CLI
eval "$("$REST" -c "$TMP/rest.ini" keys create --role admin --account 0 2>/dev/null)"
ADMIN_KEY=$BOURSE_KEY ADMIN_SECRET=$BOURSE_SECRET
unset BOURSE_KEY BOURSE_SECRET
[ -n "$ADMIN_KEY" ] && [ ${#ADMIN_SECRET} -eq 64 ] && ok keys_create_prints_key_and_secret \
    || fail keys_create_prints_key_and_secret "got '$ADMIN_KEY'"
perm=$(stat -c %a "$TMP/keys")
[ "$perm" = "600" ] && ! grep -q "$ADMIN_SECRET" "$TMP/keys" && ok keystore_is_0600_and_secret_encrypted \
    || fail keystore_is_0600_and_secret_encrypted "mode $perm"

# --- the gateway before the engine: alive, not ready
start_rest "$TMP/rest.ini" "$TMP/rest.log"
rest_pid=$started_pid PORT=$started_port
URL=http://127.0.0.1:$PORT
[ -n "$PORT" ] && ok gateway_listens || { fail gateway_listens "$(cat "$TMP/rest.log")"; exit 1; }
c=$(curl -s -o "$TMP/body" -w '%{http_code}' "$URL/healthz")
[ "$c" = 200 ] && ok healthz_without_engine || fail healthz_without_engine "$c"
c=$(curl -s -o "$TMP/body" -w '%{http_code}' "$URL/readyz")
[ "$c" = 503 ] && grep -q '"ready":false' "$TMP/body" && ok readyz_false_without_engine || fail readyz_false_without_engine "$c $(cat "$TMP/body")"
call ADMIN GET /v1/instruments
expect requests_503_without_engine 503 '"code":"engine-unavailable"' && header_has "Retry-After: 1" || true

start_engine || { fail engine_starts "$(cat "$TMP/engine.log")"; exit 1; }
wait_ready "$URL" && ok gateway_attaches_and_becomes_ready || fail gateway_attaches_and_becomes_ready "$(tail -3 "$TMP/rest.log")"

# --- admin endpoints set up the market
call ADMIN POST /v1/admin/assets '{"name":"BTC","decimals":8}'
expect admin_adds_asset 201 '"name":"BTC"' '"asset":1'
call ADMIN POST /v1/admin/assets '{"name":"USD","decimals":2}'
expect admin_adds_second_asset 201 '"asset":2'
call ADMIN POST /v1/admin/instruments '{"symbol":"BTC-USD","base":"BTC","quote":"USD","tick_size":"1.00","lot_size":"0.01","min_qty":"0.01","max_qty":"100","ref_price":"60000.00","band_bps":1000}'
expect admin_adds_instrument 201 '"symbol":"BTC-USD"' '"tick_size":"1.00"' '"lot_size":"0.01000000"'
call ADMIN POST /v1/admin/instruments '{"symbol":"BTC-USD","base":"BTC","quote":"USD","tick_size":"1","lot_size":"1","min_qty":"1","max_qty":"1","ref_price":"1"}'
expect admin_duplicate_instrument_is_409 409 '"code":"exists"'
for a in 1 2 3; do
    call ADMIN POST /v1/admin/accounts "{\"account\":$a}"
    [ "$code" = 201 ] || fail admin_adds_accounts "$code $(cat "$TMP/body")"
    call ADMIN POST /v1/admin/deposits "{\"account\":$a,\"asset\":\"USD\",\"amount\":\"100000.00\"}"
    [ "$code" = 201 ] || fail admin_deposits "$code $(cat "$TMP/body")"
    call ADMIN POST /v1/admin/deposits "{\"account\":$a,\"asset\":\"BTC\",\"amount\":\"10\"}"
done
expect admin_deposits_answer_the_balance 201 '"balance":{"available":"10.00000000"'
call ADMIN POST /v1/admin/withdrawals '{"account":3,"asset":"BTC","amount":"1.5"}'
expect admin_withdraws 201 '"available":"8.50000000"'
call ADMIN POST /v1/admin/withdrawals '{"account":3,"asset":"BTC","amount":"100"}'
expect admin_withdraw_too_much_is_422 422 '"code":"insufficient-balance"'
call ADMIN POST /v1/admin/keys '{"role":"trader","account":1}'
expect admin_creates_trader_key 201 '"role":"trader"' '"secret":"'
T1_KEY=$(json_field key_id) T1_SECRET=$(json_field secret)
call ADMIN POST /v1/admin/keys '{"role":"trader","account":2}'
T2_KEY=$(json_field key_id) T2_SECRET=$(json_field secret)
call ADMIN POST /v1/admin/keys '{"role":"read-only","account":1}'
RO_KEY=$(json_field key_id) RO_SECRET=$(json_field secret)
# cli_key ROLE ACCOUNT: a key made with `bourse-rest keys create`, in
# NEW_KEY and NEW_SECRET
cli_key() {
    NEW_KEY= NEW_SECRET=
    eval "$("$REST" -c "$TMP/rest.ini" keys create --role "$1" --account "$2" 2>/dev/null)"
    NEW_KEY=$BOURSE_KEY NEW_SECRET=$BOURSE_SECRET
    unset BOURSE_KEY BOURSE_SECRET
}
# A key made with the CLI while the gateway runs is used by the first request
# that names it, with no retry. Just before, an unknown key made the gateway
# look at the store (it used to ignore the file for 100 ms after a look).
NOKEY_KEY=AAAAAAAAAAAAAAAAAAAAAAAA NOKEY_SECRET=$T1_SECRET
call NOKEY GET /v1/balances
expect unknown_key_looks_at_the_store 401 '"code":"unknown-key"'
r0=$(reloads)
cli_key trader 3
T3_KEY=$NEW_KEY T3_SECRET=$NEW_SECRET
call T3 GET /v1/balances
expect cli_key_is_used_by_running_gateway 200 '"asset":"BTC","available":"8.50000000"'
[ "$(reloads)" -eq $((r0 + 1)) ] && ok cli_key_costs_one_reread || fail cli_key_costs_one_reread "$r0 -> $(reloads)"

# flood_cfg FILE N [URL]: a curl config of N requests, each with its own
# unknown key (any signature will do: the key is looked up first)
flood_cfg() {
    local ts i
    ts=$(date +%s%3N)
    : >"$1"
    for i in $(seq "$2"); do
        [ "$i" -gt 1 ] && echo "next" >>"$1"
        printf 'url = "%s/v1/balances"\nheader = "X-Bourse-Key: UNKNOWN%05d%012d"\n' "${3:-$URL}" "$RANDOM" "$i"
        printf 'header = "X-Bourse-Timestamp: %s"\nheader = "X-Bourse-Signature: %064d"\n' "$ts" 0
        printf 'write-out = "%%{http_code}\\n"\noutput = "/dev/null"\n'
    done >>"$1"
}

# --- a flood of unknown keys on an unchanged store: a stat each, no reread
r0=$(reloads)
flood_cfg "$TMP/flood.cfg" 300
curl -s --parallel --parallel-max 20 -K "$TMP/flood.cfg" >"$TMP/flood.codes" 2>/dev/null
n401=$(grep -c '^401$' "$TMP/flood.codes")
[ "$n401" -eq 300 ] && [ "$(reloads)" -eq "$r0" ] && ok unknown_key_flood_on_an_unchanged_store_rereads_nothing \
    || fail unknown_key_flood_on_an_unchanged_store_rereads_nothing "401 x$n401 of 300, rereads $r0 -> $(reloads)"

# --- keys created one after another while unknown keys flood in: each is
# accepted by its first request, and the rereads the changes cause stay
# within the bound of gateways/common/keywatch.h (burst + elapsed / interval,
# over the elapsed time measured around them: an upper bound, whatever the
# machine's speed). The flood comes from 127.0.0.2 when it can, so that its
# address bucket is not the one of the requests checked.
burst=$(sed -n 's/.*KEYWATCH_RELOAD_BURST = \([0-9]*\).*/\1/p' "$SRC/gateways/common/keywatch.h")
interval=$(sed -n 's/.*KEYWATCH_RELOAD_INTERVAL_MS = \([0-9]*\).*/\1/p' "$SRC/gateways/common/keywatch.h")
src=()
[ "$(curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] && src=(--interface 127.0.0.2)
rm -f "$TMP/flood.stop"
(
    while [ ! -e "$TMP/flood.stop" ]; do
        flood_cfg "$TMP/flood2.cfg" 50
        curl -s "${src[@]}" --parallel --parallel-max 10 -K "$TMP/flood2.cfg" 2>/dev/null
    done >"$TMP/flood2.codes"
) &
flood_pid=$!
wait_until $WAIT_S test -s "$TMP/flood2.codes" # the flood is on
t0=$(date +%s%3N)
r0=$(reloads)
made=12 first_try=0 refused=
for _ in $(seq $made); do
    cli_key read-only 1
    call NEW GET /v1/balances
    if [ "$code" = 200 ]; then first_try=$((first_try + 1)); else refused="$refused $code:$(head -c 100 "$TMP/body")"; fi
done
touch "$TMP/flood.stop"
wait "$flood_pid"
r1=$(reloads)
t1=$(date +%s%3N)
max=$((burst + (t1 - t0) / interval + 1))
held=$(grep "key store reloaded" "$TMP/rest.log" | tail -1 | sed -n 's/.* \([0-9]*\) lookups held back.*/\1/p')
echo "# $made keys in $((t1 - t0)) ms under $(grep -c . "$TMP/flood2.codes") unknown-key requests: $((r1 - r0)) rereads (bound $max), ${held:-0} requests held back so far"
[ "$first_try" -eq "$made" ] && ok keys_created_under_a_flood_are_each_accepted_at_once \
    || fail keys_created_under_a_flood_are_each_accepted_at_once "$first_try of $made:$refused"
[ $((r1 - r0)) -ge 1 ] && [ $((r1 - r0)) -le "$max" ] && ok rereads_stay_within_the_bound_while_the_store_keeps_changing \
    || fail rereads_stay_within_the_bound_while_the_store_keeps_changing "$((r1 - r0)) rereads in $((t1 - t0)) ms, bound $max"
grep -v '^401$' "$TMP/flood2.codes" | sort | uniq -c | grep -q . \
    && fail unknown_keys_of_the_flood_are_all_401 "$(grep -v '^401$' "$TMP/flood2.codes" | sort | uniq -c | tr '\n' ' ')" \
    || ok unknown_keys_of_the_flood_are_all_401
call ADMIN GET /v1/admin/keys
expect admin_lists_keys 200 "\"key_id\":\"$T3_KEY\"" '"role":"read-only"'
grep -q "$T1_SECRET" "$TMP/body" && fail key_list_shows_no_secret "secret in list" || ok key_list_shows_no_secret

# --- market data and account reads
call RO GET /v1/instruments
expect instruments_listed 200 '"symbol":"BTC-USD"' '"price_decimals":2' '"qty_decimals":8' '"name":"USD"'
header_has "X-RateLimit-Limit: 1000" && header_has "X-RateLimit-Remaining:" && header_has "X-RateLimit-Reset:" \
    && header_has "X-Request-Id:" && ok ratelimit_headers_on_every_response || fail ratelimit_headers_on_every_response "$(cat "$TMP/hdr")"
call RO GET /v1/balances
expect balances_of_the_keys_account 200 '"asset":"USD","available":"100000.00","held":"0.00"'

# --- trading
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"60000.00","qty":"0.05","client_order_id":7}'
expect place_limit_order 201 '"order_id":"' '"status":"new"' '"client_order_id":"7"' '"open_qty":"0.05000000"' '"cmd_seq":'
OID=$(json_field order_id)
call T2 POST /v1/orders '{"symbol":"BTC-USD","side":"buy","price":"60100.00","qty":"0.02","tif":"ioc"}'
expect ioc_order_fills_against_it 201 '"status":"filled"' '"liquidity":"taker"' '"price":"60000.00"' '"qty":"0.02000000"'
call T2 POST /v1/orders '{"symbol":"BTC-USD","side":"buy","price":"60000.00","qty":"0.10","tif":"fok"}'
expect fok_not_fillable_is_422 422 '"code":"fok-not-fillable"'
call T2 POST /v1/orders '{"symbol":"BTC-USD","side":"buy","price":"60000.00","qty":"0.01","post_only":true}'
expect post_only_that_would_take_is_422 422 '"code":"post-only-would-take"'
call T2 POST /v1/orders '{"symbol":"BTC-USD","side":"buy","type":"market","price":"61000.00","qty":"0.01"}'
expect market_order_with_protection_fills 201 '"type":"market"' '"status":"filled"'
exp=$(( $(date +%s%3N) + 3600000 ))
call T2 POST /v1/orders "{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"price\":\"59000.00\",\"qty\":\"0.01\",\"tif\":\"gtd\",\"expire_time_ms\":$exp,\"stp\":\"cancel-both\",\"client_order_id\":\"99\"}"
expect gtd_order_rests 201 '"tif":"gtd"' "\"expire_time_ms\":$exp" '"stp":"cancel-both"'
call T2 POST /v1/orders '{"symbol":"BTC-USD","side":"buy","price":"59000.00","qty":"0.01","client_order_id":99}'
expect duplicate_client_order_id_is_409 409 '"code":"duplicate-client-order-id"'
call T2 POST /v1/orders '{"symbol":"BTC-USD","side":"buy","price":"60000.00","qty":"1000"}'
expect qty_above_max_is_400 400 '"code":"qty-above-max"'
call T2 POST /v1/orders '{"symbol":"BTC-USD","side":"buy","price":"90000.00","qty":"0.01"}'
expect price_out_of_band_is_422 422 '"code":"price-out-of-band"'
call T2 POST /v1/orders '{"symbol":"BTC-USD","side":"buy","price":"60000.00","qty":"5"}'
expect insufficient_balance_is_422 422 '"code":"insufficient-balance"'

call T1 GET /v1/orders
expect open_orders_listed 200 "\"order_id\":\"$OID\"" '"open_qty":"0.02000000"' '"next_after":null'
call T1 GET "/v1/orders?symbol=BTC-USD&limit=10"
expect open_orders_filtered_by_symbol 200 "\"order_id\":\"$OID\""
call T1 GET "/v1/orders/$OID"
expect get_order_by_id 200 '"status":"open"' '"price":"60000.00"'
call T1 GET /v1/orders/by-client-id/7
expect get_order_by_client_order_id 200 "\"order_id\":\"$OID\""
call T1 PATCH "/v1/orders/$OID" '{"qty":"0.01"}'
expect amend_down_keeps_priority 200 '"kept_priority":true' '"open_qty":"0.01000000"'
call T1 PATCH /v1/orders/by-client-id/7 '{"price":"60010.00"}'
expect amend_price_by_client_order_id 200 '"kept_priority":false' '"price":"60010.00"'
call T1 PATCH "/v1/orders/$OID" '{"price":"60010.005"}'
expect amend_off_tick_is_400 400 '"code":"price-off-tick"'
call T1 GET "/v1/book/BTC-USD?depth=5"
expect book_depth 200 '"asks":[{"price":"60010.00","qty":"0.01000000","orders":1}]' '"bids":[{"price":"59000.00"'
call T1 GET /v1/book/ETH-USD
expect book_of_unknown_symbol_is_404 404 '"code":"unknown-instrument"'
call T1 GET "/v1/book/BTC-USD?depth=0"
expect book_depth_zero_is_400 400 '"code":"bad-query"'
call RO GET /v1/trades/BTC-USD
expect recent_trades 200 '"trades":[{"trade_id":"' '"taker_side":"buy"'
call T1 GET "/v1/fills?limit=5"
expect recent_fills_of_the_account 200 '"liquidity":"maker"' '"side":"sell"'
call T2 GET "/v1/fills?symbol=BTC-USD"
expect fills_of_the_other_account 200 '"liquidity":"taker"' '"side":"buy"'

# --- another account's order: unknown to this key
call T2 GET "/v1/orders/$OID"
expect other_accounts_order_is_404_on_get 404 '"code":"unknown-order"'
call T2 DELETE "/v1/orders/$OID"
expect other_accounts_order_is_404_on_cancel 404 '"code":"unknown-order"'
call T2 PATCH "/v1/orders/$OID" '{"qty":"0.01"}'
expect other_accounts_order_is_404_on_amend 404 '"code":"unknown-order"'
call T2 DELETE /v1/orders/by-client-id/7
expect other_accounts_client_id_is_404 404 '"code":"unknown-order"'

call T1 DELETE /v1/orders/by-client-id/7
expect cancel_by_client_order_id 200 '"status":"cancelled"' '"cancelled_qty":"0.01000000"'
call T1 DELETE "/v1/orders/$OID"
expect cancel_of_a_gone_order_is_404 404 '"code":"unknown-order"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.00","qty":"0.01"}'
OID2=$(json_field order_id)
call T1 DELETE "/v1/orders/$OID2"
expect cancel_by_order_id 200 "\"order_id\":\"$OID2\"" '"status":"cancelled"'
call T2 DELETE "/v1/orders?symbol=BTC-USD"
expect mass_cancel 200 '"count":1' '"client_order_id":"99"'
call T2 DELETE /v1/orders
expect mass_cancel_of_nothing 200 '"count":0'

# --- halt and resume
call ADMIN POST /v1/admin/instruments/BTC-USD/halt
expect admin_halts_instrument 200 '"halted":true'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.00","qty":"0.01"}'
expect order_on_halted_instrument_is_422 422 '"code":"instrument-halted"'
call RO GET /v1/instruments
expect instruments_show_halt 200 '"halted":true'
call ADMIN POST /v1/admin/instruments/BTC-USD/halt
expect halt_twice_is_409 409 '"code":"already-halted"'
call ADMIN POST /v1/admin/instruments/BTC-USD/resume
expect admin_resumes_instrument 200 '"halted":false'
call ADMIN POST /v1/admin/instruments/NOPE/resume
expect resume_unknown_symbol_is_404 404 '"code":"unknown-instrument"'

# --- authentication: each failure has its code, and the gateway stays up
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$URL/v1/balances")
expect missing_key_is_401 401 '"code":"missing-key"'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "X-Bourse-Key: $T1_KEY" -H "X-Bourse-Signature: $(printf 'a%.0s' $(seq 64))" "$URL/v1/balances")
expect missing_timestamp_is_401 401 '"code":"missing-timestamp"'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "X-Bourse-Key: $T1_KEY" -H "X-Bourse-Timestamp: $(date +%s%3N)" "$URL/v1/balances")
expect missing_signature_is_401 401 '"code":"missing-signature"'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "X-Bourse-Key: $T1_KEY" -H "X-Bourse-Timestamp: $(date +%s%3N)" -H "X-Bourse-Signature: xyz" "$URL/v1/balances")
expect malformed_signature_is_401 401 '"code":"malformed-signature"'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "X-Bourse-Key: $T1_KEY" -H "X-Bourse-Timestamp: 12ab" -H "X-Bourse-Signature: xyz" "$URL/v1/balances")
expect malformed_timestamp_is_401 401 '"code":"malformed-timestamp"'
BAD_KEY=$T1_KEY BAD_SECRET=$T2_SECRET
call BAD GET /v1/balances
expect bad_signature_is_401 401 '"code":"bad-signature"'
NOKEY_KEY=AAAAAAAAAAAAAAAAAAAAAAAA NOKEY_SECRET=$T1_SECRET
call NOKEY GET /v1/balances
expect unknown_key_is_401 401 '"code":"unknown-key"'
BOURSE_TS=$(( $(date +%s%3N) - 60000 )) call T1 GET /v1/balances
expect stale_timestamp_is_401 401 '"code":"stale"'
BOURSE_TS=$(( $(date +%s%3N) + 60000 )) call T1 GET /v1/balances
expect future_timestamp_is_401 401 '"code":"future"'
ts=$(date +%s%3N)
BOURSE_TS=$ts call T1 GET /v1/balances
[ "$code" = 200 ] || fail replay_first_copy_accepted "$code"
BOURSE_TS=$ts call T1 GET /v1/balances
expect replayed_request_is_401 401 '"code":"replay"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.00","qty":"0.01"}' -- -H 'X-Bourse-Key: second'
expect duplicate_auth_header_is_400 400 '"code":"bad-request"'
call RO POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.00","qty":"0.01"}'
expect read_only_key_cannot_trade 403 '"code":"forbidden-role"'
call T1 POST /v1/admin/deposits '{"account":1,"asset":"USD","amount":"1000000.00"}'
expect trader_key_cannot_admin 403 '"code":"forbidden-role"'
call T1 GET /v1/admin/keys
expect trader_key_cannot_list_keys 403 '"code":"forbidden-role"'
call ADMIN DELETE "/v1/admin/keys/$RO_KEY"
expect admin_revokes_key 200 '"revoked":true'
call RO GET /v1/balances
expect revoked_key_is_401 401 '"code":"revoked-key"'
# A key the gateway holds is not looked for in the file, so a revocation by
# another process arrives with the gateway's check each second: wait for it.
"$REST" -c "$TMP/rest.ini" keys revoke "$T3_KEY" 2>"$TMP/err" || fail cli_revokes_key "$(cat "$TMP/err")"
t3_refused() { call T3 GET /v1/balances; [ "$code" = 401 ]; }
wait_until $WAIT_S t3_refused
expect cli_revocation_reaches_running_gateway 401 '"code":"revoked-key"'
healthy after_auth_failures

# --- bad input: a clear 4xx each time, and the gateway lives on
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.00","qty":"0.01"'
expect malformed_json_is_400 400 '"code":"bad-json"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":61000,"qty":"0.01"}'
expect number_price_is_400 400 '"code":"bad-decimal"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"6.1e4","qty":"0.01"}'
expect exponent_price_is_400 400 '"code":"bad-decimal"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.00","qty":"1.2.3"}'
expect bad_decimal_qty_is_400 400 '"code":"bad-decimal"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"12345678901234567890123456789012345678901234567890","qty":"0.01"}'
expect too_many_digits_is_400 400 '"code":"bad-decimal"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.001","qty":"0.01"}'
expect too_many_decimals_is_price_off_tick 400 '"code":"price-off-tick"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.50","qty":"0.01"}'
expect off_tick_price_is_400 400 '"code":"price-off-tick"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000","qty":"0.015"}'
expect off_lot_qty_is_400 400 '"code":"qty-off-lot"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000","qty":"0.01","colour":"red"}'
expect unknown_field_is_400 400 '"code":"unknown-field"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","price":"61000","qty":"0.01"}'
expect missing_field_is_400 400 '"code":"missing-field"'
call T1 POST /v1/orders '["not","an","object"]'
expect array_body_is_400 400 '"code":"bad-json"'
call T1 POST /v1/orders '{"symbol":["BTC-USD"],"side":"sell","price":"61000","qty":"0.01"}'
expect wrong_type_is_400 400 '"code":"bad-field"'
call T1 GET "/v1/orders/abc"
expect bad_order_id_is_400 400 '"code":"bad-id"'
call T1 GET "/v1/orders?colour=red"
expect unknown_query_parameter_is_400 400 '"code":"bad-query"'
call T1 GET /v1/nothing
expect unknown_path_is_404 404 '"code":"not-found"'
call T1 PUT /v1/orders
expect wrong_method_is_405 405 '"code":"method-not-allowed"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.00","qty":"0.01","client_order_id":4242}' \
    -- -H 'Transfer-Encoding: chunked'
expect chunked_body_is_accepted 201 '"client_order_id":"4242"'
healthy after_bad_json

head -c 20000 /dev/zero | tr '\0' 'a' >"$TMP/big"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' --data-binary @"$TMP/big" "$URL/v1/orders")
expect huge_body_is_413 413 '"code":"body-too-large"'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "Expect:" --data-binary @"$TMP/big" "$URL/v1/orders")
expect huge_body_without_expect_is_413 413 '"code":"body-too-large"'
big=$(head -c 6000 /dev/zero | tr '\0' 'b')
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "X-Big: $big" "$URL/v1/orders")
expect headers_too_long_is_431 431 '"code":"headers-too-large"'
healthy after_huge_inputs

# raw sockets: garbage, pipelining, HTTP/1.0, slowloris
raw() { # raw NAME BYTES... : writes them on one connection, then reads the answer
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    printf "$@" >&3
    timeout $WAIT_S cat <&3 >"$TMP/raw"
    exec 3<&-
}
raw '\x00\x01\x02garbage\r\n\r\n'
head -1 "$TMP/raw" | grep -q "^HTTP/1.1 400" && grep -q '"code":"bad-request"' "$TMP/raw" \
    && ok garbage_bytes_are_400 || fail garbage_bytes_are_400 "$(head -c 300 "$TMP/raw")"
raw 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\nPOST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
statuses=$(grep -ao "HTTP/1.1 [0-9]*" "$TMP/raw" | cut -d' ' -f2 | tr '\n' ' ')
[ "$statuses" = "200 200 401 200 " ] && ok pipelined_requests_answered_in_order \
    || fail pipelined_requests_answered_in_order "statuses '$statuses'"
raw 'GET /healthz HTTP/1.0\r\n\r\n'
head -1 "$TMP/raw" | grep -q "^HTTP/1.1 200" && grep -q "Connection: close" "$TMP/raw" \
    && ok http10_request_is_answered_and_closed || fail http10_request_is_answered_and_closed "$(cat "$TMP/raw")"
raw 'GET /healthz HTTP/2.0\r\n\r\n'
head -1 "$TMP/raw" | grep -q "^HTTP/1.1 505" && ok http2_preface_is_505 || fail http2_preface_is_505 "$(head -1 "$TMP/raw")"
# A client that trickles a header line every 200 ms never completes its
# request: 408 once read_timeout_ms (1000) passed since it began, however
# long it would go on (with the deadline moved by each line it would reach
# the 48-header limit, 431, instead). Never before the timeout.
start=$(date +%s%3N)
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /v1/instruments HTTP/1.1\r\nHost: x\r\n' >&3
timeout $WAIT_S cat <&3 >"$TMP/raw" &
reader=$!
while kill -0 "$reader" 2>/dev/null; do
    (printf 'X-Slow: 1\r\n' >&3) 2>/dev/null || break # a subshell: SIGPIPE once closed
    sleep 0.2
done
wait "$reader"
exec 3<&-
took=$(( $(date +%s%3N) - start ))
head -1 "$TMP/raw" | grep -q "^HTTP/1.1 408" && grep -q '"code":"request-timeout"' "$TMP/raw" && [ "$took" -ge 1000 ] \
    && ok slowloris_gets_408_after_read_timeout || fail slowloris_gets_408_after_read_timeout "after ${took} ms: $(head -c 200 "$TMP/raw")"
healthy after_raw_sockets

# --- the access log: one JSON object a line, with ids, and no secret anywhere
alog=$TMP/access.log
grep -q "\"method\":\"POST\",\"path\":\"/v1/orders\",\"status\":201,\"latency_us\":[0-9]*,\"key\":\"$T1_KEY\",\"account\":1,\"cmd_seq\":[1-9]" "$alog" \
    && ok access_log_has_request_fields || fail access_log_has_request_fields "$(grep '/v1/orders' "$alog" | head -2)"
grep -q '"rid":"[0-9a-f]\{16\}"' "$alog" && ok access_log_has_request_id || fail access_log_has_request_id "no rid"
python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$alog" 2>/dev/null \
    && ok access_log_is_json_lines || fail access_log_is_json_lines "unparsable line"
if grep -q -e "$T1_SECRET" -e "$T2_SECRET" -e "$ADMIN_SECRET" "$alog" "$TMP/rest.log"; then
    fail secrets_never_logged "a secret is in a log"
else
    ok secrets_never_logged
fi

# --- rate limits: a second gateway with tiny buckets on the same engine
rest_ini "$TMP/rest2.ini" "key_rate_per_s = 1" "key_burst = 3" "addr_rate_per_s = 1" "addr_burst = 12" \
    "access_log = $TMP/access2.log" "idle_timeout_ms = 1000"
start_rest "$TMP/rest2.ini" "$TMP/rest2.log"
rest2_pid=$started_pid PORT2=$started_port
URL2=http://127.0.0.1:$PORT2
wait_ready "$URL2" || fail second_gateway_ready "$(tail -2 "$TMP/rest2.log")"
codes=
for i in $(seq 8); do
    URL_OVERRIDE=$URL2 call T1 GET "/v1/trades/BTC-USD?limit=$i"
    codes="$codes$code "
    [ "$code" = 429 ] && break
done
case $codes in
    "200 200 200 "*429" ")
        grep -q "with this API key" "$TMP/body" && header_has "Retry-After: [1-9]" && header_has "X-RateLimit-Remaining: 0" \
            && ok key_rate_limit_gives_429_with_retry_after \
            || fail key_rate_limit_gives_429_with_retry_after "$(cat "$TMP/body" "$TMP/hdr")" ;;
    *) fail key_rate_limit_gives_429_with_retry_after "codes '$codes'" ;;
esac
# before any key: the address bucket (unauthenticated requests count too)
for _ in $(seq 30); do
    code=$(curl -s -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' "$URL2/v1/nothing")
    [ "$code" = 429 ] && break
done
expect address_rate_limit_gives_429 429 '"code":"rate-limited"' 'from this address'
header_has "Retry-After: [1-9]" && ok address_429_has_retry_after || fail address_429_has_retry_after "$(cat "$TMP/hdr")"

# --- an idle keep-alive connection is closed after idle_timeout_ms (1000),
# never before: read to its end, from before its one request
start=$(date +%s%3N)
exec 10<>"/dev/tcp/127.0.0.1/$PORT2"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&10
timeout $WAIT_S cat <&10 >"$TMP/raw"
rc=$?
exec 10<&-
took=$(( $(date +%s%3N) - start ))
[ $rc -eq 0 ] && head -1 "$TMP/raw" | grep -q "^HTTP/1.1 200" && [ "$took" -ge 1000 ] \
    && ok idle_connections_are_closed_after_idle_timeout || fail idle_connections_are_closed_after_idle_timeout "rc $rc after $took ms"

# --- a lapped reader: the second gateway is stopped while the log wraps
kill -STOP "$rest2_pid"
"$CLI" -i "$INST" ping -n 600 >/dev/null 2>&1
kill -CONT "$rest2_pid"
wait_until $WAIT_S grep -q "lapped this gateway" "$TMP/rest2.log" && ok lapped_reader_resyncs \
    || fail lapped_reader_resyncs "$(tail -2 "$TMP/rest2.log")"
wait_ready "$URL2" && ok gateway_ready_after_lap || fail gateway_ready_after_lap "$(curl -s "$URL2/readyz")"
kill -TERM "$rest2_pid"; wait "$rest2_pid"; rc=$?; rest2_pid=
[ $rc -eq 0 ] && ok second_gateway_stops_cleanly || fail second_gateway_stops_cleanly "exit $rc: $(tail -3 "$TMP/rest2.log")"

# --- a third gateway: one reread at once and then none for ten minutes, and
# six connections at most. A request with a key created after its one reread
# is held (not refused) until a reread: here an admin's key listing's.
rest_ini "$TMP/rest3.ini" "keystore_reload_burst = 1" "keystore_reload_interval_ms = 600000" \
    "max_connections = 6" "access_log = $TMP/access3.log"
start_rest "$TMP/rest3.ini" "$TMP/rest3.log"
rest3_pid=$started_pid PORT3=$started_port
URL3=http://127.0.0.1:$PORT3
wait_ready "$URL3" || fail third_gateway_ready "$(tail -2 "$TMP/rest3.log")"
cli_key read-only 2
URL_OVERRIDE=$URL3 call NEW GET /v1/balances
expect new_key_with_the_one_reread_left 200 '"balances"'
cli_key read-only 2
BOURSE_URL=$URL3 BOURSE_KEY=$NEW_KEY BOURSE_SECRET=$NEW_SECRET "$SIGN" GET /v1/balances -- \
    -o "$TMP/held.body" -w '%{http_code}' >"$TMP/held.code" 2>/dev/null &
held_pid=$!
if wait_until $WAIT_S grep -q "holding requests with unknown keys" "$TMP/rest3.log" && [ ! -s "$TMP/held.code" ]; then
    ok new_key_past_the_bound_is_held_not_refused
else
    fail new_key_past_the_bound_is_held_not_refused "answered $(cat "$TMP/held.code"): $(tail -2 "$TMP/rest3.log")"
fi
URL_OVERRIDE=$URL3 call ADMIN GET /v1/admin/keys
expect admin_key_list_rereads_the_store 200 "\"key_id\":\"$NEW_KEY\""
wait "$held_pid"
[ "$(cat "$TMP/held.code")" = 200 ] && grep -q '"balances"' "$TMP/held.body" && ok held_request_is_answered_after_the_reread \
    || fail held_request_is_answered_after_the_reread "$(cat "$TMP/held.code") $(head -c 200 "$TMP/held.body")"

# Six keep-alive connections, each answered once (so the gateway holds them
# all; one refused while the gateway still counts a closed one is opened
# again), fill it: the seventh is refused. Closed, they make room again.
conn_answered() { # conn_answered FD: a new connection on FD answered 200
    eval "exec $1<>/dev/tcp/127.0.0.1/$PORT3" || return 1
    printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&"$1"
    local line=
    read -r -t $WAIT_S line <&"$1"
    [[ $line == "HTTP/1.1 200"* ]] && return 0
    eval "exec $1<&-"
    return 1
}
answered=0
for fd in 10 11 12 13 14 15; do wait_until $WAIT_S conn_answered $fd && answered=$((answered + 1)); done
[ "$answered" -eq 6 ] || fail six_keep_alive_connections "$answered answered"
code=$(curl -s -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' "$URL3/healthz")
expect connection_over_the_limit_gets_503 503 '"code":"too-many-connections"'
for fd in 10 11 12 13 14 15; do eval "exec $fd<&-"; done
healthz_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL3/healthz")" = 200 ]; }
wait_until $WAIT_S healthz_ok && ok closed_connections_make_room || fail closed_connections_make_room "still refused"
kill -TERM "$rest3_pid"; wait "$rest3_pid"; rc=$?; rest3_pid=
[ $rc -eq 0 ] && ok third_gateway_stops_cleanly || fail third_gateway_stops_cleanly "exit $rc: $(tail -3 "$TMP/rest3.log")"

# --- a stopped engine: 504 within the timeout, then 503 once its ring is full
kill -STOP "$engine_pid"
start=$(date +%s%3N)
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.00","qty":"0.01","client_order_id":505}'
took=$(( $(date +%s%3N) - start ))
expect stopped_engine_gives_504 504 '"code":"engine-timeout"'
# not before request_timeout_ms (1500); the upper bound only tells it from no timeout at all
[ "$took" -ge 1500 ] && [ "$took" -lt 30000 ] && ok timeout_is_request_timeout_ms || fail timeout_is_request_timeout_ms "took ${took} ms"
# A request that arrives while the one before waits for the engine is read
# after that answer (the connection's input edge came while it was busy):
# the second is sent once the first is in the gateway's command ring.
ring_depth() { "$CLI" -i "$INST" status 2>/dev/null | awk -v p="$rest_pid" '$3 == p && $4 == "bourse-rest" { print $7; exit }'; }
depth_above() { [ "$(ring_depth)" -gt "$1" ]; }
depth0=$(ring_depth)
now=$(date +%s%3N)
sig=$(printf '%s%s%s' "$now" GET "/v1/orders?limit=1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$T1_SECRET" | sed 's/^.*= //')
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /v1/orders?limit=1 HTTP/1.1\r\nHost: x\r\nX-Bourse-Key: %s\r\nX-Bourse-Timestamp: %s\r\nX-Bourse-Signature: %s\r\n\r\n' \
    "$T1_KEY" "$now" "$sig" >&3
wait_until $WAIT_S depth_above "${depth0:-0}" || fail first_request_reaches_the_ring "depth ${depth0:-?} -> $(ring_depth)"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
timeout $WAIT_S cat <&3 >"$TMP/raw"
exec 3<&-
statuses=$(grep -ao "HTTP/1.1 [0-9]*" "$TMP/raw" | cut -d' ' -f2 | tr '\n' ' ')
[ "$statuses" = "504 200 " ] && ok request_sent_while_busy_is_answered_after \
    || fail request_sent_while_busy_is_answered_after "statuses '$statuses': $(head -c 300 "$TMP/raw")"
# 80 queries at once: the ring holds 64 (one went above), the rest are refused busy.
# Stamped ahead (within the receive window) so that signing them all takes no hurry.
: >"$TMP/burst.cfg"
now=$(( $(date +%s%3N) + 15000 ))
for i in $(seq 80); do
    path="/v1/orders?limit=$i"
    sig=$(printf '%s%s%s' "$now" GET "$path" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$T1_SECRET" | sed 's/^.*= //')
    {
        echo "url = \"$URL$path\""
        echo "header = \"X-Bourse-Key: $T1_KEY\""
        echo "header = \"X-Bourse-Timestamp: $now\""
        echo "header = \"X-Bourse-Signature: $sig\""
        echo "write-out = \"%{http_code}\\n\""
        echo "output = \"$TMP/burst.$i\""
        [ "$i" -lt 80 ] && echo "next"
    } >>"$TMP/burst.cfg"
done
curl -s --no-progress-meter --parallel --parallel-max 80 -K "$TMP/burst.cfg" >"$TMP/burst.codes" 2>/dev/null
busy=$(grep -c '^503$' "$TMP/burst.codes")
waited=$(grep -c '^504$' "$TMP/burst.codes")
if [ "$busy" -ge 1 ] && grep -l '"code":"engine-busy"' "$TMP"/burst.* >/dev/null && [ $((busy + waited)) -eq 80 ]; then
    ok full_command_ring_gives_503
else
    fail full_command_ring_gives_503 "503 x$busy, 504 x$waited: $(sort "$TMP/burst.codes" | uniq -c | tr '\n' ' ') $(cat "$TMP/burst.1")"
fi
healthy with_engine_stopped
wait_ready "$URL" 503
c=$(curl -s -o "$TMP/body" -w '%{http_code}' "$URL/readyz")
[ "$c" = 503 ] && grep -q '"reason":"the engine.s heartbeat is stale' "$TMP/body" \
    && ok readyz_false_while_engine_is_stuck || fail readyz_false_while_engine_is_stuck "$c $(cat "$TMP/body")"
kill -CONT "$engine_pid"
wait_ready "$URL" || fail ready_after_engine_continues "$(curl -s "$URL/readyz")"
call T1 GET /v1/orders/by-client-id/505
expect command_that_timed_out_still_took_effect 200 '"status":"open"'
call T1 GET /v1/balances
expect engine_answers_again_after_cont 200 '"balances"'

# --- the gateway's metrics, through bourse-exporter (published about once a second)
EXPORTER=$BUILD/gateways/exporter/bourse-exporter
exporter_serving() { tail -c +"$1" "$TMP/exporter.log" | grep -q "serving instance"; }
for _ in $(seq 20); do # a random port may be taken: then the exporter exits, and another is tried
    EPORT=$((20000 + RANDOM % 30000))
    from=$(( $(stat -c %s "$TMP/exporter.log" 2>/dev/null || echo 0) + 1 ))
    "$EXPORTER" -i "$INST" --listen "127.0.0.1:$EPORT" 2>>"$TMP/exporter.log" &
    exp_pid=$!
    wait_until $WAIT_S alive_or_done "$exp_pid" exporter_serving "$from"
    kill -0 "$exp_pid" 2>/dev/null && break
done
# the gateway's own series (its ring slot), once its counters of the flood
# above and of the orders placed are published (about once a second)
slot=$("$CLI" -i "$INST" status 2>/dev/null | awk -v p="$rest_pid" '$3 == p && $4 == "bourse-rest" { print $1; exit }')
metric() { grep "^$1{process=\"bourse-rest\",slot=\"$slot\"${2:-}" <<<"$metrics" | awk '{ print $NF; exit }'; }
published() {
    metrics=$(curl -s --max-time 10 "http://127.0.0.1:$EPORT/metrics")
    [ "$(metric bourse_rest_keystore_reloads_total)" = "$(reloads)" ] && [ "$(metric bourse_rest_keystore_checks_total)" -ge 300 ] &&
        [ "$(metric bourse_rest_requests_total ',route="orders.place",status="2xx"')" -gt 0 ]
} 2>/dev/null
if wait_until $WAIT_S published; then ok keystore_checks_and_rereads_are_exported
else fail keystore_checks_and_rereads_are_exported "slot $slot: $(grep -e keystore -e orders.place <<<"$metrics" | grep -v '^#' | tr '\n' ' ') against $(reloads) rereads logged"; fi
if promtool check metrics <<<"$metrics" >"$TMP/promtool.out" 2>&1; then ok exporter_output_with_gateway_metrics_passes_promtool
else fail exporter_output_with_gateway_metrics_passes_promtool "$(head -5 "$TMP/promtool.out")"; fi
placed=$(grep -v '^#' <<<"$metrics" | grep 'bourse_rest_requests_total{process="bourse-rest"' | grep 'route="orders.place",status="2xx"' | awk '{print $NF}')
[ "${placed:-0}" -gt 0 ] && ok gateway_request_counters_are_exported || fail gateway_request_counters_are_exported "$(grep bourse_rest_requests <<<"$metrics" | head -3)"
grep -q '^bourse_rest_request_seconds_bucket{process="bourse-rest",slot="[0-9]*",le="+Inf"} [1-9]' <<<"$metrics" \
    && ok gateway_latency_histogram_is_exported || fail gateway_latency_histogram_is_exported "$(grep request_seconds <<<"$metrics" | head -3)"
grep -q '^bourse_rest_auth_refused_total{process="bourse-rest",slot="[0-9]*",reason="bad_signature"} [1-9]' <<<"$metrics" \
    && ok auth_refusals_are_exported || fail auth_refusals_are_exported "$(grep auth_refused <<<"$metrics" | head -5)"
kill "$exp_pid" 2>/dev/null; wait "$exp_pid" 2>/dev/null

# --- engine restart: detach (503, not ready), reattach with the recovered state
kill -TERM "$engine_pid"; wait "$engine_pid"; engine_pid=
wait_ready "$URL" 503 && ok readyz_false_after_engine_stops || fail readyz_false_after_engine_stops "$(curl -s "$URL/readyz")"
call T1 GET /v1/balances
expect requests_503_while_detached 503 '"code":"engine-unavailable"'
healthy with_engine_gone
start_engine || fail engine_restarts "$(tail -3 "$TMP/engine.log")"
wait_ready "$URL" && ok gateway_reattaches_after_restart || fail gateway_reattaches_after_restart "$(tail -3 "$TMP/rest.log")"
call T1 GET /v1/orders/by-client-id/505
expect state_recovered_through_the_restart 200 '"status":"open"'
call T1 POST /v1/orders '{"symbol":"BTC-USD","side":"sell","price":"61000.00","qty":"0.01"}'
expect orders_work_after_reattach 201 '"status":"new"'

# --- clean stop
kill -TERM "$rest_pid"; wait "$rest_pid"; rc=$?; rest_pid=
[ $rc -eq 0 ] && ok sigterm_stops_gateway_cleanly || fail sigterm_stops_gateway_cleanly "exit $rc"
kill -TERM "$engine_pid"; wait "$engine_pid"; engine_pid=
# sanitizer builds: a report in a gateway's log fails the test even if it lived on
if grep -l -e "runtime error" -e "AddressSanitizer" -e "LeakSanitizer" "$TMP"/rest*.log >/dev/null 2>&1; then
    fail no_sanitizer_reports "$(grep -h -A3 -e "runtime error" -e "Sanitizer" "$TMP"/rest*.log | head -20)"
else
    ok no_sanitizer_reports
fi
[ "$failures" -eq 0 ]
