#!/usr/bin/env bash
# The custom-environment path of docs/custom-env.md, end to end, as an outside project
# takes it: install ludus into a prefix (cmake --install), build envs/examples/plugin
# against that package with find_package(ludus), then use its games through the
# installed CLI: check-env, run (with its bot), train, play the trained checkpoint, and
# watch (headless) when the visualizer is built. Run by scripts/test.sh after CTest.
#   usage: scripts/plugin-example.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
work="$build/plugin-example-check"
prefix="$work/prefix"
rm -rf "$work"
mkdir -p "$work"
step() { printf '\n== plugin example: %s\n' "$*"; }

step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
ludus="$prefix/bin/ludus"

step "build envs/examples/plugin against the installed package"
werror=()
[[ "${LUDUS_WERROR:-OFF}" == ON ]] && werror=(-DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror")
cmake -S envs/examples/plugin -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" "${werror[@]}" > "$work/configure.log"
cmake --build "$work/build"
pong="$work/build/libludus_pong.so"
tug="$work/build/libludus_tug.so"

step "check-env (the conformance suite the built-in games pass)"
"$ludus" check-env pong --plugin "$pong"
"$ludus" check-env tug --plugin "$tug"

step "run: the plugin's bot against random, plugins found through LUDUS_PLUGIN_PATH"
LUDUS_PLUGIN_PATH="$work/build" "$ludus" run --env pong --agents tracker,random -n 4 -o "$work/pong.rpl" | tail -2
"$ludus" replay "$work/pong.rpl" --info --plugin "$pong" | tail -1

step "train (a short GRPO + Muon run of the example config)"
"$ludus" train --plugin "$pong" --config envs/examples/plugin/pong.yaml \
  --set total_steps=60000 --set eval.every=2 --set eval.matches=4 --set checkpoint_every=2 \
  --set run_dir="$work/run" | grep -E '^\[u|^done'
test -f "$work/run/best.pt"

step "the trained checkpoint plays"
"$ludus" run --plugin "$pong" --env pong --set max_ticks=1500 --agents "policy:$work/run/best.pt,tracker" -n 2 \
  -o "$work/policy.rpl" | tail -1

if "$ludus" --help | grep -qE "^ *watch( |$)"; then
  step "watch (offscreen window for 2 s) and a replay frame as PNG"
  SDL_VIDEODRIVER=offscreen "$ludus" watch --plugin "$pong" --env pong --agents tracker,random --quit-after 2
  "$ludus" replay "$work/pong.rpl" --plugin "$pong" --png "$work/pong.png" --tick 100
  test -s "$work/pong.png"
fi
step "passed"
