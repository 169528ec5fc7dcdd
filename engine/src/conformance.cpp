// Conformance checks: spec, finiteness, determinism, snapshots, VecEnv threading, episodes.
#include "ludus/engine/conformance.hpp"

#include <cmath>
#include <cstring>
#include <functional>
#include <sstream>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/rng.hpp"
#include "ludus/engine/vec_env.hpp"

namespace ludus {
namespace {

struct Buffers {
  std::vector<float> obs, reward;
  uint8_t terminated = 0, truncated = 0;
  explicit Buffers(const EnvSpec& s)
      : obs(static_cast<size_t>(s.num_agents * s.obs_dim())), reward(static_cast<size_t>(s.num_agents)) {}
  StepView view() { return StepView{obs.data(), reward.data(), &terminated, &truncated}; }
  bool operator==(const Buffers& o) const {
    return std::memcmp(obs.data(), o.obs.data(), obs.size() * sizeof(float)) == 0 &&
           std::memcmp(reward.data(), o.reward.data(), reward.size() * sizeof(float)) == 0 &&
           terminated == o.terminated && truncated == o.truncated;
  }
};

// Where two step results first differ, with both values ("" when they are equal).
std::string first_difference(const float* a, const float* b, size_t obs_n, const float* ra, const float* rb,
                             size_t agents, uint8_t ta, uint8_t tb, uint8_t ua, uint8_t ub) {
  std::ostringstream os;
  os.precision(9);
  const size_t per = agents ? obs_n / agents : obs_n;
  for (size_t i = 0; i < obs_n; ++i)
    if (std::memcmp(a + i, b + i, sizeof(float)) != 0) {
      os << "observation of agent " << i / per << " at index " << i % per << ": " << a[i] << " vs " << b[i];
      return os.str();
    }
  for (size_t i = 0; i < agents; ++i)
    if (std::memcmp(ra + i, rb + i, sizeof(float)) != 0) {
      os << "reward of agent " << i << ": " << ra[i] << " vs " << rb[i];
      return os.str();
    }
  if (ta != tb) return "terminated: " + std::to_string(ta) + " vs " + std::to_string(tb);
  if (ua != ub) return "truncated: " + std::to_string(ua) + " vs " + std::to_string(ub);
  return "";
}

// with_obs false: rewards and flags only (a step between decisions need not write obs).
std::string first_difference(const Buffers& a, const Buffers& b, bool with_obs = true) {
  return first_difference(a.obs.data(), b.obs.data(), with_obs ? a.obs.size() : 0, a.reward.data(), b.reward.data(),
                          a.reward.size(), a.terminated, b.terminated, a.truncated, b.truncated);
}

// Whether the step that just ran had to write the observations (env.hpp).
bool obs_due(const Env& env, bool ended) { return observations_due(env.tick(), env.spec().decision_interval, ended); }

std::vector<float> random_actions(const EnvSpec& s, Rng& rng) {
  std::vector<float> a(static_cast<size_t>(s.num_agents * s.action_dim()));
  for (int i = 0; i < s.num_agents; ++i) s.action_space.sample(rng, a.data() + i * s.action_dim());
  return a;
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

class Checker {
 public:
  Checker(std::string env_name, ConfigTree options, ConformanceOptions conf)
      : name_(std::move(env_name)), options_(std::move(options)), conf_(conf) {}

  std::unique_ptr<Env> make() { return make_env(name_, options_); }

  void run(const std::string& check, const std::function<std::string()>& body) {
    CheckResult r{check, false, ""};
    try {
      r.detail = body();
      r.passed = true;
    } catch (const std::exception& e) {
      r.detail = e.what();
    }
    results_.push_back(std::move(r));
  }

  static void require(bool cond, const std::string& what) {
    if (!cond) throw std::runtime_error(what);
  }

  // Steps `env` for n ticks with actions from `rng`, resetting (seed + episode) when an
  // episode ends; returns every step's buffers.
  std::vector<Buffers> trajectory(Env& env, uint64_t seed, Rng rng, int64_t n) {
    const EnvSpec& s = env.spec();
    std::vector<Buffers> out;
    Buffers b(s);
    env.reset(seed, b.view());
    out.push_back(b);
    uint64_t episode = 0;
    for (int64_t t = 0; t < n; ++t) {
      auto a = random_actions(s, rng);
      env.step(a.data(), b.view());
      out.push_back(b);
      if (b.terminated || b.truncated) env.reset(seed + ++episode, b.view());
    }
    return out;
  }

  std::vector<CheckResult> all() {
    std::unique_ptr<Env> probe;
    run("create", [&] {
      probe = make();
      return "created '" + name_ + "'";
    });
    if (!probe) return results_;
    const EnvSpec spec = probe->spec();

    run("spec", [&] {
      spec.validate();
      require(spec.name == name_, "spec name '" + spec.name + "' differs from the registered name");
      return spec.describe();
    });

    run("reset_observations", [&] {
      auto env = make();
      Buffers b(spec);
      std::fill(b.obs.begin(), b.obs.end(), NAN);
      std::fill(b.reward.begin(), b.reward.end(), NAN);
      b.terminated = b.truncated = 7;
      env->reset(conf_.seed, b.view());
      require(all_finite(b.obs), "reset left non-finite or unwritten observations");
      for (float r : b.reward) require(r == 0.0f, "reset must write zero rewards");
      require(b.terminated == 0 && b.truncated == 0, "reset must clear terminated/truncated");
      require(env->tick() == 0, "tick() must be 0 after reset");
      std::vector<float> again(b.obs.size());
      env->observe(again.data());
      require(again == b.obs, "observe() differs from the observations reset wrote");
      float lo = INFINITY, hi = -INFINITY;
      for (float x : b.obs) lo = std::min(lo, x), hi = std::max(hi, x);
      std::ostringstream os;
      os << "obs range after reset [" << lo << ", " << hi << "]";
      return os.str();
    });

    run("determinism", [&] {
      auto a = make();
      auto b = make();
      const auto ta = trajectory(*a, conf_.seed, Rng(conf_.seed + 1), conf_.trajectory_ticks);
      const auto tb = trajectory(*b, conf_.seed, Rng(conf_.seed + 1), conf_.trajectory_ticks);
      for (size_t t = 0; t < ta.size(); ++t)
        if (!(ta[t] == tb[t]))
          require(false, "same seed and actions diverged at step " + std::to_string(t) + ": " +
                             first_difference(ta[t], tb[t]));
      Frame fa, fb;
      a->draw(fa);
      b->draw(fb);
      require(fa == fb, "same state drew different frames");
      auto c = make();
      const auto tc = trajectory(*c, conf_.seed + 99, Rng(conf_.seed + 1), conf_.trajectory_ticks);
      bool differs = false;
      for (size_t t = 0; t < ta.size() && !differs; ++t) differs = !(ta[t] == tc[t]);
      return std::to_string(ta.size()) + " steps identical" +
             (differs ? "; another seed gives another trajectory" : "; note: the seed did not change the trajectory");
    });

    run("save_load", [&] {
      auto a = make();
      Rng rng(conf_.seed + 2);
      Buffers ba(spec);
      a->reset(conf_.seed, ba.view());
      const int64_t warmup = std::max<int64_t>(1, std::min<int64_t>(conf_.trajectory_ticks / 2, spec.max_ticks / 2));
      for (int64_t t = 0; t < warmup; ++t) {
        auto act = random_actions(spec, rng);
        a->step(act.data(), ba.view());
        if (ba.terminated || ba.truncated) a->reset(conf_.seed + 1 + static_cast<uint64_t>(t), ba.view());
      }
      std::vector<uint8_t> snap;
      a->save_state(snap);
      require(!snap.empty(), "save_state wrote no bytes");
      auto b = make();
      Buffers bb(spec);
      b->reset(conf_.seed + 777, bb.view());  // different episode, overwritten by load
      b->load_state(snap);
      require(b->tick() == a->tick(), "tick differs after load_state");
      std::vector<float> oa(ba.obs.size()), ob(ba.obs.size());
      a->observe(oa.data());
      b->observe(ob.data());
      require(oa == ob, "observations differ right after load_state");
      std::vector<uint8_t> snap_b;
      b->save_state(snap_b);
      require(snap_b == snap, "a restored env saves different bytes than the original");
      Rng ra(conf_.seed + 3), rb(conf_.seed + 3);
      for (int64_t t = 0; t < conf_.trajectory_ticks; ++t) {
        auto xa = random_actions(spec, ra);
        auto xb = random_actions(spec, rb);
        a->step(xa.data(), ba.view());
        b->step(xb.data(), bb.view());
        const std::string diff = first_difference(ba, bb, obs_due(*a, ba.terminated || ba.truncated));
        if (!diff.empty())
          require(false, "restored env diverged from the original at step " + std::to_string(t) +
                             " after the restore: " + diff);
        if (ba.terminated || ba.truncated) break;
      }
      // Damaged snapshots are refused with an exception, not a crash.
      std::vector<uint8_t> cut(snap.begin(), snap.begin() + static_cast<long>(snap.size() / 2));
      bool refused = false;
      try {
        b->load_state(cut);
      } catch (const std::exception&) {
        refused = true;
      }
      require(refused, "load_state accepted a snapshot cut to half its length");
      refused = false;
      try {
        b->load_state(std::vector<uint8_t>{1, 2, 3});
      } catch (const std::exception&) {
        refused = true;
      }
      require(refused, "load_state accepted 3 garbage bytes");
      return "snapshot of " + std::to_string(snap.size()) + " bytes at tick " + std::to_string(a->tick()) +
             " continues identically; damaged snapshots refused";
    });

    run("decision_interval", [&] {
      const int k = spec.decision_interval;
      if (k <= 1) return std::string("actions read every tick");
      // From the same state at a tick between decisions, two different random actions
      // must leave the game in the same state: trainers skip those ticks.
      auto a = make(), b = make();
      Buffers ba(spec), bb(spec);
      a->reset(conf_.seed, ba.view());
      Rng rng(conf_.seed + 6);
      int checked = 0;
      for (int64_t t = 0; t < std::min<int64_t>(spec.max_ticks - 1, 3 * static_cast<int64_t>(k)); ++t) {
        if (a->tick() % k != 0) {
          std::vector<uint8_t> snap, sa, sb;
          a->save_state(snap);
          b->load_state(snap);
          auto x = random_actions(spec, rng), y = random_actions(spec, rng);
          a->step(x.data(), ba.view());
          b->step(y.data(), bb.view());
          a->save_state(sa);
          b->save_state(sb);
          require(sa == sb && first_difference(ba, bb, obs_due(*a, ba.terminated || ba.truncated)).empty(),
                  "actions at tick " + std::to_string(t) +
                      " (between decisions) changed the game; decision_interval is " + std::to_string(k));
          ++checked;
        } else {
          auto x = random_actions(spec, rng);
          a->step(x.data(), ba.view());
        }
        if (ba.terminated || ba.truncated) break;
      }
      require(checked > 0, "no tick between decisions was reached");
      return "actions between decisions ignored (" + std::to_string(checked) + " ticks, interval " + std::to_string(k) +
             ")";
    });

    run("observations_at_decisions", [&] {
      // Whenever a step must write observations (every step, or with decision_interval k
      // the steps that reach a decision tick and the last of an episode), they are the
      // ones observe() gives; a slot the step was allowed to skip is left as it was.
      auto env = make();
      Buffers b(spec);
      Rng rng(conf_.seed + 7);
      env->reset(conf_.seed, b.view());
      std::vector<float> fresh(b.obs.size());
      int64_t written = 0, skipped = 0, episodes = 0;
      for (int64_t t = 0; t < conf_.trajectory_ticks; ++t) {
        auto act = random_actions(spec, rng);
        const std::vector<float> before = b.obs;
        std::fill(b.obs.begin(), b.obs.end(), NAN);
        env->step(act.data(), b.view());
        const bool ended = b.terminated || b.truncated;
        if (obs_due(*env, ended)) {
          env->observe(fresh.data());
          for (size_t i = 0; i < fresh.size(); ++i)
            if (std::memcmp(&fresh[i], &b.obs[i], sizeof(float)) != 0)
              require(false, "step " + std::to_string(t) + " (tick " + std::to_string(env->tick()) + "): observation " +
                                 std::to_string(i) + " is " + std::to_string(b.obs[i]) + ", observe() says " +
                                 std::to_string(fresh[i]) + (std::isnan(b.obs[i]) ? " (not written by step)" : ""));
          ++written;
        } else {
          for (size_t i = 0; i < b.obs.size(); ++i)
            if (std::isnan(b.obs[i])) b.obs[i] = before[i];  // skipped: keeps what it held
          ++skipped;
        }
        if (ended) env->reset(conf_.seed + static_cast<uint64_t>(++episodes), b.view());
      }
      return std::to_string(written) + " steps wrote observe()'s observations" +
             (skipped ? ", " + std::to_string(skipped) + " between decisions skipped them" : std::string());
    });

    run("vec_env_threads", [&] {
      auto build = [&](int threads) {
        std::vector<std::unique_ptr<Env>> envs;
        for (int i = 0; i < conf_.vec_envs; ++i) envs.push_back(make());
        return VecEnv(std::move(envs), threads);
      };
      VecEnv one = build(1), many = build(conf_.vec_threads);
      one.reset(conf_.seed);
      many.reset(conf_.seed);
      Rng rng(conf_.seed + 4);
      const size_t obs_n = static_cast<size_t>(conf_.vec_envs * spec.num_agents * spec.obs_dim());
      const size_t act_n = static_cast<size_t>(conf_.vec_envs * spec.num_agents * spec.action_dim());
      int64_t ends = 0;
      for (int64_t t = 0; t < conf_.trajectory_ticks; ++t) {
        for (size_t k = 0; k < act_n; k += static_cast<size_t>(spec.action_dim()))
          spec.action_space.sample(rng, one.actions() + k);
        std::copy_n(one.actions(), act_n, many.actions());
        one.step();
        many.step();
        const size_t agents = static_cast<size_t>(conf_.vec_envs * spec.num_agents);
        if (std::memcmp(one.obs(), many.obs(), obs_n * sizeof(float)) != 0 ||
            std::memcmp(one.rewards(), many.rewards(), agents * sizeof(float)) != 0 ||
            std::memcmp(one.terminated(), many.terminated(), static_cast<size_t>(conf_.vec_envs)) != 0 ||
            std::memcmp(one.truncated(), many.truncated(), static_cast<size_t>(conf_.vec_envs)) != 0) {
          std::string where;
          const size_t per_env = obs_n / static_cast<size_t>(conf_.vec_envs);
          const auto A = static_cast<size_t>(spec.num_agents);
          for (int e = 0; e < conf_.vec_envs && where.empty(); ++e) {
            const auto u = static_cast<size_t>(e);
            where = first_difference(one.obs() + u * per_env, many.obs() + u * per_env, per_env, one.rewards() + u * A,
                                     many.rewards() + u * A, A, one.terminated()[e], many.terminated()[e],
                                     one.truncated()[e], many.truncated()[e]);
            if (!where.empty()) where = "env " + std::to_string(e) + ", " + where;
          }
          require(false, "1 thread and " + std::to_string(conf_.vec_threads) + " threads differ at step " +
                             std::to_string(t) + ": " + where);
        }
        for (int e = 0; e < conf_.vec_envs; ++e) ends += one.terminated()[e] + one.truncated()[e];
      }
      return std::to_string(conf_.vec_envs) + " envs, 1 vs " + std::to_string(conf_.vec_threads) +
             " threads identical over " + std::to_string(conf_.trajectory_ticks) + " steps (" + std::to_string(ends) +
             " episode ends)";
    });

    run("episode_semantics", [&] {
      auto env = make();
      Buffers b(spec);
      Rng rng(conf_.seed + 5);
      env->reset(conf_.seed, b.view());
      const int64_t limit = std::min<int64_t>(spec.max_ticks, conf_.random_ticks);
      for (int64_t t = 1; t <= limit; ++t) {
        auto act = random_actions(spec, rng);
        env->step(act.data(), b.view());
        require(env->tick() == t,
                "tick() is " + std::to_string(env->tick()) + " after " + std::to_string(t) + " steps");
        if (b.truncated)
          require(t == spec.max_ticks,
                  "truncated at tick " + std::to_string(t) + " before max_ticks " + std::to_string(spec.max_ticks));
        if (b.terminated || b.truncated) {
          const MatchResult r = env->result();
          require(r.team_scores.size() == static_cast<size_t>(spec.num_teams), "result() must score every team");
          require(r.winner >= -1 && r.winner < spec.num_teams, "result() winner out of range");
          return std::string(b.terminated ? "terminated" : "truncated") + " at tick " + std::to_string(t) +
                 ", winner " + std::to_string(r.winner);
        }
      }
      require(limit < spec.max_ticks, "reached max_ticks without truncated being set");
      return "no episode end within " + std::to_string(limit) + " ticks (max_ticks " + std::to_string(spec.max_ticks) +
             ")";
    });

    run("random_endurance", [&] {
      auto env = make();
      Buffers b(spec);
      Rng rng(conf_.seed + 6);
      env->reset(conf_.seed, b.view());
      int64_t episodes = 0;
      Frame frame;
      for (int64_t t = 0; t < conf_.random_ticks; ++t) {
        auto act = random_actions(spec, rng);
        env->step(act.data(), b.view());
        require(all_finite(b.obs), "non-finite observation at tick " + std::to_string(env->tick()));
        require(all_finite(b.reward), "non-finite reward at tick " + std::to_string(env->tick()));
        if (b.terminated || b.truncated) env->reset(conf_.seed + static_cast<uint64_t>(++episodes), b.view());
        if (t % 997 == 0) {
          frame.clear();
          env->draw(frame);
          require(!frame.items.empty(), "draw() emitted nothing");
          // Every body (disc or ball in world coordinates) stays inside the world the
          // frame declares, give or take its radius and 5% of the extent.
          for (const auto& it : frame.items) {
            if (it.screen || (it.prim != Prim::circle && it.prim != Prim::sphere)) continue;
            const float c[3] = {it.x, it.y, it.z};
            for (int k = 0; k < (frame.dims == 3 ? 3 : 2); ++k) {
              const float lo = frame.bounds[2 * k], hi = frame.bounds[2 * k + 1];
              const float pad = it.radius + 0.05f * (hi - lo);
              if (!(c[k] >= lo - pad && c[k] <= hi + pad))
                require(false, "a body is outside the world at tick " + std::to_string(env->tick()) + ": " + "xyz"[k] +
                                   std::string(" = ") + std::to_string(c[k]) + ", bounds [" + std::to_string(lo) +
                                   ", " + std::to_string(hi) + "]");
            }
          }
        }
      }
      return std::to_string(conf_.random_ticks) + " ticks, " + std::to_string(episodes) + " episodes, all finite";
    });

    run("frame_round_trip", [&] {
      auto env = make();
      Buffers b(spec);
      env->reset(conf_.seed, b.view());
      Frame f;
      env->draw(f);
      require(f.dims == 2 || f.dims == 3, "frame dims must be 2 or 3");
      for (const auto& it : f.items)
        require(std::isfinite(it.x) && std::isfinite(it.y) && std::isfinite(it.z) && std::isfinite(it.radius),
                "frame item with non-finite coordinates");
      std::vector<uint8_t> bytes;
      ByteWriter w(bytes);
      f.serialize(w);
      ByteReader r(bytes, "frame");
      require(Frame::deserialize(r) == f, "frame changed through serialize/deserialize");
      return std::to_string(f.items.size()) + " items, " + std::to_string(bytes.size()) + " bytes";
    });
    return results_;
  }

 private:
  std::string name_;
  ConfigTree options_;
  ConformanceOptions conf_;
  std::vector<CheckResult> results_;
};

}  // namespace

uint64_t trajectory_digest(Env& env, uint64_t seed, uint64_t action_seed, int64_t ticks) {
  // FNV-1a over the bytes of every step's observations, rewards and flags, and of the
  // saved state every 100 ticks and at the end.
  uint64_t h = 0xcbf29ce484222325ull;
  const auto mix = [&h](const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 0x100000001b3ull;
  };
  const EnvSpec& s = env.spec();
  Buffers b(s);
  Rng rng(action_seed);
  std::vector<uint8_t> state;
  env.reset(seed, b.view());
  uint64_t episode = 0;
  for (int64_t t = 0; t <= ticks; ++t) {
    if (t > 0) {
      auto a = random_actions(s, rng);
      env.step(a.data(), b.view());
    }
    // Observations where the contract says they are written (every step, or at decisions).
    if (t == 0 || obs_due(env, b.terminated || b.truncated)) mix(b.obs.data(), b.obs.size() * sizeof(float));
    mix(b.reward.data(), b.reward.size() * sizeof(float));
    mix(&b.terminated, 1);
    mix(&b.truncated, 1);
    if (t % 100 == 0 || t == ticks) {
      env.save_state(state);
      mix(state.data(), state.size());
    }
    if (b.terminated || b.truncated) env.reset(seed + ++episode, b.view());
  }
  return h;
}

std::vector<CheckResult> run_conformance(const std::string& env_name, const ConfigTree& options,
                                         const ConformanceOptions& conf) {
  Checker c(env_name, options, conf);
  return c.all();
}

}  // namespace ludus
