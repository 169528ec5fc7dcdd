#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, leak checks) into ./build-fuzz and
# runs each one on its seed corpus (tests/fuzz/corpus/<target>/, copied: the tree is not
# written). Exits non-zero if a target finds a crash, a leak, a timeout or an
# out-of-memory; the input that did it is in build-fuzz/artifacts/<target>/.
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 30)] [TARGET ...]
#   scripts/fuzz.sh --seeds      rewrites the snapshot, frame and checkpoint seeds (tests/fuzz/make_seeds.cpp)
#                                and copies configs/*.yaml as the training-config seeds
# LUDUS_FUZZ_SEED=N fixes libFuzzer's random seed (CI does, so a CI run is repeatable).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${LUDUS_JOBS:-$(nproc)}
seeds=0
if [ "${1:-}" = "--seeds" ]; then seeds=1; shift; fi
secs=${1:-30}
[ $# -gt 0 ] && shift
# Every target is torch-free: the checkpoint target reads the container and metadata
# record (ludus::rl_meta); the torch archive inside is libtorch's, whose Debian headers
# (1.13) do not compile under clang in C++20, and tests/rl/checkpoint_test.cpp feeds it
# cut and foreign archives under GCC instead.
all=(fuzz_replay fuzz_frame fuzz_game_config fuzz_load_state fuzz_checkpoint fuzz_train_config fuzz_metrics_csv)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DLUDUS_FUZZ=ON \
  -DLUDUS_BUILD_TESTS=OFF -DLUDUS_BUILD_BENCH=OFF -DLUDUS_VIZ=OFF -DLUDUS_DIST=OFF \
  -DLUDUS_WITH_TORCH=OFF > /tmp/ludus-fuzz-configure.$$.log 2>&1 ||
  { cat /tmp/ludus-fuzz-configure.$$.log; exit 1; }
cmake --build build-fuzz --target ludus_fuzzers make_seeds -j "$jobs"
if [ $seeds -eq 1 ]; then
  build-fuzz/fuzz/make_seeds tests/fuzz/corpus
  mkdir -p tests/fuzz/corpus/fuzz_train_config
  cp configs/*.yaml tests/fuzz/corpus/fuzz_train_config/
  echo "fuzz: seeds written under tests/fuzz/corpus"
  exit 0
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=0
summary=""
for t in "${targets[@]}"; do
  bin=build-fuzz/fuzz/$t
  if [ ! -x "$bin" ]; then echo "fuzz: $t was not built"; failed=1; continue; fi
  work=build-fuzz/corpus/$t art=build-fuzz/artifacts/$t/
  mkdir -p "$work" "$art"
  [ -d tests/fuzz/corpus/$t ] && cp -n tests/fuzz/corpus/$t/* "$work"/ 2>/dev/null || true
  log=build-fuzz/$t.log
  echo "fuzz: $t for ${secs}s"
  set +e
  "$bin" -max_total_time="$secs" ${LUDUS_FUZZ_SEED:+-seed=$LUDUS_FUZZ_SEED} -timeout=20 -rss_limit_mb=2560 -max_len=262144 -print_final_stats=1 \
    -artifact_prefix="$art" "$work" > "$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  if [ $rc -ne 0 ]; then
    failed=1
    summary+="  $t: FAILED (exit $rc) after ${execs} runs; see $log and $art"$'\n'
    tail -40 "$log"
  else
    summary+="  $t: ${execs} runs in ${secs}s, no crash, leak, timeout or out-of-memory; corpus $(ls "$work" | wc -l) inputs"$'\n'
  fi
done
echo "fuzz summary:"
printf "%s" "$summary"
exit $failed
