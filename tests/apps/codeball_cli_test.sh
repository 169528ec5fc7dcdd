#!/usr/bin/env bash
# The codeball commands end to end: rollout of a scenario, its errors, a short match.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ludus=$1
src=$2
work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
source "$here/check.sh"

check rollout-scores 0 'rollout: 120 ticks .*score 1:0' -- "$ludus" rollout --env codeball \
  --scenario "$src/configs/codeball/scenario_shot.yaml" --ticks 120 --out traj.csv
rows=$(wc -l < traj.csv)
if [ "$rows" -ne 122 ]; then echo "FAIL rollout-rows: $rows lines, wanted header + 121"; fails=$((fails + 1)); else echo "ok   rollout-rows"; fi
check rollout-header 0 '^tick,score0,score1,ball_x,.*,r1_touch$' -- head -1 traj.csv
printf 'robots:\n  - {position: [0, 1, 0], nitro: 500}\n' > bad.yaml
check rollout-bad-value-located 1 "bad.yaml:2:.*robots.0.nitro.*expected a number in" -- "$ludus" rollout --scenario bad.yaml
printf 'robots:\n  - {position: [0, 1]}\n' > short.yaml
check rollout-bad-vector 1 "robots.0.position.: expected a list of 3 numbers" -- "$ludus" rollout --scenario short.yaml
printf 'ball: {position: [0, -5, 0]}\n' > outside.yaml
check rollout-outside 1 'ball starts outside the arena' -- "$ludus" rollout --scenario outside.yaml
check rollout-other-env 2 "supports the game 'codeball'" -- "$ludus" rollout --env reach --scenario outside.yaml
check run-codeball 0 'summary over 2 matches' -- "$ludus" run --env codeball --agents orchestrator,chaser -n 2 \
  --set max_ticks=600 --out m.rpl
check check-env-fast-mode 0 '11 passed, 0 failed' -- "$ludus" check-env codeball --set microticks=20 --set team_size=3 \
  --set action_mode=discrete --ticks 2000
check check-env-bullet 0 '11 passed, 0 failed' -- "$ludus" check-env codeball --set collision=bullet --ticks 500
exit $((fails > 0))
