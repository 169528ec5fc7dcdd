"""Scripted strategies for Reach 1v1 against `greedy`, written in Python over ludus.make_vec.

How much can any policy gain over `greedy`, which runs straight at the target at full
speed? Both discs have the same speed and acceleration, so a race is won by whoever is
closer; this script measures a few hand-written strategies (sides alternating, seeds
5,000,000 and up, the game's rules with team_size 1) to put a trained policy's win rate
in context:

  greedy      the `greedy` bot's rule in Python (a mirror match: about 50%)
  wait:D      greedy while it wins the race; when the opponent will get there first, wait
              D metres short of the target on the side of the arena's centre, where the
              next target (drawn uniformly, at least 2 m from both discs) is more often
              closer to it than to the opponent standing on the old target
  centre      when losing the race, wait at the centre of the arena
  ram:L       when losing the race, run into the opponent's position L seconds ahead

    PYTHONPATH=build/python python3 python/examples/reach_scripted.py --matches 400
"""
import argparse

import numpy as np

import ludus

SPEED, ACCEL = 5.0, 20.0  # the game's constants (envs/examples/reach/reach.hpp)


def time_to_target(px, py, vx, vy, tx, ty):
    """Straight-line time plus a rough cost of turning the current velocity."""
    dx, dy = tx - px, ty - py
    d = np.hypot(dx, dy) + 1e-6
    along = (vx * dx + vy * dy) / d
    return d / SPEED + 0.5 * (SPEED - along) / ACCEL


def act(obs, strategy):
    # Observation layout of Reach 1v1 (own frame): x, y, vx, vy, target dx, dy, distance,
    # opponent dx, dy, vx, vy, scores, time left; positions / 10, offsets / 20, speeds / 5.
    x, y, vx, vy = obs[:, 0] * 10, obs[:, 1] * 10, obs[:, 2] * 5, obs[:, 3] * 5
    tx, ty = x + obs[:, 4] * 20, y + obs[:, 5] * 20
    ox, oy, ovx, ovy = x + obs[:, 7] * 20, y + obs[:, 8] * 20, obs[:, 9] * 5, obs[:, 10] * 5
    gx, gy = tx - x, ty - y
    losing = np.zeros(len(x), dtype=bool)
    name, _, arg = strategy.partition(":")
    if name != "greedy":
        losing = time_to_target(ox, oy, ovx, ovy, tx, ty) < time_to_target(x, y, vx, vy, tx, ty)
        if name == "wait":
            r = np.hypot(tx, ty) + 1e-6
            px, py = tx - tx / r * float(arg), ty - ty / r * float(arg)
        elif name == "centre":
            px, py = np.zeros_like(x), np.zeros_like(y)
        elif name == "ram":
            px, py = ox + ovx * float(arg), oy + ovy * float(arg)
        else:
            raise SystemExit(f"unknown strategy {strategy!r}")
        gx, gy = np.where(losing, px - x, gx), np.where(losing, py - y, gy)
    angle = np.arctan2(gy, gx) % (2 * np.pi)
    a = 1 + np.rint(angle / (np.pi / 4)).astype(int) % 8
    arrived = losing & (np.hypot(gx, gy) < 0.3) & (name in ("wait", "centre"))
    return np.where(arrived, 0, a).astype(np.float32)


def play(strategy, matches, team, seed):
    vec = ludus.make_vec("reach", num_envs=matches, seed=seed, opponent="greedy", learner_team=team, team_size=1)
    obs, _ = vec.reset()
    done = np.zeros(matches, dtype=bool)
    wins = draws = 0
    while not done.all():
        obs, _, term, trunc, info = vec.step(act(obs[:, 0], strategy)[:, None])
        ended = (term | trunc) & ~done
        wins += int((info["winner"][ended] == team).sum())
        draws += int((info["winner"][ended] == -1).sum())
        done |= ended
    return wins, draws


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--matches", type=int, default=400, help="matches per strategy, half on each side")
    p.add_argument("--strategies", default="greedy,wait:1.5,wait:3,centre,ram:0.2")
    a = p.parse_args()
    half = a.matches // 2
    print(f"Reach 1v1 vs greedy, {2 * half} matches per strategy (sides alternate), seeds 5,000,000 and up")
    for s in a.strategies.split(","):
        w0, d0 = play(s, half, 0, 5_000_000)
        w1, d1 = play(s, half, 1, 5_000_000 + half)
        wins, draws = w0 + w1, d0 + d1
        print(f"  {s:10s} {wins:4d} W {draws:3d} D {2 * half - wins - draws:4d} L: {100 * wins / (2 * half):5.1f}% won "
              f"(as team 0: {w0}, as team 1: {w1})", flush=True)


if __name__ == "__main__":
    main()
