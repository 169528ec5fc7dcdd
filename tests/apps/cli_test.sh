#!/usr/bin/env bash
# The ludus CLI end to end: envs, run, replay, config show, check-env, and misuse.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ludus=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
source "$here/check.sh"

check envs-lists-reach 0 '^reach ' -- "$ludus" envs
check run-writes-replay 0 'replay: out/m.rpl' -- "$ludus" run --env reach --agents greedy,random --seed 3 --out out/m.rpl
check replay-reads-back 0 'all [0-9]+ frames decode' -- "$ludus" replay out/m.rpl --info
check run-many-summary 0 'summary over 5 matches' -- "$ludus" run --agents greedy,random -n 5 --out out/many.rpl
cat > cfg.yaml <<'YAML'
env: reach
seed: 4
game:
  team_size: 3
YAML
check config-show 0 'team_size: 3' -- "$ludus" config show cfg.yaml
check config-show-defaults 0 'max_ticks: 900' -- "$ludus" config show cfg.yaml
check run-from-config 0 'match 1/1 seed 4' -- "$ludus" run --config cfg.yaml --out out/c.rpl
printf 'env: reach\ngame:\n  team_sise: 3\n' > bad.yaml
check bad-key-located 1 'bad.yaml:3:3: unknown key .game.team_sise.' -- "$ludus" run --config bad.yaml
check bad-set-value 1 "key 'game.team_size': expected an integer in \[1, 4\]" -- "$ludus" run --set team_size=9
check unknown-env 1 "unknown env 'nope'" -- "$ludus" run --env nope
check wrong-agent-count 2 'lists 3 agent' -- "$ludus" run --agents greedy,random,random
check unknown-subcommand 106 'subcommand' -- "$ludus" dance
head -c 200 out/m.rpl > out/cut.rpl
check truncated-replay 1 'truncated' -- "$ludus" replay out/cut.rpl --info
check check-env 0 '0 failed' -- "$ludus" check-env reach --ticks 2000
check bench-env 0 'VecEnv 4 envs, 2 thread' -- "$ludus" bench env reach --seconds 0.2 --envs 4

# The learner (builds with libtorch): train, evaluate, play and refuse bad checkpoints.
if "$ludus" train --help > /dev/null 2>&1; then
  tiny=(--set total_steps=3000 --set grpo.groups=2 --set grpo.group_size=2 --set eval.matches=2 --set threads=1)
  check train-embedded-defaults 0 'replay of the last evaluation match: ' -- "$ludus" train --set run_dir=run "${tiny[@]}"
  for f in run/config.yaml run/metrics.csv run/learning_curves.png run/best.pt; do
    [ -s "$f" ] && echo "ok   train-wrote-$f" || { echo "FAIL train-wrote-$f"; fails=$((fails + 1)); }
  done
  check train-refuses-existing-run 1 'already holds a run' -- "$ludus" train --set run_dir=run "${tiny[@]}"
  check train-resume 0 'resumed' -- "$ludus" train --resume run
  check plot-runs 0 'out/cmp.png: 2 line\(s\) of train_win' -- "$ludus" plot -o out/cmp.png --column train_win a=run b=run,run
  [ -s out/cmp.png ] || { echo "FAIL plot-runs: no PNG"; fails=$((fails + 1)); }
  check plot-not-a-run 2 'out has no metrics.csv' -- "$ludus" plot -o out/x.png a=out
  check plot-bad-group 2 "'run' is not LABEL=RUN_DIR" -- "$ludus" plot -o out/x.png run
  check plot-bad-column 1 "no column 'nope'" -- "$ludus" plot -o out/x.png --column nope a=run
  mkdir -p badrun && printf 'update,samples,eval_win\n1,100,0.5\n2,2x00,0.6\n' > badrun/metrics.csv
  check plot-bad-cell 1 "badrun/metrics.csv:3: column 'samples' is not a number: '2x00'" -- "$ludus" plot -o out/x.png a=badrun
  check eval-checkpoint 0 'over 4 matches: .* win rate' -- "$ludus" eval --checkpoint run/best.pt --opponent random -n 4 --replays 1 --out evals
  check eval-set-threads 0 'over 6 matches: .* of decided' -- "$ludus" eval --checkpoint run/best.pt --opponent random -n 6 --replays 0 --threads 2 --set max_ticks=200
  check eval-set-bad-key 1 "unknown key 'max_tick'" -- "$ludus" eval --checkpoint run/best.pt --opponent random -n 2 --set max_tick=200
  check train-embedded-is-codeball 0 'env: codeball' -- cat run/config.yaml
  check run-policy-agent 0 "match 1/1" -- "$ludus" run --env codeball --agents policy:run/best.pt,random --set team_size=1 --set action_mode=discrete --set max_ticks=300 --out out/p.rpl
  check run-policy-other-options 1 "trained with other game options" -- "$ludus" run --env codeball --agents policy:run/best.pt,random --set max_ticks=300
  head -c 300 run/best.pt > broken.pt
  check eval-refuses-truncated-checkpoint 1 'truncated checkpoint' -- "$ludus" eval --checkpoint broken.pt
  check train-bad-key 1 "unknown key 'grpo.group'" -- "$ludus" train --set grpo.group=3
  check train-bad-eval-set 1 "eval.set: .*unknown key 'game.max_tick'" -- "$ludus" train --set run_dir=run-bad-eval --set eval.set=max_tick=3
fi

echo "$fails failed"
[ "$fails" -eq 0 ]
