#!/usr/bin/env bash
# Installs the Debian packages (tools/setup.sh), then configures and builds everything
# into ./build with Ninja. Two jobs: the machines this runs on have two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CIVIC_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
ninja -C build -j "${CIVIC_JOBS:-2}"
