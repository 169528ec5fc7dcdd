#!/usr/bin/env bash
# scripts/compare.sh end to end on a tiny Reach comparison: every variant x seed is
# trained and evaluated, the table has a row per variant, a second call trains and
# evaluates nothing again, and a bad variant is refused before anything runs.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ludus=$1
src=$2
work=$3
rm -rf "$work" && mkdir -p "$work" || exit 1
source "$here/check.sh"
export LUDUS=$ludus
cmp=("$src/scripts/compare.sh" --out "$work/cmp" --seeds "1 2" --variants "grpo-muon ppo-adamw" --schedules you6
     --set total_steps=4000 --set eval.every=1 --set eval.matches=2 --set threads=1 --opponents "lazy greedy"
     --matches 4 --jobs 2)
check first-call 0 '^\| grpo-muon-you6 \| [0-9.]+ ± [0-9.]+ \|' -- bash "${cmp[@]}"
rows=$(grep -c '^| \(grpo-muon\|ppo-adamw\|grpo-muon-you6\) |' "$work/cmp/table.md")
evals=$(($(wc -l < "$work/cmp/results.csv") - 1))
if [ "$rows" -ne 3 ] || [ "$evals" -ne 12 ]; then
  echo "FAIL table: $rows variant rows (wanted 3), $evals evaluations (wanted 3 x 2 seeds x 2 opponents)"
  fails=$((fails + 1))
else
  echo "ok   table"
fi
if [ "$(head -c 8 "$work/cmp/curves.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
  echo "ok   curves"
else
  echo "FAIL curves: $work/cmp/curves.png is not a PNG"; fails=$((fails + 1))
fi
for f in "$work"/cmp/*-seed[12]; do
  [ -f "$f.done" ] && ls "$f"/checkpoints/ckpt_*.pt > /dev/null 2>&1 || { echo "FAIL run $f: no checkpoint"; fails=$((fails + 1)); }
done
out=$(bash "${cmp[@]}" 2>&1)
if grep -qE '^== .*(training|resuming|evaluating) ' <<< "$out" || [ "$(($(wc -l < "$work/cmp/results.csv") - 1))" -ne 12 ]; then
  echo "FAIL second-call: it trained or evaluated again:"; echo "$out" | head -5; fails=$((fails + 1))
else
  echo "ok   second-call"
fi
check bad-variant 2 "variant 'grpo-sgd' is not ALGO-OPTIMIZER" -- bash "$src/scripts/compare.sh" --out "$work/bad" --variants grpo-sgd
check bad-setting 2 "does not make a valid config" -- bash "$src/scripts/compare.sh" --out "$work/bad" \
  --set optim.lr=99
if [ -e "$work/bad" ] && [ -n "$(ls "$work/bad")" ]; then echo "FAIL nothing-run: $(ls "$work/bad")"; fails=$((fails + 1)); fi
exit $((fails > 0))
