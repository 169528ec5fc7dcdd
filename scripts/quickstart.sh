#!/usr/bin/env bash
# The main job from a fresh clone: installs the Debian packages, builds ludus, trains a
# small agent headlessly on the embedded defaults (GRPO + Muon on Codeball 1v1), and checks
# the evaluation replay it wrote. Extra arguments go to `ludus train` (e.g. --set seed=2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DLUDUS_BUILD_TESTS=OFF -DLUDUS_BUILD_BENCH=OFF
run_dir="runs/quickstart-$(date +%Y%m%d-%H%M%S)"
mkdir -p runs
./build/bin/ludus train --set "run_dir=$run_dir" "$@" | tee "runs/quickstart.log"
replay=$(sed -n 's/^replay of the last evaluation match: //p' runs/quickstart.log | tail -n 1)
if [ -z "$replay" ]; then
  echo "quickstart: training wrote no evaluation replay" >&2
  exit 1
fi
./build/bin/ludus replay "$replay" --info
echo
echo "trained policy: $run_dir/best.pt"
echo "replay:         $replay   (watch it: ./build/bin/ludus replay $replay)"
