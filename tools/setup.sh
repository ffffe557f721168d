#!/usr/bin/env bash
# Installs every Debian 12 package that CivicDesk's build, suite and tests need.
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
  librocksdb-dev prometheus-cpp-dev libspdlog-dev nlohmann-json3-dev
  # HTTP (Beast/Asio), geometry, Unicode
  libboost1.74-dev libicu-dev libssl-dev
  # tests
  catch2 curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
