#!/usr/bin/env bash
# Long-run reliability check: trains Codewars small for MINUTES (default 60) with
# evaluations and checkpoints, sampling the trainer's resident memory and open files every
# SAMPLE seconds (default 60), then runs every game (plugins in LUDUS_PLUGIN_PATH too)
# for TICKS random-action ticks (default 1,000,000) through the conformance suite's
# endurance check (finite observations and rewards, every body inside the world).
#   scripts/soak.sh [MINUTES] [TICKS]      results under runs/soak-<date>/ (samples.csv, summary.txt)
# Fails if memory grew more than 2% after the first 10 minutes (or the first sixth of a
# shorter run), if the open-file count grew, or if a game failed its endurance check.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
ticks=${2:-1000000}
sample=${SAMPLE:-60}
ludus=${LUDUS:-build/bin/ludus}
out=runs/soak-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
echo "soak: training codewars small for $minutes min into $out/run (samples every ${sample}s)"
"$ludus" train --config configs/codewars-small.yaml --set time_budget_minutes="$minutes" \
  --set total_steps=1000000000000 --set run_dir="$out/run" > "$out/train.log" 2>&1 &
pid=$!
echo "elapsed_s,rss_kb,open_files" > "$out/samples.csv"
start=$(date +%s)
while kill -0 "$pid" 2> /dev/null; do
  rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status 2> /dev/null || echo "")
  fds=$(ls /proc/$pid/fd 2> /dev/null | wc -l)
  [ -n "$rss" ] && echo "$(( $(date +%s) - start )),$rss,$fds" >> "$out/samples.csv"
  sleep "$sample"
done
wait "$pid" || { echo "soak: training failed; see $out/train.log"; tail -5 "$out/train.log"; exit 1; }
warm=$(( minutes * 60 / 6 < 600 ? minutes * 60 / 6 : 600 ))
verdict=$(awk -F, -v warm="$warm" 'NR > 1 && $1 >= warm { if (!base) { base = $2; fd0 = $3 } last = $2; fd = $3; max = ($2 > max ? $2 : max) }
  END { if (!base) { print "FAIL no samples after the warm-up"; exit }
        g = (max - base) / base * 100;
        printf "%s memory %d kB after warm-up, peak %d kB (%+.2f%%), last %d kB; open files %d -> %d\n",
               (g <= 2 && fd <= fd0) ? "PASS" : "FAIL", base, max, g, last, fd0, fd }' "$out/samples.csv")
echo "soak: $verdict" | tee "$out/summary.txt"
status=0
[[ $verdict == PASS* ]] || status=1
for game in $("$ludus" envs | awk '/^[a-z]/ {print $1}'); do
  echo "soak: $game, $ticks random ticks"
  if "$ludus" check-env "$game" --ticks "$ticks" > "$out/check-$game.log" 2>&1; then
    echo "  $game: $ticks ticks, every check passed" | tee -a "$out/summary.txt"
  else
    echo "  $game: FAILED (see $out/check-$game.log)" | tee -a "$out/summary.txt"
    status=1
  fi
done
exit $status
