"""Python stepping rate of ludus.make_vec against `ludus bench env` (the C++ VecEnv loop).

Both loops step a vector of NUM_ENVS envs with random actions for SECONDS per measurement,
on 1 and 2 threads; the Python loop draws its actions with numpy (one array per step) and
passes them through VectorEnv.step, which checks them, releases the GIL and steps the same
C++ VecEnv. The C++ figures come from running `ludus bench env GAME` in the same process
order (C++, Python, C++, Python, ...), ROUNDS times, so both see the same machine state.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_step.py [--game codeball]
        [--ludus build/bin/ludus] [--num-envs 16] [--seconds 3] [--rounds 3] [--set k=v ...]
        [--until-decision]

Prints every round and the medians: env-ticks/s for C++ and Python and their ratio.
"""
import argparse
import re
import statistics
import subprocess
import time

import numpy as np

import ludus


class RandomActions:
    """Random actions drawn with numpy into one preallocated array per step (the C++ loop
    samples into the VecEnv's action buffer the same way)."""

    def __init__(self, space, rng, shape):
        self.space, self.rng = space, rng
        if space.kind == "box":
            self.low = np.asarray(space.low, np.float32)
            self.span = np.asarray(space.high, np.float32) - self.low
            self.out = np.empty(shape + (len(self.low),), np.float32)
        elif space.kind == "multi_discrete":
            self.nvec = np.asarray(space.nvec)
            self.shape = shape + (len(self.nvec),)
        else:
            self.shape = shape

    def __call__(self):
        if self.space.kind == "box":
            self.rng.random(out=self.out, dtype=np.float32)
            self.out *= self.span
            self.out += self.low
            return self.out
        if self.space.kind == "multi_discrete":
            return self.rng.integers(0, self.nvec, size=self.shape)
        return self.rng.integers(0, self.space.n, size=self.shape)


def python_rate(game, num_envs, threads, seconds, options, until_decision):
    vec = ludus.make_vec(game, num_envs=num_envs, threads=threads, seed=1, until_decision=until_decision,
                         **options)
    vec.reset()
    actions = RandomActions(vec.action_space, np.random.default_rng(1), (vec.num_envs, vec.num_agents))
    for _ in range(16):  # warm-up
        vec.step(actions())
    ticks0 = vec.env_ticks
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(16):
            vec.step(actions())
    return (vec.env_ticks - ticks0) / (time.perf_counter() - t0)


def cpp_rates(ludus_bin, game, num_envs, seconds, sets, until_decision):
    cmd = [ludus_bin, "bench", "env", game, "--seconds", str(seconds), "--envs", str(num_envs)]
    for s in sets:
        cmd += ["--set", s]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rates = {}
    line = (r"VecEnv (\d+) envs, (\d+) thread\(s\), to the next decision \(\d+ ticks a call\): (\d+) env-ticks/s"
            if until_decision else r"VecEnv (\d+) envs, (\d+) thread\(s\): (\d+) env-ticks/s")
    for m in re.finditer(line, out):
        rates[int(m.group(2))] = float(m.group(3))
    if set(rates) != {1, 2}:
        raise SystemExit("could not read the VecEnv rates from `%s`:\n%s" % (" ".join(cmd), out))
    return rates


def parse_value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--game", default="codeball")
    ap.add_argument("--ludus", default="build/bin/ludus")
    ap.add_argument("--num-envs", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--set", action="append", default=[], help="game option key=value (both loops)")
    ap.add_argument("--until-decision", action="store_true",
                    help="step to the next decision tick per call (until_decision=True against the C++ "
                         "VecEnv::step_to_decision lines); needs a game with decision_interval > 1")
    args = ap.parse_args()
    options = {}
    for s in args.set:
        if "=" not in s:
            raise SystemExit("--set takes key=value, got %r" % s)
        k, v = s.split("=", 1)
        options[k] = parse_value(v)
    cpp = {1: [], 2: []}
    py = {1: [], 2: []}
    for r in range(args.rounds):
        c = cpp_rates(args.ludus, args.game, args.num_envs, args.seconds, args.set, args.until_decision)
        p = {t: python_rate(args.game, args.num_envs, t, args.seconds, options, args.until_decision) for t in (1, 2)}
        for t in (1, 2):
            cpp[t].append(c[t])
            py[t].append(p[t])
            print("round %d, %d thread(s): C++ %.0f, Python %.0f env-ticks/s (%.2fx)"
                  % (r + 1, t, c[t], p[t], p[t] / c[t]), flush=True)
    print("%s, %d envs%s, medians of %d rounds:"
          % (args.game, args.num_envs, ", to the next decision" if args.until_decision else "", args.rounds))
    for t in (1, 2):
        mc, mp = statistics.median(cpp[t]), statistics.median(py[t])
        print("  %d thread(s): C++ %.0f env-ticks/s, Python %.0f env-ticks/s: %.2fx" % (t, mc, mp, mp / mc))


if __name__ == "__main__":
    main()
