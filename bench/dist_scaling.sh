#!/usr/bin/env bash
# Training throughput with 1 and 2 processes on this machine (BENCHMARKS.md, "Multi-process
# training"): `ludus train` on the embedded Reach 1v1 defaults (one torch/env thread per
# process, the fastest setting on a 2-core machine), no evaluation until the end.
#   sps:  learner agent-steps of all ranks per second of wall time, from the first to the
#         last update (start-up excluded);
#   cpu:  CPU seconds (user + sys, all processes) per 100k agent-steps, a run of one update
#         subtracted (start-up, final evaluation): the work a step costs, which other jobs
#         on the machine disturb far less than wall time.
# Usage: bench/dist_scaling.sh build/bin/ludus WORKDIR [REPEATS]
set -eu
ludus=$1
work=$2
repeats=${3:-3}
mkdir -p "$work"

field() { tail -n 1 "$1/metrics.csv" | cut -d, -f"$2"; }

# train DIR NPROC GROUPS TOTAL_STEPS: trains and leaves the CPU seconds in DIR.cpu
train() {
  local dir=$1 nproc=$2 groups=$3 steps=$4
  rm -rf "$dir"
  local launch=()
  [ "$nproc" -gt 1 ] && launch=(--nproc "$nproc")
  /usr/bin/time -f "%U %S" -o "$dir.cpu" "$ludus" train "${launch[@]}" -q --set run_dir="$dir" --set threads=1 \
    --set grpo.groups="$groups" --set total_steps="$steps" --set eval.every=0 --set eval.matches=2 \
    --set eval.replays=0 --set checkpoint_every=100000 > "$dir.log" 2>&1
}

run() {  # NAME NPROC GROUPS TOTAL_STEPS
  local name=$1 dir="$work/$1"
  train "$dir.one" "$2" "$3" 1
  train "$dir" "$2" "$3" "$4"
  local sps cpu
  sps=$(awk -F, 'NR == 2 { s0 = $2; t0 = $3 } NR > 2 { s = $2; t = $3 } END { printf "%.0f", (s - s0) / (t - t0) }' \
        "$dir/metrics.csv")
  cpu=$(awk -v a="$(cat "$dir.cpu")" -v b="$(cat "$dir.one.cpu")" -v s="$(field "$dir" 2)" -v s1="$(field "$dir.one" 2)" \
        'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.2f", (x[1] + x[2] - y[1] - y[2]) / (s - s1) * 1e5 }')
  printf '%-30s %7s agent-steps/s  %5s cpu-s/100k steps  (%s updates, load %s)\n' "$name" "$sps" "$cpu" \
    "$(field "$dir" 1)" "$(cut -d' ' -f1 /proc/loadavg)"
}

for i in $(seq "$repeats"); do
  echo "--- repeat $i"
  run "1proc-8groups" 1 8 300000
  run "1proc-16groups" 1 16 600000
  run "2proc-8groups-each" 2 8 600000
  run "2proc-4groups-each" 2 4 300000
done
