#!/usr/bin/env bash
# `ludus train` with several processes, end to end: --nproc, launcher variables, failures.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ludus=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
source "$here/check.sh"

tiny=(--set env=reach --set total_steps=2000 --set grpo.groups=2 --set grpo.group_size=2 --set eval.matches=4 --set eval.replays=1
      --set threads=1 --set dist.timeout_s=20)
check nproc-trains 0 'processes: 2 \(c10d/Gloo\)' -- "$ludus" train --nproc 2 --set run_dir=run "${tiny[@]}"
for f in run/config.yaml run/metrics.csv run/best.pt run/replays/eval_u0000002_m0.rpl; do
  [ -s "$f" ] && echo "ok   nproc-wrote-$f" || { echo "FAIL nproc-wrote-$f"; fails=$((fails + 1)); }
done
# Only rank 0 writes metrics: one header and one row per update, no duplicates.
rows=$(cut -d, -f1 run/metrics.csv | sort | uniq -d | wc -l)
[ "$rows" -eq 0 ] && echo "ok   nproc-metrics-once" || { echo "FAIL nproc-metrics-once"; fails=$((fails + 1)); }
check nproc-existing-run 1 'rank 0: .*already holds a run' -- "$ludus" train --nproc 2 --set run_dir=run "${tiny[@]}"
check nproc-names-failed-rank 1 'ludus: rank 0 exited with status 1' -- "$ludus" train --nproc 2 --set run_dir=run "${tiny[@]}"
check nproc-with-launcher 2 'WORLD_SIZE is set' -- env WORLD_SIZE=2 "$ludus" train --nproc 2 --set run_dir=run2 "${tiny[@]}"
check rank-out-of-range 1 "RANK='2': expected 0 to 1" -- env RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 "$ludus" train --set run_dir=run3
check rank-not-a-number 1 "WORLD_SIZE='two'" -- env RANK=0 WORLD_SIZE=two "$ludus" train --set run_dir=run3
check port-missing 1 'MASTER_PORT is not set' -- env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 "$ludus" train --set run_dir=run3
check rank-never-joins 1 'rank 1 did not join the job within dist.join_timeout_s' -- env RANK=0 WORLD_SIZE=2 \
  MASTER_ADDR=127.0.0.1 MASTER_PORT=$((20000 + $$ % 9000)) "$ludus" train --set run_dir=run4 --set dist.join_timeout_s=1 "${tiny[@]}"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
