"""A CleanRL-style PPO in Python over ludus.make_vec: Reach 1v1 against the `lazy` bot.

    bash scripts/install-deps.sh --python-example   # adds Debian's python3-torch (1.13), which only this example needs
    PYTHONPATH=build/python /usr/bin/python3 python/examples/ppo_reach.py --minutes 5

Trains one shared policy for the learner team (team 0) while ludus's `lazy` bot plays
team 1 inside the vector env, then evaluates the greedy policy on episode seeds it never
trained on (sides: the learner is team 0 in every match; Reach is symmetric).
"""

import argparse
import time

import numpy as np
import torch
import torch.nn as nn

import ludus

GAME = dict(team_size=1, max_ticks=300, target_score=3, approach_reward=0.05)


class Agent(nn.Module):
    def __init__(self, obs_dim, n_actions, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.pi = nn.Linear(hidden, n_actions)
        self.v = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.body(x)
        return self.pi(h), self.v(h).squeeze(-1)


def evaluate(agent, matches, seed, opponent):
    vec = ludus.make_vec("reach", num_envs=matches, seed=seed, opponent=opponent, **GAME)
    obs, _ = vec.reset()
    done = np.zeros(matches, dtype=bool)
    wins = draws = 0
    with torch.no_grad():
        while not done.all():
            logits, _ = agent(torch.as_tensor(obs[:, 0]))
            obs, _, term, trunc, info = vec.step(logits.argmax(-1).numpy()[:, None])
            ended = (term | trunc) & ~done
            wins += int((info["winner"][ended] == 0).sum())
            draws += int((info["winner"][ended] == -1).sum())
            done |= ended
    return wins, draws, matches - wins - draws


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--envs", type=int, default=32)
    p.add_argument("--steps", type=int, default=128, help="rollout length per update")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-matches", type=int, default=200)
    p.add_argument("--opponent", default="lazy")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)

    vec = ludus.make_vec("reach", num_envs=a.envs, threads=a.threads, seed=a.seed, opponent=a.opponent, **GAME)
    obs_dim, n_act = vec.observation_space.shape[0], vec.action_space.n
    agent = Agent(obs_dim, n_act)
    opt = torch.optim.Adam(agent.parameters(), lr=2.5e-4, eps=1e-5)
    gamma, lam, clip, epochs, minibatches, ent_coef = 0.99, 0.95, 0.2, 4, 4, 0.01

    N, T = a.envs, a.steps
    obs_b = torch.zeros(T, N, obs_dim)
    act_b = torch.zeros(T, N, dtype=torch.long)
    logp_b, rew_b, done_b, val_b = (torch.zeros(T, N) for _ in range(4))
    obs, _ = vec.reset()
    next_obs = torch.as_tensor(obs[:, 0]).clone()
    next_done = torch.zeros(N)
    start, steps, update, recent = time.time(), 0, 0, []
    while time.time() - start < a.minutes * 60:
        update += 1
        for t in range(T):
            obs_b[t], done_b[t] = next_obs, next_done
            with torch.no_grad():
                logits, v = agent(next_obs)
                dist = torch.distributions.Categorical(logits=logits)
                act = dist.sample()
            act_b[t], logp_b[t], val_b[t] = act, dist.log_prob(act), v
            obs, rew, term, trunc, info = vec.step(act.numpy()[:, None])
            rew_b[t] = torch.as_tensor(rew[:, 0])
            ended = term | trunc
            next_obs = torch.as_tensor(obs[:, 0]).clone()
            next_done = torch.as_tensor(ended, dtype=torch.float32)
            recent += [int(w == 0) for w in info["winner"][ended]]
        steps += N * T
        with torch.no_grad():
            _, next_v = agent(next_obs)
            adv = torch.zeros(T, N)
            last = torch.zeros(N)
            for t in reversed(range(T)):
                nonterm = 1.0 - (next_done if t == T - 1 else done_b[t + 1])
                nv = next_v if t == T - 1 else val_b[t + 1]
                delta = rew_b[t] + gamma * nv * nonterm - val_b[t]
                last = delta + gamma * lam * nonterm * last
                adv[t] = last
            ret = adv + val_b
        b_obs, b_act, b_logp = obs_b.reshape(-1, obs_dim), act_b.reshape(-1), logp_b.reshape(-1)
        b_adv, b_ret = adv.reshape(-1), ret.reshape(-1)
        idx = np.arange(N * T)
        for _ in range(epochs):
            np.random.shuffle(idx)
            for mb in np.array_split(idx, minibatches):
                logits, v = agent(b_obs[mb])
                dist = torch.distributions.Categorical(logits=logits)
                ratio = torch.exp(dist.log_prob(b_act[mb]) - b_logp[mb])
                mb_adv = (b_adv[mb] - b_adv[mb].mean()) / (b_adv[mb].std() + 1e-8)
                pg = torch.max(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - clip, 1 + clip)).mean()
                loss = pg + 0.5 * (v - b_ret[mb]).pow(2).mean() - ent_coef * dist.entropy().mean()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                opt.step()
        if update % 20 == 0:
            win = np.mean(recent[-200:]) if recent else 0.0
            print(f"update {update:4d}  steps {steps / 1e6:5.2f}M  {steps / (time.time() - start):7.0f} sps  "
                  f"train win vs {a.opponent} {win:5.1%}", flush=True)
    w, d, l = evaluate(agent, a.eval_matches, seed=9_000_000, opponent=a.opponent)
    print(f"evaluation vs {a.opponent} on fresh seeds: {w} W / {d} D / {l} L of {a.eval_matches} "
          f"({w / a.eval_matches:.1%}); {steps / 1e6:.2f}M agent-steps in {a.minutes} min")


if __name__ == "__main__":
    main()
