#!/usr/bin/env bash
# test_exporter.sh BUILD_DIR - bourse-exporter against a real engine and a
# process publishing a metrics page: promtool accepts the output, the figures
# move as commands flow, gateway metrics appear with cumulative buckets, bad
# requests get clear statuses, and the exporter outlives the engine.
set -uo pipefail
BUILD=$1
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
EXPORTER=$BUILD/gateways/exporter/bourse-exporter
WRITER=$BUILD/tests/test-metrics-writer
INST="texp$$"
TMP=$(mktemp -d)
export BOURSE_ENGINE_DATA_DIR="$TMP/data" BOURSE_ENGINE_IDLE=backoff
failures=0
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP" "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock"
}
trap cleanup EXIT
. "$(dirname "$0")/engine_lib.sh" # ok, fail, wait_until, alive, start_engine

start_engine -i "$INST" || { echo "FAIL engine_starts: $(cat "$TMP/engine.log")"; exit 1; }
pids+=("$engine_pid")

# A random port, until one is free: the exporter says where it serves once it
# listens, or exits when the port is taken.
exporter_settled() { grep -q "serving instance" "$TMP/exporter.log" || gone "$exp_pid"; }
for _ in $(seq 20); do
    PORT=$((20000 + RANDOM % 30000))
    : >"$TMP/exporter.log"
    "$EXPORTER" -i "$INST" --listen "127.0.0.1:$PORT" 2>>"$TMP/exporter.log" &
    exp_pid=$!
    pids+=("$exp_pid")
    wait_until 60 exporter_settled
    alive "$exp_pid" && break
done
grep -q "serving instance" "$TMP/exporter.log" || { echo "FAIL exporter_listens: $(cat "$TMP/exporter.log")"; exit 1; }
URL="http://127.0.0.1:$PORT"
scrape() { curl -s --max-time 5 "$URL/metrics"; }
value() { grep -v '^#' <<<"$2" | grep -F "$1 " | head -1 | awk '{print $NF}'; }

m1=$(scrape)
if promtool check metrics <<<"$m1" >"$TMP/promtool.out" 2>&1; then ok promtool_accepts_the_output; else fail promtool_accepts_the_output "$(cat "$TMP/promtool.out")"; fi
[ "$(value 'bourse_engine_up' "$m1")" = 1 ] && ok engine_up_is_1 || fail engine_up_is_1 "$(grep engine_up <<<"$m1")"

"$CLI" -i "$INST" send add-asset asset=1 name=BTC decimals=8 >/dev/null
"$CLI" -i "$INST" send add-asset asset=1 name=BTC decimals=8 >/dev/null # rejected: exists
"$CLI" -i "$INST" ping -n 20 >/dev/null
# The engine counts a command just after it publishes the command's events,
# so an answer can come before its count: scrape until the counts are in.
c1=$(value 'bourse_engine_apply_seconds_count' "$m1")
counted() {
    m2=$(scrape)
    [ "$(value 'bourse_engine_commands_total{type="echo"}' "$m2")" = 20 ] &&
        [ "$(value 'bourse_engine_rejects_total{reason="exists"}' "$m2")" = 1 ] &&
        [ "$(value 'bourse_engine_apply_seconds_count' "$m2")" -ge $((c1 + 22)) ] 2>/dev/null
}
wait_until 60 counted
[ "$(value 'bourse_engine_commands_total{type="echo"}' "$m2")" = 20 ] && ok commands_by_type_count_echoes \
    || fail commands_by_type_count_echoes "$(grep commands_total <<<"$m2" | head -3)"
[ "$(value 'bourse_engine_rejects_total{reason="exists"}' "$m2")" = 1 ] && ok rejects_by_reason_count \
    || fail rejects_by_reason_count "$(grep 'reason="exists"' <<<"$m2")"
c2=$(value 'bourse_engine_apply_seconds_count' "$m2")
[ "$c2" -ge $((c1 + 22)) ] && ok apply_histogram_counts_commands || fail apply_histogram_counts_commands "$c1 -> $c2"
inf=$(value 'bourse_engine_apply_seconds_bucket{le="+Inf"}' "$m2")
[ "$inf" = "$c2" ] && ok apply_buckets_are_cumulative || fail apply_buckets_are_cumulative "+Inf $inf, count $c2"

"$WRITER" "$INST" >"$TMP/writer.out" 2>&1 &
pids+=("$!")
wait_until 60 grep -q ready "$TMP/writer.out" || fail metrics_writer_ready "$(cat "$TMP/writer.out")"
m3=$(scrape)
promtool check metrics <<<"$m3" >"$TMP/promtool.out" 2>&1 && ok promtool_accepts_gateway_metrics || fail promtool_accepts_gateway_metrics "$(cat "$TMP/promtool.out")"
grep -q 'bourse_test_requests_total{process="test-gateway",slot="[0-9]*",route="/v1/x",status="400"} 2' <<<"$m3" \
    && ok gateway_counter_with_its_labels || fail gateway_counter_with_its_labels "$(grep bourse_test <<<"$m3")"
grep -q 'bourse_test_request_seconds_bucket{process="test-gateway",slot="[0-9]*",le="0.001"} 3' <<<"$m3" \
    && grep -q 'bourse_test_request_seconds_bucket{process="test-gateway",slot="[0-9]*",le="+Inf"} 4' <<<"$m3" \
    && grep -q 'bourse_test_request_seconds_sum{process="test-gateway",slot="[0-9]*"} 0.05105' <<<"$m3" \
    && ok gateway_histogram_is_cumulative_in_seconds || fail gateway_histogram_is_cumulative_in_seconds "$(grep request_seconds <<<"$m3")"
grep -q 'bourse_ring_depth_commands{slot="[0-9]*",client="test-gateway"} 0' <<<"$m3" && ok ring_depth_per_client \
    || fail ring_depth_per_client "$(grep ring_depth <<<"$m3")"

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
[ "$(code -X POST "$URL/metrics")" = 405 ] && ok post_is_405 || fail post_is_405 "$(code -X POST "$URL/metrics")"
[ "$(code "$URL/nothing")" = 404 ] && ok unknown_path_is_404 || fail unknown_path_is_404 "?"
[ "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL/metrics")" = 431 ] && ok huge_headers_are_431 \
    || fail huge_headers_are_431 "?"
exec 3<>"/dev/tcp/127.0.0.1/$PORT" # a client that never sends its request
[ "$(code "$URL/metrics")" = 200 ] && ok slow_client_does_not_block_others || fail slow_client_does_not_block_others "?"
exec 3>&-

kill -9 "$engine_pid"; wait "$engine_pid" 2>/dev/null
m4=$(scrape)
[ "$(value 'bourse_engine_up' "$m4")" = 0 ] && ok engine_down_is_reported || fail engine_down_is_reported "$(grep engine_up <<<"$m4")"
kill -0 "$exp_pid" 2>/dev/null && ok exporter_outlives_the_engine || fail exporter_outlives_the_engine "gone"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
promtool check config "$SRC/gateways/exporter/prometheus.yml" >/dev/null 2>&1 && ok example_scrape_config_is_valid \
    || fail example_scrape_config_is_valid "promtool check config"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['panels']" "$SRC/gateways/exporter/grafana-dashboard.json" \
    && ok grafana_dashboard_is_valid_json || fail grafana_dashboard_is_valid_json "bad json"
# Every metric a panel queries is one the exporter serves (a renamed metric
# leaves a panel empty, silently).
missing=""
for name in $(grep -o '"expr": *"[^"]*"' "$SRC/gateways/exporter/grafana-dashboard.json" | grep -o 'bourse_[a-z0-9_]*' | sort -u); do
    base=${name%_bucket}
    grep -q "^# TYPE \($name\|$base\) " <<<"$m3" || missing="$missing $name"
done
[ -z "$missing" ] && ok dashboard_queries_served_metrics || fail dashboard_queries_served_metrics "not served:$missing"
echo "$failures failed"
[ "$failures" -eq 0 ]
