#!/usr/bin/env bash
# How much of the direct gRPC throughput the HTTP gateway keeps, in one run: starts
# civicd (every service, ephemeral ports, a temporary data dir), then for each call
# measures it through the gateway with wrk and directly over gRPC with grpc_load, at
# the same concurrency and duration, and prints the ratio. Target: >= 70%.
#
#   bash tools/bench/gateway_bench.sh [seconds=3] [concurrency=32] [rounds=5] [shared-data=../shared/data]
#
# This machine is shared and noisy: a burst of someone else's load during one run would
# skew a single pair of runs. So the two paths alternate, `rounds` times, and the median
# of the per-round ratios is the result (each round's figures are printed too).
#
# GET  /v1/reports/{code}  vs  IntakeService.GetReportStatus (a read through intake and cases)
# POST /v1/reports         vs  IntakeService.SubmitReport     (a synced write per report)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-3}"
concurrency="${2:-32}"
rounds="${3:-5}"
shared="${4:-../shared/data}"
civicd=build/services/civicd/civicd
load=build/tools/bench/grpc_load
for tool in "$civicd" "$load"; do
  [ -x "$tool" ] || { echo "gateway_bench: $tool missing; run bash tools/build.sh" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "gateway_bench: wrk missing; run bash tools/setup.sh" >&2; exit 2; }

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Rate limits are for citizens, not for a benchmark's 64 devices.
"$civicd" --data-dir="$work/data" --shared-data="$shared" --ephemeral-ports \
  --ready-file="$work/ready.json" \
  --set intake.device_reports_per_hour=100000000 --set intake.phone_reports_per_day=100000000 \
  --set gateway.rate_per_device_per_min=0 --set gateway.rate_per_ip_per_min=0 \
  >"$work/civicd.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -f "$work/ready.json" ] && break; sleep 0.1; done
[ -f "$work/ready.json" ] || { echo "gateway_bench: civicd did not start" >&2; cat "$work/civicd.log" >&2; exit 1; }
http=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway_http"])' "$work/ready.json")
intake=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["grpc"]["intake"])' "$work/ready.json")
metrics=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics_http"])' "$work/ready.json")

# Each submitted report goes on through intake's outbox to routing and cases after it
# is acknowledged. Waiting for that backlog to clear keeps one run's follow-up work out
# of the next run's measurement (else the second POST run would share the cores with
# the first one's case openings).
drain() {
  for _ in $(seq 1 600); do
    pending=$(curl -sf "http://$metrics/metrics" | awk '/^civicdesk_intake_outbox_pending/ {print $2}') || true
    [ "${pending:-0}" = "0" ] && { sleep 1; return; }
    sleep 0.5
  done
  echo "gateway_bench: intake's outbox did not drain" >&2
}

code=$(curl -sf -X POST "http://$http/v1/reports" -H 'Content-Type: application/json' \
  -d '{"category":"environment.blocked_drain","description":"Cống nghẹt trước số 12","location":{"lat":10.7725,"lon":106.698}}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["tracking_code"])')
sleep 1  # let the case open, so the reads go all the way to cases

wrk_rate() {  # wrk's Requests/sec, failing on non-2xx answers
  local out
  out=$(wrk -t2 -c"$concurrency" -d"${seconds}s" --latency "$@")
  if grep -q "Non-2xx" <<<"$out"; then echo "gateway_bench: non-2xx answers from wrk:" >&2; echo "$out" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}
grpc_rate() {
  "$load" --target="$intake" --concurrency="$concurrency" --seconds="$seconds" "$@" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["errors"]==0, r; print(r["calls_per_s"])'
}
# "<gateway> <grpc>" lines on stdin -> the median of each column and of the ratios.
summary() {
  python3 -c '
import statistics, sys
rows = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
http = statistics.median(r[0] for r in rows)
grpc = statistics.median(r[1] for r in rows)
ratio = statistics.median(100 * r[0] / r[1] for r in rows)
print(f"gateway {http:.0f}/s, gRPC {grpc:.0f}/s (medians), ratio {ratio:.0f}% (median of {len(rows)} rounds)")'
}

echo "gateway_bench: $rounds rounds of ${seconds}s per path, concurrency $concurrency, $(nproc) cores"
get_rows=""
for round in $(seq 1 "$rounds"); do
  get_http=$(wrk_rate "http://$http/v1/reports/$code")
  get_grpc=$(grpc_rate --call=status --code="$code")
  echo "  GET  round $round: gateway $get_http/s, gRPC $get_grpc/s"
  get_rows+="$get_http $get_grpc"$'\n'
done
post_rows=""
for round in $(seq 1 "$rounds"); do
  post_http=$(wrk_rate -s tools/bench/submit.lua "http://$http")
  drain
  post_grpc=$(grpc_rate --call=submit)
  drain
  echo "  POST round $round: gateway $post_http/s, gRPC $post_grpc/s"
  post_rows+="$post_http $post_grpc"$'\n'
done
echo "GET  /v1/reports/{code}: $(summary <<<"$get_rows")"
echo "POST /v1/reports:        $(summary <<<"$post_rows")"
