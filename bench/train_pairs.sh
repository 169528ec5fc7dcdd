#!/usr/bin/env bash
# Training throughput of two settings, A B A B ...: whole `ludus train` processes on one
# config, each side's medians of wall seconds and of steady agent-steps/s (metrics.csv
# from the end of the first update to the end of the last, which leaves out start-up, the
# first update and the final evaluation), and the pairwise ratios A / B.
#
#   bench/train_pairs.sh CONFIG STEPS PAIRS 'A SETTINGS' 'B SETTINGS'
#   bench/train_pairs.sh configs/codeball-1v1.yaml 300000 3 '--set overlap=true --set threads=2' '--set threads=1'
#
# Run it on an idle machine: anything else running shifts both sides, and a 2-core VM has
# nothing to spare.
set -euo pipefail
[ $# -eq 5 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
config=$1 steps=$2 pairs=$3 a=$4 b=$5
ludus=${LUDUS:-build/bin/ludus}
[ -x "$ludus" ] || { echo "train_pairs: $ludus is missing (build ludus first)" >&2; exit 2; }
[ -f "$config" ] || { echo "train_pairs: no config $config" >&2; exit 2; }
[[ $steps =~ ^[0-9]+$ && $pairs =~ ^[0-9]+$ && $pairs -ge 1 ]] || { echo "train_pairs: STEPS and PAIRS are positive integers" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One run: prints "WALL_S STEADY_SPS".
one() {
  local dir=$out/run$RANDOM$RANDOM t0 t1
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086  # the settings are words for ludus
  "$ludus" train -q --config "$config" --set total_steps="$steps" --set eval.every=0 --set eval.matches=1 \
    --set eval.replays=0 --set time_budget_minutes=0 --set run_dir="$dir" $1 > "$dir.log" 2>&1 ||
    { echo "train_pairs: a run failed; its output:" >&2; cat "$dir.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -F, -v t0="$t0" -v t1="$t1" 'NR == 2 { s0 = $2; e0 = $3 } NR > 2 { s1 = $2; e1 = $3 }
    END { if (e1 <= e0) { print "train_pairs: fewer than two updates; raise STEPS" > "/dev/stderr"; exit 1 }
          printf "%.3f %.0f\n", t1 - t0, (s1 - s0) / (e1 - e0) }' "$dir/metrics.csv"
  rm -rf "$dir" "$dir.log"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "config $config, $steps agent-steps a run, $pairs pairs; A: $a; B: $b"
: > "$out/a" && : > "$out/b" && : > "$out/r"
for ((p = 1; p <= pairs; ++p)); do
  read -r wa sa < <(one "$a")
  read -r wb sb < <(one "$b")
  echo "pair $p: A $wa s, $sa agent-steps/s; B $wb s, $sb agent-steps/s"
  echo "$wa $sa" >> "$out/a"
  echo "$wb $sb" >> "$out/b"
  echo "$wa $wb $sa $sb" | awk '{ printf "%.4f %.4f\n", $1 / $2, $3 / $4 }' >> "$out/r"
done
printf '| | A | B | A / B (median of the pairs) |\n|---|---|---|---|\n'
printf '| wall s (whole process) | %s | %s | %.2fx |\n' "$(cut -d' ' -f1 "$out/a" | median)" \
  "$(cut -d' ' -f1 "$out/b" | median)" "$(cut -d' ' -f1 "$out/r" | median)"
printf '| steady agent-steps/s | %s | %s | %.2fx |\n' "$(cut -d' ' -f2 "$out/a" | median)" \
  "$(cut -d' ' -f2 "$out/b" | median)" "$(cut -d' ' -f2 "$out/r" | median)"
