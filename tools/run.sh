#!/usr/bin/env bash
# Installs, builds and starts the whole CivicDesk suite on 127.0.0.1: every service in
# one civicd process, embedded RocksDB stores under ./data, reference data from
# ../shared/data (or the directory given as the first argument). Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
shared_data="${1:-../shared/data}"
if [ ! -f "$shared_data/categories.json" ]; then
  echo "run: no reference data in $shared_data (expected categories.json, agencies.json, boundaries/)" >&2
  exit 2
fi
bash tools/build.sh
shift || true

# Development token secrets, made once and kept with the data: staff tokens (HS256, also
# units' development tokens), citizens' sign-in tokens, and the key of citizens' phone
# subjects (notify and intake must share it). Production configures RS256 staff keys and
# its own secrets instead (deploy/civicd.example.json).
secrets=./data/secrets
mkdir -p "$secrets"
chmod 700 "$secrets"
for name in staff-hs256 citizen-hs256 phone-subject; do
  [ -s "$secrets/$name.key" ] || (umask 077; head -c 48 /dev/urandom | base64 -w0 >"$secrets/$name.key")
done
keys=()
for section in gateway intake routing notify cases; do
  keys+=(--set "$section.staff_token_hs256_secret_file=$secrets/staff-hs256.key")
done
for section in gateway intake routing notify; do
  keys+=(--set "$section.citizen_token_secret_file=$secrets/citizen-hs256.key")
done
for section in intake notify; do
  keys+=(--set "$section.phone_subject_key_file=$secrets/phone-subject.key")
done
echo "run: staff tokens for development: bash tools/dev_token.sh admin (see README)"
exec build/services/civicd/civicd --data-dir=./data --shared-data="$shared_data" "${keys[@]}" "$@"
