#!/usr/bin/env bash
# Every committed training config builds what its run needs (`ludus train --check`), and a
# bad opponent name is refused before anything is written.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ludus=$1
src=$2
work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
source "$here/check.sh"

# A later-stage config starts from an earlier stage's checkpoint (init_checkpoint) and
# names that stage on a `# stage 1: configs/NAME.yaml` line: a one-update run of that
# config stands in for it (itself started from a one-update run of its own stage 1 when it
# is a later stage too), so the check also proves that the stages' networks fit.
stage1_of() { sed -n 's/^# stage 1: configs\/\([a-z0-9-]*\)\.yaml.*/\1/p' "$1" | head -1; }
# init_args CONFIG [DEPTH]: sets $init to the --set that stands in for CONFIG's
# init_checkpoint (empty when it has none); returns 1 after counting a failure.
init_args() {
  local cfg=$1 depth=${2:-0} first
  init=()
  grep -q '^init_checkpoint:' "$cfg" || return 0
  first=$(stage1_of "$cfg")
  if [ -z "$first" ] || [ ! -f "$src/configs/$first.yaml" ] || [ "$depth" -gt 4 ]; then
    echo "FAIL stage1-named: $(basename "$cfg") has init_checkpoint but no '# stage 1: configs/NAME.yaml' line (or a cycle)"
    fails=$((fails + 1))
    return 1
  fi
  if [ ! -e "stage1-$first" ]; then
    init_args "$src/configs/$first.yaml" $((depth + 1)) || return 1
    "$ludus" train -q --config "$src/configs/$first.yaml" --set run_dir="stage1-$first" --set total_steps=1 \
      --set grpo.groups=1 --set grpo.group_size=2 --set game.max_ticks=120 --set eval.matches=1 \
      --set eval.set= --set time_budget_minutes=0 "${init[@]}" > "stage1-$first.log" 2>&1 ||
      { echo "FAIL stage1-$first: $(tail -3 "stage1-$first.log")"; fails=$((fails + 1)); return 1; }
  fi
  init=(--set "init_checkpoint=stage1-$first/checkpoints/ckpt_0000001.pt")
}
n=0
for cfg in "$src"/configs/*.yaml; do
  init_args "$cfg" || continue
  check "check-$(basename "$cfg" .yaml)" 0 '^config OK: ' -- "$ludus" train --config "$cfg" --check "${init[@]}"
  n=$((n + 1))
done
check init-checkpoint-missing 1 "init_checkpoint: .*cannot open" -- "$ludus" train --config "$src/configs/codewars-full.yaml" \
  --set init_checkpoint=no-such.pt --check
if [ "$n" -lt 5 ]; then echo "FAIL configs-found: only $n configs under $src/configs"; fails=$((fails + 1)); fi
check bad-bot 1 "opponents.bots: agent 'lazzy' is unknown for game 'reach'.*greedy" -- \
  "$ludus" train --config "$src/configs/reach-smoke.yaml" --set opponents.bots=random,lazzy --set run_dir=bad-bot
check bad-eval-opponent 1 "eval.opponent: agent 'chaser' does not play game 'reach'" -- \
  "$ludus" train --config "$src/configs/reach-smoke.yaml" --set eval.opponent=chaser --set run_dir=bad-eval
check bad-game-option 1 "team_size" -- "$ludus" train --config "$src/configs/reach-smoke.yaml" --set game.team_size=99 --check
if [ -e bad-bot ] || [ -e bad-eval ] || [ -e runs ]; then
  echo "FAIL nothing-written: a refused config left a run directory"; fails=$((fails + 1))
else
  echo "ok   nothing-written"
fi
exit $((fails > 0))
