"""ludus: physics games, scripted bots, replays and plugins as Gymnasium-shaped envs.

    import ludus
    vec = ludus.make_vec("codeball", num_envs=64, threads=2, seed=1, team_size=1)
    obs, info = vec.reset()
    obs, rewards, terminated, truncated, info = vec.step(actions)

Arrays are numpy views of ludus's own buffers (no copy per step); they are overwritten by
the next step: copy what you keep. step() and reset() return the same array objects every
call (info's arrays too), and an array stays valid after its env is gone. Shapes follow Gymnasium's vector envs with an agent
axis: obs [num_envs, agents, *obs_shape] float32, rewards [num_envs, agents] float32,
terminated / truncated [num_envs] bool. Auto-reset is the C++ VecEnv's: an env that ends
is reset in the same step; obs already holds the new episode's first observation and
info["final_obs"] (with the mask info["_final_obs"]) the last one of the finished
episode. Episode k of env i is seeded seed + i + k * num_envs.

With opponent="chaser" (any agent name of the game, or "policy:CHECKPOINT.pt") the
learner controls team learner_team (default 0) and the opponent plays the other team
every step; the arrays then hold the learner's agents only.

With until_decision=True one step() plays every tick up to the game's next decision tick
(a multiple of its decision_interval, e.g. 60 for codewars) or the end of the episode,
holding the actions: rewards are summed over those ticks, the opponent acts every tick,
and a recorded replay still gets every tick's frame. One call then costs the pool one
pass instead of one per tick. Default False: one tick per step().
"""

from . import _ludus
from ._ludus import ConfigError, FormatError, ReplayError, Space, VectorEnv, envs, load_plugin, replay_info

__version__ = _ludus.__version__
__all__ = ["make_vec", "make", "Env", "VectorEnv", "Space", "envs", "load_plugin", "replay_info", "to_gymnasium",
           "ConfigError", "FormatError", "ReplayError", "parallel_env"]


def make_vec(game, num_envs=1, threads=1, seed=0, opponent="", learner_team=0, until_decision=False, **options):
    """A vector env of `num_envs` games stepped on `threads` threads; **options are game options."""
    return VectorEnv(game, num_envs=num_envs, threads=threads, seed=seed, opponent=opponent,
                     learner_team=learner_team, until_decision=until_decision, **options)


class Env:
    """One game: the arrays of a one-env VectorEnv without the env axis.

    reset(seed=None) -> (obs [agents, *obs_shape], info)
    step(actions [agents(, action_dim)]) -> (obs, rewards [agents], terminated, truncated, info)
    """

    def __init__(self, game, seed=0, opponent="", learner_team=0, until_decision=False, **options):
        self._vec = VectorEnv(game, num_envs=1, threads=1, seed=seed, opponent=opponent,
                              learner_team=learner_team, until_decision=until_decision, **options)
        self.observation_space = self._vec.observation_space
        self.action_space = self._vec.action_space
        self.num_agents = self._vec.num_agents

    def reset(self, seed=None):
        obs, info = self._vec.reset(seed=seed)
        return obs[0], info

    def step(self, actions):
        import numpy as np
        obs, rew, term, trunc, info = self._vec.step(np.asarray(actions)[None])
        if trunc[0] or term[0]:
            info = {"final_obs": info["final_obs"][0]}
        else:
            info = {}
        return obs[0], rew[0], bool(term[0]), bool(trunc[0]), info

    def render(self, width=640, height=480, hud=False):
        """The current state as an RGB image: a [height, width, 3] uint8 array."""
        return self._vec.render(0, width=width, height=height, hud=hud)

    def save_state(self):
        return self._vec.save_state(0)

    def load_state(self, state):
        self._vec.load_state(0, state)

    @property
    def options(self):
        return self._vec.options

    def __repr__(self):
        return repr(self._vec).replace("VectorEnv", "Env", 1)


def make(game, seed=0, opponent="", learner_team=0, until_decision=False, **options):
    """One env of `game` (see Env)."""
    return Env(game, seed=seed, opponent=opponent, learner_team=learner_team, until_decision=until_decision,
               **options)


def to_gymnasium(space):
    """The gymnasium.spaces object for a ludus Space (needs gymnasium installed)."""
    import numpy as np
    from gymnasium import spaces
    if space.kind == "discrete":
        return spaces.Discrete(space.n)
    if space.kind == "multi_discrete":
        return spaces.MultiDiscrete(np.asarray(space.nvec, dtype=np.int64))
    low = -np.inf if space.low is None else np.asarray(space.low, dtype=np.float32)
    high = np.inf if space.high is None else np.asarray(space.high, dtype=np.float32)
    return spaces.Box(low=low, high=high, shape=tuple(space.shape), dtype=np.float32)


class parallel_env:
    """A PettingZoo-parallel-shaped view of one game: dicts keyed by agent name
    ("team0_0", "team0_1", "team1_0", ...)."""

    def __init__(self, game, seed=0, **options):
        import numpy as np
        self._env = Env(game, seed=seed, **options)
        counts = {}
        self.agents = []
        for t in self._env._vec.agent_teams:
            k = counts.get(t, 0)
            counts[t] = k + 1
            self.agents.append(f"team{t}_{k}")
        self.possible_agents = list(self.agents)
        self._np = np

    def observation_space(self, agent):
        return self._env.observation_space

    def action_space(self, agent):
        return self._env.action_space

    def reset(self, seed=None, options=None):
        obs, _ = self._env.reset(seed=seed)
        return {a: obs[i] for i, a in enumerate(self.agents)}, {a: {} for a in self.agents}

    def step(self, actions):
        act = self._np.stack([self._np.asarray(actions[a]) for a in self.agents])
        obs, rew, term, trunc, _ = self._env.step(act)
        o = {a: obs[i] for i, a in enumerate(self.agents)}
        return (o, {a: float(rew[i]) for i, a in enumerate(self.agents)}, {a: term for a in self.agents},
                {a: trunc for a in self.agents}, {a: {} for a in self.agents})
