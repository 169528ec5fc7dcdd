#!/usr/bin/env bash
# Long-run reliability check: trains Codewars small for MINUTES (default 60) with
# evaluations and checkpoints, sampling the trainer's resident memory and open files every
# SAMPLE seconds (default 60), then runs every game (plugins in LUDUS_PLUGIN_PATH too)
# for TICKS random-action ticks (default 1,000,000) through the conformance suite's
# endurance check (finite observations and rewards, every body inside the world).
#   scripts/soak.sh [MINUTES] [TICKS]      results under runs/soak-<date>/ (samples.csv, summary.txt)
# Fails if the typical memory (see the verdict below) grew more than 2% after the first 10
# minutes (or the first sixth of a shorter run), if the open-file count grew, or if a game
# failed its endurance check.
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
# Each update allocates its rollout batch and frees it, and the trainer hands the free
# pages back after every update, so a sample taken between updates reads what the process
# keeps, and one taken mid-update reads up to ~60% more. As games lengthen, updates do too
# and more samples land mid-update, which lifts a window's median with no leak at all (a
# 40-minute run: median +48%, between-update level flat). A leak lifts what is kept: the
# verdict compares the lower quartile of the first 5 minutes after the warm-up with the
# lower quartile of the last 5 minutes, and reports the medians and the peak beside them.
verdict=$(awk -F, -v warm="$warm" '
  function sorted(a, k,    i, j, x) {
    for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  }
  function median(a, k) { sorted(a, k); return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
  function quartile(a, k) { sorted(a, k); return a[int((k + 3) / 4)] }
  NR > 1 && $1 >= warm { n++; t[n] = $1; r[n] = $2; f[n] = $3 }
  END { if (n < 2) { print "FAIL too few samples after the warm-up"; exit }
        k1 = 0; k2 = 0; peak = 0
        for (i = 1; i <= n; i++) {
          if (t[i] < t[1] + 300) a1[++k1] = r[i]
          if (t[i] > t[n] - 300) a2[++k2] = r[i]
          if (r[i] > peak) peak = r[i]
        }
        first = quartile(a1, k1); last = quartile(a2, k2); g = (last - first) / first * 100
        m1 = median(a1, k1); m2 = median(a2, k2)
        printf "%s memory (lower quartile of 5 minutes) %d kB -> %d kB (%+.2f%%) after the warm-up; medians %d -> %d kB, peak %d kB; open files %d -> %d\n",
               (g <= 2 && f[n] <= f[1]) ? "PASS" : "FAIL", first, last, g, m1, m2, peak, f[1], f[n] }' "$out/samples.csv")
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
