#!/usr/bin/env bash
# Trains GRPO+Muon, GRPO+AdamW and PPO+AdamW on one config over several seeds, evaluates
# each run's best checkpoint over 200 matches, and prints a Markdown results table.
# Usage: scripts/compare.sh [CONFIG] [OUT_DIR] [SEEDS...]   (defaults: configs/reach-compare.yaml runs/compare 1 2 3)
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/reach-compare.yaml}
out=${2:-runs/compare}
shift $(( $# > 2 ? 2 : $# ))
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
ludus=./build/bin/ludus
mkdir -p "$out"
variants=("grpo-muon:algo=grpo optim.optimizer=muon" "grpo-adamw:algo=grpo optim.optimizer=adamw"
          "ppo-adamw:algo=ppo optim.optimizer=adamw")
for v in "${variants[@]}"; do
  name=${v%%:*}
  for seed in "${seeds[@]}"; do
    dir="$out/$name-seed$seed"
    [ -f "$dir/best.pt" ] && continue
    rm -rf "$dir"
    sets=(--set "run_dir=$dir" --set "seed=$seed")
    for kv in ${v#*:}; do sets+=(--set "$kv"); done
    echo "== $name seed $seed"
    "$ludus" train --config "$config" "${sets[@]}" -q
  done
done
echo
echo "| variant | seed | win rate vs lazy (200) | win rate vs greedy (200) | steps to 50% (eval vs lazy) | wall time |"
echo "|---|---|---|---|---|---|"
for v in "${variants[@]}"; do
  name=${v%%:*}
  for seed in "${seeds[@]}"; do
    dir="$out/$name-seed$seed"
    lazy=$("$ludus" eval --checkpoint "$dir/best.pt" --opponent lazy -n 200 --replays 0 | grep -o 'win rate [0-9.]*%' | grep -o '[0-9.]*')
    greedy=$("$ludus" eval --checkpoint "$dir/best.pt" --opponent greedy -n 200 --replays 0 | grep -o 'win rate [0-9.]*%' | grep -o '[0-9.]*')
    steps50=$(awk -F, 'NR > 1 && $15 != "" && $15 >= 0.5 { print $2; exit }' "$dir/metrics.csv")
    wall=$(awk -F, 'END { printf "%.0f s", $3 }' "$dir/metrics.csv")
    echo "| $name | $seed | $lazy% | $greedy% | ${steps50:-never} | $wall |"
  done
done
