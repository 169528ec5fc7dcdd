#!/usr/bin/env bash
# Training throughput with 1 and 2 processes on this machine (BENCHMARKS.md, "Multi-process
# training"): `ludus train` on the embedded Reach 1v1 defaults (one torch/env thread per
# process, the fastest setting on a 2-core machine), no evaluation until the end,
# SPS = learner agent-steps over all ranks per second, from the second update to the last
# (the first carries start-up). Usage: bench/dist_scaling.sh build/bin/ludus WORKDIR [REPEATS]
set -eu
ludus=$1
work=$2
repeats=${3:-3}
mkdir -p "$work"

# sps RUN_DIR: steps per second between the first and the last metrics rows.
sps() {
  awk -F, 'NR == 2 { s0 = $2; t0 = $3 } NR > 2 { s = $2; t = $3 } END { printf "%.0f", (s - s0) / (t - t0) }' "$1/metrics.csv"
}

run() {  # NAME NPROC THREADS GROUPS TOTAL_STEPS
  local name=$1 nproc=$2 threads=$3 groups=$4 steps=$5 dir="$work/$1"
  rm -rf "$dir"
  local launch=()
  [ "$nproc" -gt 1 ] && launch=(--nproc "$nproc")
  "$ludus" train "${launch[@]}" -q --set run_dir="$dir" --set threads="$threads" --set grpo.groups="$groups" \
    --set total_steps="$steps" --set eval.every=0 --set eval.matches=2 --set eval.replays=0 \
    --set checkpoint_every=100000 > "$dir.log" 2>&1
  printf '%-44s %8s agent-steps/s  (%s updates, load %s)\n' "$name" "$(sps "$dir")" \
    "$(tail -n 1 "$dir/metrics.csv" | cut -d, -f1)" "$(cut -d' ' -f1 /proc/loadavg)"
}

for i in $(seq "$repeats"); do
  echo "--- repeat $i"
  run "1proc-1thread-8groups" 1 1 8 300000
  run "1proc-1thread-16groups" 1 1 16 600000
  run "2proc-1thread-8groups-each" 2 1 8 600000
  run "2proc-1thread-4groups-each" 2 1 4 300000
done
