#!/usr/bin/env bash
# Installs, builds and runs every test: unit tests of each library and service, and the
# end-to-end tests that start real civicd processes on ephemeral loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
ctest --test-dir build -j "${CIVIC_JOBS:-2}" --output-on-failure --timeout 600
