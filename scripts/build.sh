#!/usr/bin/env bash
# Configures and builds ludus into ./build (Release). Extra arguments go to CMake.
# LUDUS_WERROR=ON turns warnings into errors (CI does). LUDUS_JOBS sets the parallelism,
# LUDUS_BUILD_DIR the build directory (scripts/test.sh --asan uses build-asan).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${LUDUS_JOBS:-$(nproc)}
dir=${LUDUS_BUILD_DIR:-build}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLUDUS_WERROR="${LUDUS_WERROR:-OFF}" "$@"
cmake --build "$dir" -j "$jobs"
