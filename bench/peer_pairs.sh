#!/usr/bin/env bash
# Side-by-side rates of ludus and the community simulators of its two games (ud1's public
# Codeball 2018 and CodeWars 2017 simulators, built outside the tree by the harnesses in
# ../shared/peers: build.sh puts them in /tmp/peers/bin). Each pair runs A B A B ... ROUNDS
# times on the same machine, and the medians of the rates each side prints are reported
# with their ratio. Run it on an idle machine: nothing else may run beside it.
#   bench/peer_pairs.sh [ROUNDS (default 5)] [PAIR ...]
# PAIRs: cb100 cb100det cb20 cbheld cwrush cwcontact (default: all). LUDUS_LIB_DIR puts
# another build's libludus_envs.so first on the library path (an A/B of two builds).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
[ $# -gt 0 ] && shift
pairs=("$@")
[ ${#pairs[@]} -eq 0 ] && pairs=(cb100 cb100det cb20 cbheld cwrush cwcontact)
peers=${PEERS_BIN:-/tmp/peers/bin}
ludus=build/bin/ludus
for f in "$peers/ud1_codeball_bench_o3" "$peers/ud1_codewars_bench_o3" "$ludus" build/bench/ludus_bench_codeball \
  build/bench/ludus_bench_codewars; do
  [ -x "$f" ] || { echo "peer_pairs: $f is missing (build ludus; ../shared/peers/build.sh for the peers)" >&2; exit 2; }
done
export LD_LIBRARY_PATH=${LUDUS_LIB_DIR:-}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Each side: a command and a sed expression that pulls its rate out of what it prints.
peer_cmd() {
  case $1 in
    cb100 | cb100det) echo "$peers/ud1_codeball_bench_o3 60000 100 actions=bench_env" ;;
    cb20) echo "$peers/ud1_codeball_bench_o3 200000 20 actions=bench_env" ;;
    cbheld) echo "$peers/ud1_codeball_bench_o3 60000 100 actions=bench_codeball" ;;
    cwrush) echo "$peers/ud1_codewars_bench_o3 3000" ;;
    cwcontact) echo "$peers/ud1_codewars_bench_o3 600 engage=1 episodes=10" ;;
  esac
}
ours_cmd() {
  local env="$ludus bench env codeball --set team_size=2 --set nitro=true --seconds 3"
  case $1 in
    cb100) echo "$env --set microticks=100" ;;
    cb100det) echo "$env --set microticks=100 --set deterministic=true" ;;
    cb20) echo "$env --set microticks=20" ;;
    cbheld) echo "build/bench/ludus_bench_codeball --benchmark_filter=SingleEnv/team_size:2/microticks:100/bullet:0$ --benchmark_min_time=3" ;;
    cwrush) echo "$ludus run --env codewars --set size=full --set max_ticks=3000 --agents rush,rush -o $out/r.rpl --frame-every 100000" ;;
    cwcontact) echo "build/bench/ludus_bench_codewars --benchmark_filter=FullFighting --benchmark_min_time=3" ;;
  esac
}
peer_rate() {  # ticks/s, or unit-steps/s for the contact workload
  if [ "$1" = cwcontact ]; then sed -nE 's/.* ([0-9.e+]+) unit-steps\/s.*/\1/p'; else sed -nE 's/.* ([0-9]+) ticks\/s.*/\1/p'; fi
}
ours_rate() {
  case $1 in
    cb100 | cb100det | cb20) sed -nE 's/.*single env, 1 thread: ([0-9]+) ticks\/s.*/\1/p' ;;
    cbheld) sed -nE 's/.*ticks_per_s=([0-9.]+)k\/s.*/\1/p' | awk '{ printf "%.0f\n", $1 * 1000 }' ;;
    cwrush) sed -nE 's/.*simulated [0-9]+ ticks in .* \(([0-9]+) ticks\/s\).*/\1/p' ;;
    cwcontact) sed -nE 's/.*unit_steps_per_s=([0-9.]+)M\/s.*/\1/p' | awk '{ printf "%.0f\n", $1 * 1e6 }' ;;
  esac
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| pair | peer (median of %d) | ludus (median of %d) | ludus / peer |\n|---|---|---|---|\n' "$rounds" "$rounds"
for p in "${pairs[@]}"; do
  pc=$(peer_cmd "$p") oc=$(ours_cmd "$p")
  [ -n "$pc" ] || { echo "peer_pairs: unknown pair '$p'" >&2; exit 2; }
  : > "$out/peer" && : > "$out/ours"
  for _ in $(seq "$rounds"); do
    # shellcheck disable=SC2086  # the commands are words
    $pc 2>&1 | peer_rate "$p" | head -1 >> "$out/peer"
    # shellcheck disable=SC2086
    $oc 2>&1 | ours_rate "$p" | head -1 >> "$out/ours"
  done
  a=$(median < "$out/peer") b=$(median < "$out/ours")
  printf '| %s | %s | %s | %.2fx |\n' "$p" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')"
done
