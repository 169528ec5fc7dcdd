#!/usr/bin/env bash
# One command from a fresh clone: installs the Debian packages, builds everything and
# runs the whole test suite (CTest). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DLUDUS_BUILD_TESTS=ON -DLUDUS_BUILD_BENCH=ON
ctest --test-dir build -j "${LUDUS_JOBS:-$(nproc)}" --output-on-failure --timeout 900
# The custom-environment path: install, build envs/examples/plugin against the package,
# check-env / run / train / watch its games (docs/custom-env.md).
bash scripts/plugin-example.sh build
