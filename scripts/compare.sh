#!/usr/bin/env bash
# Runs an optimizer / estimator comparison unattended: every variant x every seed is
# trained on one config with equal agent-steps, each run's final (or best) checkpoint is
# evaluated on held-out seeds, and a Markdown table (per seed, then mean +- sd per
# variant, with the training steps at which the training evaluation first reached 50%)
# is written to OUT/table.md, the variants' training-evaluation curves (`ludus plot`) to
# OUT/curves.png. Interrupted runs are resumed, finished ones and their
# evaluations are kept, so running it again continues where it stopped.
#
#   scripts/compare.sh [options]
#     --config FILE       training config (default configs/reach-compare.yaml)
#     --out DIR           run directories, logs and table.md (default runs/compare)
#     --seeds "1 2 3"     training seeds
#     --variants "..."    ALGO-OPTIMIZER names: grpo-muon grpo-adamw ppo-muon ppo-adamw (default: all four)
#     --variant NAME:K=V,K=V  one more variant with its own settings (repeatable), e.g. a
#                         learning-rate sweep: --variant grpo-muon-lr5e-3:algo=grpo,optim.optimizer=muon,optim.lr=0.005
#     --schedules "..."   also GRPO + Muon with each Newton-Schulz schedule named
#                         (keller quintic5 polar_express you6)
#     --set K=V           a training setting for every run (repeatable), e.g. network.hidden=256
#     --opponents "..."   evaluation opponents (default: the config's eval.opponent); the first one
#                         is the table's headline column
#     --matches N         evaluation matches per opponent (default 200)
#     --checkpoint last|best   what to evaluate (default last: the final policy)
#     --eval CMD          evaluation command, run as: CMD CHECKPOINT OPPONENT MATCHES
#                         (default: ludus eval at the config's own game options, seeds from 5,000,000;
#                         scripts/codeball-eval.sh evaluates Codeball at the rules)
#     --jobs N            training runs at once (default 1; give each run threads=1 with --set)
set -euo pipefail
cd "$(dirname "$0")/.."
ludus=${LUDUS:-./build/bin/ludus}
config=configs/reach-compare.yaml out=runs/compare seeds="1 2 3" names="grpo-muon grpo-adamw ppo-muon ppo-adamw"
schedules="" opponents="" matches=200 which=last eval_cmd="" jobs=1
extra=() sets=() setlist=()
die() { echo "compare.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value (see the header of $0)"
  case $1 in
    --config) config=$2 ;;
    --out) out=$2 ;;
    --seeds) seeds=$2 ;;
    --variants) names=$2 ;;
    --variant) [[ $2 == *:* ]] || die "--variant wants NAME:KEY=VALUE,..., got '$2'"; extra+=("$2") ;;
    --schedules) schedules=$2 ;;
    --set) sets+=(--set "$2"); setlist+=("$2") ;;
    --opponents) opponents=$2 ;;
    --matches) matches=$2 ;;
    --checkpoint) which=$2; [[ $which == last || $which == best ]] || die "--checkpoint is last or best, got '$2'" ;;
    --eval) eval_cmd=$2 ;;
    --jobs) jobs=$2 ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
  esac
  shift 2
done
[ -f "$config" ] || die "no config '$config'"
[ -x "$ludus" ] || die "no ludus binary at $ludus (build first: scripts/build.sh)"

# Variant NAME -> its settings, as "key=value" words.
variants=()
for n in $names; do
  algo=${n%%-*} opt=${n#*-}
  [[ $algo == grpo || $algo == ppo ]] && [[ $opt == muon || $opt == adamw ]] ||
    die "variant '$n' is not ALGO-OPTIMIZER (grpo|ppo)-(muon|adamw); use --variant NAME:K=V,... for others"
  variants+=("$n:algo=$algo optim.optimizer=$opt")
done
for s in $schedules; do variants+=("grpo-muon-$s:algo=grpo optim.optimizer=muon optim.schedule=$s"); done
for v in "${extra[@]}"; do variants+=("${v%%:*}:$(tr ',' ' ' <<< "${v#*:}")"); done
[ ${#variants[@]} -gt 0 ] || die "no variants"

mkdir -p "$out"
if [ -z "$opponents" ]; then  # the config's eval.opponent (a --set wins), in flow or block style
  for kv in "${sets[@]}"; do [[ $kv == eval.opponent=* ]] && opponents=${kv#eval.opponent=}; done
  [ -n "$opponents" ] || opponents=$(sed -nE 's/^eval: *\{.*opponent: *([A-Za-z0-9_]+).*/\1/p' "$config")
  [ -n "$opponents" ] || opponents=$(awk '/^eval:/ { e = 1; next } e && /^[^ #]/ { e = 0 }
    e && $1 == "opponent:" { print $2; exit }' "$config")
  [ -n "$opponents" ] || die "cannot read eval.opponent from $config: name the opponents with --opponents"
fi
# Check every variant's settings before hours of training start.
for v in "${variants[@]}"; do
  args=()
  for kv in ${v#*:}; do args+=(--set "$kv"); done
  "$ludus" train --config "$config" "${sets[@]}" "${args[@]}" --check > /dev/null ||
    die "variant '${v%%:*}' does not make a valid config (above)"
done

train_one() {  # NAME SEED SETTINGS...
  local name=$1 seed=$2 dir="$out/$1-seed$2"
  shift 2
  local args=()
  for kv in "$@"; do args+=(--set "$kv"); done
  if [ -f "$dir.done" ]; then return 0; fi
  if [ -f "$dir/config.yaml" ] && ls "$dir"/checkpoints/ckpt_*.pt > /dev/null 2>&1; then
    echo "== $name seed $seed: resuming ($dir.log)"
    "$ludus" train --resume "$dir" >> "$dir.log" 2>&1 || { echo "== $name seed $seed FAILED: $(tail -2 "$dir.log")"; return 1; }
  else
    rm -rf "$dir"
    echo "== $name seed $seed: training ($dir.log)"
    "$ludus" train --config "$config" "${sets[@]}" "${args[@]}" --set "run_dir=$dir" --set "seed=$seed" \
      > "$dir.log" 2>&1 || { echo "== $name seed $seed FAILED: $(tail -2 "$dir.log")"; return 1; }
  fi
  touch "$dir.done"
  echo "== $name seed $seed: done"
}

failed=0
for v in "${variants[@]}"; do
  for seed in $seeds; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || failed=1; done
    # shellcheck disable=SC2086  # the settings are words
    train_one "${v%%:*}" "$seed" ${v#*:} &
  done
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || failed=1; done
[ "$failed" -eq 0 ] || die "a training run failed (its log is named above); run again to resume"

checkpoint_of() {
  if [ "$which" = best ]; then echo "$1/best.pt"; else ls "$1"/checkpoints/ckpt_*.pt | sort | tail -1; fi
}
evaluate() {  # CHECKPOINT OPPONENT -> "wins draws losses"
  local line
  if [ -n "$eval_cmd" ]; then
    line=$($eval_cmd "$1" "$2" "$matches" | grep ' wins, .* draws, .* losses' | tail -1)
  else
    line=$("$ludus" eval --checkpoint "$1" --opponent "$2" -n "$matches" --seed 5000000 --replays 0 |
      grep ' wins, .* draws, .* losses' | tail -1)
  fi
  [ -n "$line" ] || { echo "compare.sh: no result line from evaluating $1 against $2" >&2; return 1; }
  sed -E 's/.*: ([0-9]+) wins, ([0-9]+) draws, ([0-9]+) losses.*/\1 \2 \3/' <<< "$line"
}

# results.csv: variant,seed,opponent,wins,draws,losses,steps_to_50,agent_steps,wall_s
results="$out/results.csv"
[ -f "$results" ] || echo "variant,seed,opponent,wins,draws,losses,steps_to_50,agent_steps,wall_s" > "$results"
for v in "${variants[@]}"; do
  name=${v%%:*}
  for seed in $seeds; do
    dir="$out/$name-seed$seed"
    ckpt=$(checkpoint_of "$dir")
    col=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "eval_win") print i; exit }' "$dir/metrics.csv")
    steps50=$(awk -F, -v c="$col" 'NR > 1 && $c != "" && $c >= 0.5 { print $2; exit }' "$dir/metrics.csv")
    read -r steps wall < <(awk -F, 'END { printf "%s %.0f\n", $2, $3 }' "$dir/metrics.csv")
    for opp in $opponents; do
      grep -q "^$name,$seed,$opp," "$results" && continue
      echo "== evaluating $name seed $seed ($which checkpoint) against $opp, $matches matches"
      read -r w d l < <(evaluate "$ckpt" "$opp")
      echo "$name,$seed,$opp,$w,$d,$l,${steps50:-never},$steps,$wall" >> "$results"
    done
  done
done

# The table: per variant, the headline opponent's win rate (won, and of decided) per seed
# and as mean +- sd, the other opponents' mean, and the steps to 50% (runs that never got
# there are counted apart).
head_opp=${opponents%% *}
{
  echo "Config \`$config\`${setlist[*]:+ with ${setlist[*]}}; $which checkpoint of each run; $matches evaluation"
  echo "matches per opponent on seeds from 5,000,000, sides alternating. Written by scripts/compare.sh."
  echo
  printf '| variant | won vs %s (mean ± sd) | of decided | per seed (won %%) |' "$head_opp"
  for opp in $opponents; do [ "$opp" = "$head_opp" ] || printf ' vs %s (won, mean) |' "$opp"; done
  echo ' agent-steps to a training eval >= 50% (mean ± sd) | agent-steps per run |'
  printf '|---|---|---|---|'
  for opp in $opponents; do [ "$opp" = "$head_opp" ] || printf -- '---|'; done
  echo '---|---|'
  for v in "${variants[@]}"; do
    name=${v%%:*}
    awk -F, -v name="$name" -v head="$head_opp" -v others="$opponents" '
      function ms(a, n,    i, m, s) { if (n == 0) return "-"; m = 0; for (i = 1; i <= n; i++) m += a[i]; m /= n
        s = 0; for (i = 1; i <= n; i++) s += (a[i] - m) ^ 2; s = n > 1 ? sqrt(s / (n - 1)) : 0
        return sprintf("%.1f ± %.1f", m, s) }
      $1 == name && $3 == head { n++; won[n] = 100 * $4 / ($4 + $5 + $6); dec[n] = ($4 + $6) ? 100 * $4 / ($4 + $6) : 0
        per = per (per == "" ? "" : " / ") sprintf("%.1f", won[n])
        if ($7 == "never") never++; else { k++; st[k] = $7 / 1e6 } steps = $8 }
      $1 == name && $3 != head { o[$3] += 100 * $4 / ($4 + $5 + $6); no[$3]++ }
      END {
        printf "| %s | %s | %s | %s |", name, ms(won, n), ms(dec, n), per
        m = split(others, list, " ")
        for (i = 1; i <= m; i++) if (list[i] != head) printf " %s |", no[list[i]] ? sprintf("%.1f", o[list[i]] / no[list[i]]) : "-"
        s50 = k ? ms(st, k) "M" : "-"
        if (never) s50 = s50 sprintf(" (%d of %d never)", never, n)
        printf " %s | %.2fM |\n", s50, steps / 1e6
      }' < <(tail -n +2 "$results" | sort -s -t, -k2,2n)  # per seed in seed order, however the runs finished
  done
} > "$out/table.md"
# The training evaluations of every variant, its seeds averaged, on one panel.
groups=()
for v in "${variants[@]}"; do
  name=${v%%:*} dirs=""
  for seed in $seeds; do dirs+="${dirs:+,}$out/$name-seed$seed"; done
  groups+=("$name=$dirs")
done
"$ludus" plot -o "$out/curves.png" "${groups[@]}" > /dev/null || die "cannot draw $out/curves.png (above)"
echo "(curves: $out/curves.png)" >> "$out/table.md"
cat "$out/table.md"
