#!/usr/bin/env bash
# Installs every Debian 12 package that CivicDesk's build, suite and tests need, and the npm
# packages of the Node.js test clients (tests/js).
# Non-interactive and idempotent: packages already present are skipped by apt.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # RPC and serialisation
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc grpc-proto
  golang-github-grpc-ecosystem-grpc-gateway-dev  # google/api and google/rpc protos
  libabsl-dev
  # storage, metrics, logging, data files
  librocksdb-dev prometheus-cpp-dev libspdlog-dev nlohmann-json3-dev libpugixml-dev
  # HTTP (Beast/Asio), geometry, Unicode
  libboost1.74-dev libicu-dev libssl-dev
  # tests
  catch2 curl wrk openssl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm run the test suite's non-C++ clients (tests/js). Asked for by command,
# not by package: a machine's own Node.js build (e.g. NodeSource's nodejs, which bundles
# npm and conflicts with Debian's npm package) must be kept, not replaced.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done"
fi

# The npm packages of tests/js (@grpc/grpc-js for the agency client, @redocly/cli), as
# the lock file pins them: installed when missing or when the lock file changed since.
js_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/js"
if [ -f "$js_dir/package-lock.json" ] &&
   { [ ! -f "$js_dir/node_modules/.package-lock.json" ] ||
     [ "$js_dir/package-lock.json" -nt "$js_dir/node_modules/.package-lock.json" ]; }; then
  echo "setup: npm ci in tests/js"
  (cd "$js_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
