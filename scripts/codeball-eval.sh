#!/usr/bin/env bash
# Evaluates a Codeball checkpoint at the rules, as the README's Codeball rows are measured:
# 100 microticks, random hit restitution, a decision read every tick (the policy keeps its
# own training interval), full 18,000-tick matches, no shaping, goals kick off again, and
# match seeds from 5,000,000 (training never uses them). Sides alternate.
#   scripts/codeball-eval.sh CHECKPOINT OPPONENT [MATCHES] [extra ludus eval args...]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CHECKPOINT OPPONENT [MATCHES] [ludus eval args...]" >&2
  exit 2
fi
ckpt=$1 opp=$2 n=${3:-200}
shift $(( $# >= 3 ? 3 : 2 ))
ludus=${LUDUS:-$(cd "$(dirname "$0")/.." && pwd)/build/bin/ludus}
exec "$ludus" eval --checkpoint "$ckpt" --opponent "$opp" -n "$n" --seed 5000000 \
  --set microticks=100 --set deterministic=false --set decision_ticks=1 --set max_ticks=18000 \
  --set end_on_goal=false --set goal_reward=1 --set player_to_ball_reward=0 --set ball_to_goal_reward=0 \
  --set touch_reward=0 --set save_reward=0 --set distance_reward=0 "$@"
