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
exec build/services/civicd/civicd --data-dir=./data --shared-data="$shared_data" "$@"
