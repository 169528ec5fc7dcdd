#!/usr/bin/env bash
# The main job from a fresh clone: installs the Debian packages, builds ludus, and plays
# a headless match on embedded defaults, writing a replay (its path is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DLUDUS_BUILD_TESTS=OFF -DLUDUS_BUILD_BENCH=OFF
mkdir -p runs
./build/bin/ludus run --env reach --agents greedy,random --seed 1 --out runs/quickstart/match.rpl "$@"
./build/bin/ludus replay runs/quickstart/match.rpl --info
