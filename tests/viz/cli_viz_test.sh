#!/usr/bin/env bash
# The visualizer's CLI end to end, headless: replay --png / --frames / --gif / --info, bad files, windows on the offscreen driver.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ludus=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export SDL_VIDEODRIVER=${LUDUS_TEST_VIDEODRIVER:-offscreen} SDL_AUDIODRIVER=dummy
source "$here/../apps/check.sh"
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }

check run-writes-replay 0 'replay: m.rpl' -- "$ludus" run --env reach --agents greedy,random --seed 3 --out m.rpl
check png-at-tick 0 'wrote shot.png \(tick 60, 640x400\)' -- "$ludus" replay m.rpl --png shot.png --tick 60 --size 640x400
if is_png shot.png; then echo "ok   png-is-png"; else echo "FAIL png-is-png"; fails=$((fails + 1)); fi
check frames-every 0 'wrote [0-9]+ PNG frames to seq/' -- "$ludus" replay m.rpl --frames seq --every 50 --size 320x200 --no-hud
n=$(ls seq/frame-*.png 2>/dev/null | wc -l)
if [ "$n" -ge 3 ] && is_png seq/frame-000000.png && [ -f seq/frame-000050.png ]; then echo "ok   frames-files ($n)"; else
  echo "FAIL frames-files: $n files: $(ls seq | head)"; fails=$((fails + 1)); fi
check gif 0 'wrote anim.gif \([0-9]+ frames, every 30 ticks, 320x200\)' -- "$ludus" replay m.rpl --gif anim.gif --every 30 --size 320x200
if [ "$(head -c 6 anim.gif)" = "GIF89a" ]; then echo "ok   gif-is-gif"; else echo "FAIL gif-is-gif"; fails=$((fails + 1)); fi
check info 0 'all [0-9]+ frames decode' -- "$ludus" replay m.rpl --info
head -c 300 m.rpl > cut.rpl
check truncated-is-clear 1 'truncated replay' -- "$ludus" replay cut.rpl --png cut.png
printf 'garbage bytes, not a replay' > junk.rpl
check garbage-is-clear 1 'not a ludus replay' -- "$ludus" replay junk.rpl --png junk.png
check bad-size 2 'expected WIDTHxHEIGHT' -- "$ludus" replay m.rpl --png s.png --size 12by4
check replay-window-offscreen 0 '' -- "$ludus" replay m.rpl --speed 16 --quit-after 0.5
check watch-offscreen 0 '' -- "$ludus" watch --env reach --agents greedy,random --set team_size=3 --quit-after 0.7
check no-display-is-clear 1 'cannot open a window' -- env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER "$ludus" watch --quit-after 5
check watch-wrong-agents 2 'lists 1 agent' -- "$ludus" watch --env reach --agents greedy
check watch-unknown-agent 1 'nosuchbot' -- "$ludus" watch --env reach --agents nosuchbot,random --quit-after 0.2

echo "$fails failed"
[ "$fails" -eq 0 ]
