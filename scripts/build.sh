#!/usr/bin/env bash
# Configures and builds ludus into ./build (Release). Extra arguments go to CMake.
# LUDUS_WERROR=ON turns warnings into errors (CI does). LUDUS_JOBS sets the parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${LUDUS_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLUDUS_WERROR="${LUDUS_WERROR:-OFF}" "$@"
cmake --build build -j "$jobs"
