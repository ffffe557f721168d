#!/usr/bin/env bash
# Lints the OpenAPI document civicd's gateway serves, as CI does: starts civicd on
# ephemeral ports in a temporary directory, saves GET /openapi.json to OUT_JSON, stops
# civicd, then runs @redocly/cli's recommended rules (redocly.yaml beside this script).
# Fails, never skips, when a tool is missing: run tools/setup.sh (it runs npm ci here).
# Usage: lint_openapi.sh CIVICD SHARED_DATA_DIR OUT_JSON
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 CIVICD SHARED_DATA_DIR OUT_JSON" >&2
  exit 2
fi
civicd=$1
shared=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
redocly=$here/node_modules/.bin/redocly

fail() {
  echo "lint_openapi: $*" >&2
  exit 1
}
command -v node >/dev/null || fail "node is not installed: run tools/setup.sh"
command -v curl >/dev/null || fail "curl is not installed: run tools/setup.sh"
[ -x "$redocly" ] || fail "$redocly is missing: run tools/setup.sh (npm ci in tests/js)"
[ -x "$civicd" ] || fail "no civicd binary at $civicd: build first (tools/build.sh)"

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

log_tail() { tail -n 40 "$work/civicd.log" >&2 || true; }

"$civicd" --data-dir="$work/data" --ephemeral-ports --ready-file="$work/ready.json" \
  --shared-data="$shared" >"$work/civicd.log" 2>&1 &
pid=$!
# Up to 60 s, as tests/support/civicd_process allows.
for _ in $(seq 1 600); do
  [ -s "$work/ready.json" ] && break
  kill -0 "$pid" 2>/dev/null || { log_tail; fail "civicd exited before it was ready"; }
  sleep 0.1
done
[ -s "$work/ready.json" ] || { log_tail; fail "civicd was not ready within 60 s"; }
gateway=$(node -e 'process.stdout.write(require(process.argv[1]).gateway_http || "")' \
  "$work/ready.json")
[ -n "$gateway" ] || fail "civicd's ready file names no gateway_http"
curl --silent --show-error --fail --max-time 10 -o "$out" "http://$gateway/openapi.json" ||
  { log_tail; fail "cannot GET http://$gateway/openapi.json"; }
kill -TERM "$pid"
wait "$pid" || true  # how civicd stops is the e2e tests' concern, not this one's
pid=""

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
"$redocly" lint --config "$here/redocly.yaml" "$out"
