"""The Python module: spaces, shapes and dtypes, zero copy, determinism, opponents,
snapshots, errors, replays and plugins. Run by CTest (python.pytest) with PYTHONPATH set
to the build tree's python/ folder."""

import gc
import os
import pathlib
import subprocess
import tempfile

import numpy as np
import pytest

import ludus


def random_actions(space, shape, rng):
    if space.kind == "discrete":
        return rng.integers(0, space.n, size=shape)
    if space.kind == "multi_discrete":
        return rng.integers(0, np.asarray(space.nvec), size=shape + (len(space.nvec),))
    low, high = np.asarray(space.low), np.asarray(space.high)
    return rng.uniform(low, high, size=shape + low.shape).astype(np.float32)


def test_envs_lists_every_builtin_game_with_spaces_and_agents():
    games = {e["name"]: e for e in ludus.envs()}
    assert {"reach", "codeball", "codewars"} <= set(games)
    cb = games["codeball"]
    assert cb["action_space"].kind == "box" and cb["action_space"].shape == (5,)
    assert cb["observation_space"].dtype == "float32"
    assert "chaser" in cb["agents"] and "random" in cb["agents"]
    assert "team_size" in cb["options"]


@pytest.mark.parametrize("game,options", [("reach", {}), ("codeball", {"team_size": 1}),
                                          ("codewars", {"size": "duel"})])
def test_reset_and_step_shapes_and_dtypes(game, options):
    vec = ludus.make_vec(game, num_envs=3, threads=2, seed=4, **options)
    obs, info = vec.reset()
    n, a = vec.num_envs, vec.num_agents
    assert obs.shape == (n, a) + vec.observation_space.shape and obs.dtype == np.float32
    assert isinstance(info, dict)
    rng = np.random.default_rng(0)
    acts = random_actions(vec.action_space, (n, a), rng)
    obs2, rew, term, trunc, info = vec.step(acts)
    assert obs2.shape == obs.shape and rew.shape == (n, a) and rew.dtype == np.float32
    assert term.shape == (n,) and term.dtype == np.bool_ and trunc.dtype == np.bool_
    assert info["final_obs"].shape[0] == n and info["_final_obs"].dtype == np.bool_
    assert np.isfinite(obs2).all()


def test_arrays_view_the_env_buffers_without_copies():
    vec = ludus.make_vec("reach", num_envs=4, seed=1)
    obs, _ = vec.reset()
    assert not obs.flags.owndata and obs.base is not None
    before = obs.copy()
    acts = np.full((4, vec.num_agents), 1)
    obs2, rew, *_ = vec.step(acts)
    assert np.shares_memory(obs, obs2), "every step returns a view of the same buffer"
    assert not np.array_equal(before, obs), "the earlier view sees the new step (no copy was made)"


def test_arrays_are_reused_and_outlive_their_env():
    vec = ludus.make_vec("reach", num_envs=2, seed=1, max_ticks=3)
    obs, _ = vec.reset()
    acts = np.zeros((2, vec.num_agents), np.int64)
    first = vec.step(acts)
    second = vec.step(acts)
    for a, b in zip(first[:4], second[:4]):
        assert a is b, "step() hands out the same views every call (no arrays made per step)"
    assert first[0] is obs
    for key in ("final_obs", "_final_obs", "winner"):
        assert first[4][key] is second[4][key]
    *_, info = vec.step(acts)
    assert info["_final_obs"].all(), "max_ticks 3: both episodes end on the third step"
    kept = info["final_obs"]
    expected = kept.copy()
    del vec, obs, first, second, info
    gc.collect()
    # The arrays own a reference to the buffers, not to the VectorEnv: still readable.
    np.testing.assert_array_equal(kept, expected)


def test_same_seed_same_trajectory_and_reset_seed():
    def run(seed):
        vec = ludus.make_vec("codeball", num_envs=2, threads=2, seed=seed, team_size=1)
        vec.reset()
        rng = np.random.default_rng(3)
        out = []
        for _ in range(50):
            o, r, *_ = vec.step(random_actions(vec.action_space, (2, vec.num_agents), rng))
            out.append((o.copy(), r.copy()))
        return out

    a, b, c = run(7), run(7), run(8)
    assert all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    assert not all(np.array_equal(x[0], y[0]) for x, y in zip(a, c))


def test_episodes_auto_reset_with_the_final_observation():
    vec = ludus.make_vec("reach", num_envs=2, seed=3, max_ticks=5)
    vec.reset()
    for t in range(5):
        obs, rew, term, trunc, info = vec.step(np.zeros((2, vec.num_agents), dtype=np.int64))
    assert trunc.all() and info["_final_obs"].all()
    assert info["winner"].shape == (2,) and set(info["winner"]) <= {-1, 0, 1}
    assert not np.array_equal(info["final_obs"][0], obs[0]), "obs already holds the next episode"


def test_opponent_bot_plays_the_other_team():
    vec = ludus.make_vec("codeball", num_envs=2, seed=1, opponent="chaser", team_size=2)
    obs, _ = vec.reset()
    assert vec.num_agents == 2 and obs.shape[:2] == (2, 2)
    assert vec.agent_teams == [0, 0]
    goals_against = 0
    zero = np.zeros((2, 2, 5), dtype=np.float32)
    for _ in range(3000):
        obs, rew, term, trunc, info = vec.step(zero)
        goals_against += int((rew < -0.5).any(axis=1).sum())
    assert goals_against > 0, "two chasers score against robots that stand still"


def test_save_and_load_state_continue_identically():
    vec = ludus.make_vec("codewars", num_envs=2, seed=2, size="duel")
    vec.reset()
    rng = np.random.default_rng(1)
    for _ in range(70):
        vec.step(random_actions(vec.action_space, (2, vec.num_agents), rng))
    snap = vec.save_state(0)
    assert isinstance(snap, bytes) and len(snap) > 0
    vec.load_state(1, snap)
    # Observations are written at decision ticks (every decision_interval ticks): step to
    # the next one, where both envs must show the same game.
    k = vec.decision_interval
    assert k > 1
    zero = np.zeros((2, vec.num_agents), dtype=np.int64)
    for _ in range(k - 70 % k):
        obs, rew, *_ = vec.step(zero)
        assert np.array_equal(rew[0], rew[1])
    assert np.array_equal(obs[0], obs[1])
    with pytest.raises(ludus.FormatError):
        vec.load_state(0, snap[: len(snap) // 2])
    with pytest.raises(IndexError):
        vec.save_state(5)


def test_bad_input_is_a_python_exception_with_the_message():
    with pytest.raises(ValueError, match="team_size"):
        ludus.make_vec("codeball", team_size=9)
    with pytest.raises(ValueError, match="no_such_option"):
        ludus.make_vec("reach", no_such_option=1)
    with pytest.raises(ValueError, match="no_such_game|unknown"):
        ludus.make_vec("no_such_game")
    with pytest.raises(ValueError, match="opponent|agent"):
        ludus.make_vec("reach", opponent="no_such_bot")
    vec = ludus.make_vec("reach", num_envs=2)
    vec.reset()
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        vec.step(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="not in"):
        vec.step(np.full((2, 4), 99))
    with pytest.raises(TypeError):
        ludus.make_vec("reach", max_ticks=[1, 2])


def test_single_env_and_parallel_view():
    env = ludus.make("reach", seed=5)
    obs, _ = env.reset()
    assert obs.shape == (env.num_agents,) + env.observation_space.shape
    obs, rew, term, trunc, info = env.step(np.zeros(env.num_agents, dtype=np.int64))
    assert rew.shape == (env.num_agents,) and isinstance(term, bool)
    par = ludus.parallel_env("reach", seed=5)
    o, _ = par.reset()
    assert set(o) == set(par.agents) and par.agents[0] == "team0_0"
    o, r, te, tr, _ = par.step({a: 0 for a in par.agents})
    assert set(r) == set(par.agents)


def test_spaces_map_onto_gymnasium():
    sp = ludus.make_vec("codeball").action_space
    assert sp.kind == "box" and len(sp.low) == 5 and sp.high[3] == 15
    assert ludus.make_vec("reach").action_space.n == 9
    try:
        import gymnasium  # noqa: F401
    except ImportError:
        pytest.skip("gymnasium is not installed (not in Debian): plain attributes only")
    assert ludus.to_gymnasium(sp).shape == (5,)


def test_replays_written_by_the_cli_are_read_and_damaged_ones_refused():
    exe = os.environ.get("LUDUS_BIN")
    assert exe and os.path.exists(exe), "LUDUS_BIN (set by CTest) must name the ludus CLI"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.rpl")
        subprocess.run([exe, "run", "-e", "reach", "-a", "greedy,random", "-o", path, "--set", "max_ticks=60"],
                       check=True, capture_output=True)
        info = ludus.replay_info(path)
        assert info["game"] == "reach" and info["frames"] > 0 and info["complete"]
        data = open(path, "rb").read()
        bad = os.path.join(d, "bad.rpl")
        open(bad, "wb").write(data[: len(data) // 2])
        with pytest.raises(ludus.ReplayError):
            ludus.replay_info(bad)


def test_plugin_games_load_and_play():
    plugin = os.environ.get("LUDUS_PONG_PLUGIN")
    assert plugin and os.path.exists(plugin), "LUDUS_PONG_PLUGIN (set by CTest) must name the Pong plugin"
    added = ludus.load_plugin(plugin)
    assert "pong" in added
    vec = ludus.make_vec("pong", num_envs=2, opponent="tracker")
    obs, _ = vec.reset()
    obs, *_ = vec.step(random_actions(vec.action_space, (2, vec.num_agents), np.random.default_rng(0)))
    assert np.isfinite(obs).all()
    with pytest.raises(RuntimeError, match="cannot load plugin|not found"):
        ludus.load_plugin(plugin + ".missing")


def test_a_trained_checkpoint_plays_as_the_opponent():
    exe = os.environ.get("LUDUS_BIN")
    assert exe and os.path.exists(exe), "LUDUS_BIN (set by CTest) must name the ludus CLI"
    with tempfile.TemporaryDirectory() as d:
        run = os.path.join(d, "run")
        subprocess.run([exe, "train", "--set", "env=reach", "--set", "total_steps=2000", "--set", "threads=1",
                        "--set", "eval.every=0", "--set", "run_dir=" + run], check=True, capture_output=True)
        ckpts = sorted(os.listdir(os.path.join(run, "checkpoints")))
        assert ckpts, "training wrote a checkpoint"
        ckpt = os.path.join(run, "checkpoints", ckpts[-1])
        # The preset trains Reach 1v1: the opponent needs the same observation size.
        vec = ludus.make_vec("reach", num_envs=2, opponent="policy:" + ckpt, team_size=1)
        obs, _ = vec.reset()
        assert obs.shape[1] == 1
        for _ in range(5):
            obs, *_ = vec.step(np.zeros((2, 1), dtype=np.int64))
        assert np.isfinite(obs).all()
        with pytest.raises(ValueError, match="22"):   # 2v2 observations: refused when the match starts
            ludus.make_vec("reach", opponent="policy:" + ckpt, team_size=2).reset()
        with pytest.raises((ValueError, RuntimeError), match="missing.pt"):
            ludus.make_vec("reach", opponent="policy:" + os.path.join(d, "missing.pt")).reset()


@pytest.mark.parametrize("game,options", [("codeball", {"team_size": 2}), ("codewars", {"size": "duel"})])
def test_identical_to_the_cpp_vecenv_for_the_same_seed_and_actions(game, options):
    vec = ludus.make_vec(game, num_envs=3, threads=2, seed=11, **options)
    vec.reset()
    rng = np.random.default_rng(5)
    acts = np.stack([random_actions(vec.action_space, (3, vec.num_agents), rng) for _ in range(80)])
    ref_obs, ref_rew = ludus._ludus._reference_rollout(game, 3, 11, acts.astype(np.float32), **options)
    for t in range(80):
        obs, rew, *_ = vec.step(acts[t])
        assert np.array_equal(obs.reshape(ref_obs[t].shape), ref_obs[t]), f"step {t}: observations differ"
        assert np.array_equal(rew, ref_rew[t]), f"step {t}: rewards differ"


def rss_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def test_no_leak_over_a_hundred_thousand_steps():
    vec = ludus.make_vec("reach", num_envs=1, seed=1, opponent="lazy", team_size=1)
    vec.reset()
    acts = np.zeros((1, 1), dtype=np.int64)
    for _ in range(5000):  # warm-up: caches, allocator pools
        vec.step(acts)
    before = rss_kb()
    for _ in range(100000):
        vec.step(acts)
    grown = rss_kb() - before
    assert grown < 2048, f"resident memory grew by {grown} kB over 10^5 steps"


def test_replay_recorded_from_python_round_trips():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "py.rpl")
        vec = ludus.make_vec("reach", num_envs=2, seed=4, opponent="greedy", team_size=1, max_ticks=40)
        vec.reset()
        vec.start_replay(1, path)
        for _ in range(40):
            obs, rew, term, trunc, info = vec.step(np.zeros((2, 1), dtype=np.int64))
        assert trunc[1]
        info = ludus.replay_info(path)
        assert info["complete"] and info["game"] == "reach" and info["agents"] == ["python", "greedy"]
        assert info["frames"] == 40 and info["ticks"] == 40 and info["tick_rate_hz"] > 0
        assert vec.stop_replay(1) is None, "the episode end finished it"
        exe = os.environ.get("LUDUS_BIN")
        out = subprocess.run([exe, "replay", path, "--info"], check=True, capture_output=True, text=True).stdout
        assert "reach" in out
        with pytest.raises(ValueError, match="one name per team"):
            vec.start_replay(0, path, agents=["a"])


def test_the_greedy_rule_in_python_is_the_greedy_bot():
    # python/examples/reach_scripted.py rewrites `greedy` from the observation; against the
    # real bot it must play a mirror match: both sides win some, and the same seeds give the
    # same results twice.
    import importlib.util
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "reach_scripted.py"
    spec = importlib.util.spec_from_file_location("reach_scripted", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    first = [mod.play("greedy", 40, team, 5_000_000) for team in (0, 1)]
    assert first == [mod.play("greedy", 40, team, 5_000_000) for team in (0, 1)]
    wins = sum(w for w, _ in first)
    assert 20 <= wins <= 60, first  # of 80 matches: a mirror match, not a rout either way
    w, d = mod.play("wait:1.5", 40, 0, 5_000_000)
    assert 0 < w < 40 and d == 0


def test_render_draws_the_state_as_rgb_pixels():
    vec = ludus.make_vec("reach", num_envs=2, seed=7)
    vec.reset()
    img = vec.render(0, width=160, height=120)
    assert img.shape == (120, 160, 3) and img.dtype == np.uint8
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 3  # arena, target, discs of two teams
    assert np.array_equal(img, vec.render(0, width=160, height=120))  # same state, same picture
    state = vec.save_state(0)
    for _ in range(20):
        vec.step(np.full((2, vec.num_agents), 1))  # everyone moves
    moved = vec.render(0, width=160, height=120)
    assert not np.array_equal(img, moved)
    vec.load_state(0, state)
    assert np.array_equal(img, vec.render(0, width=160, height=120))
    assert ludus.make("codeball").render(width=64, height=48, hud=True).shape == (48, 64, 3)
    with pytest.raises(ValueError, match="32, 8192"):
        vec.render(0, width=4, height=4)
    with pytest.raises(IndexError):
        vec.render(2)


def test_until_decision_plays_every_tick_to_the_next_decision_with_rewards_summed():
    # Codewars decides every 60 ticks; 150-tick episodes end between decision ticks.
    opts = dict(size="small", max_ticks=150, opponent="rush", seed=3)
    ticky = ludus.make_vec("codewars", num_envs=3, **opts)
    fast = ludus.make_vec("codewars", num_envs=3, until_decision=True, **opts)
    obs_t, _ = ticky.reset()
    obs_f, _ = fast.reset()
    np.testing.assert_array_equal(obs_t, obs_f)
    rng = np.random.default_rng(0)
    tick = 0
    with tempfile.TemporaryDirectory() as d:
        ticky.start_replay(2, os.path.join(d, "t.rpl"))
        fast.start_replay(2, os.path.join(d, "f.rpl"))
        for call in range(7):
            acts = random_actions(fast.action_space, (3, fast.num_agents), rng)
            obs_f, rew_f, term_f, trunc_f, info_f = fast.step(acts)
            total = np.zeros((3, ticky.num_agents), dtype=np.float32)
            while True:
                obs_t, rew_t, term_t, trunc_t, info_t = ticky.step(acts)
                total += rew_t
                tick += 1
                ended = bool(trunc_t.all())
                if ended or tick % 60 == 0:
                    break
            assert (term_t | trunc_t).all() == ended, "the envs are in step: same clock, no army destroyed"
            if ended:
                tick = 0
            np.testing.assert_array_equal(obs_f, obs_t, err_msg=f"call {call}")
            np.testing.assert_array_equal(rew_f, total, err_msg=f"call {call}")
            np.testing.assert_array_equal(trunc_f, trunc_t)
            np.testing.assert_array_equal(info_f["final_obs"], info_t["final_obs"])
        t, f = ludus.replay_info(os.path.join(d, "t.rpl")), ludus.replay_info(os.path.join(d, "f.rpl"))
        assert f["complete"] and f["frames"] == t["frames"] == 150 and f["ticks"] == t["ticks"]
    # 7 calls: 60 + 60 + 30 (the end) + 60 + 60 + 30 + 60 ticks, in each of the 3 envs.
    assert ticky.env_ticks == fast.env_ticks == 3 * 360
