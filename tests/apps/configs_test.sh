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

n=0
for cfg in "$src"/configs/*.yaml; do
  check "check-$(basename "$cfg" .yaml)" 0 '^config OK: ' -- "$ludus" train --config "$cfg" --check
  n=$((n + 1))
done
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
