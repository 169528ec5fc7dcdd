// VecEnv: batch layout, per-env seeding, auto-reset semantics.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ludus/engine/registry.hpp"
#include "ludus/engine/vec_env.hpp"

namespace ludus {
namespace {

std::vector<std::unique_ptr<Env>> make_envs(int n, int max_ticks) {
  ConfigTree opts;
  opts.apply_override("max_ticks=" + std::to_string(max_ticks));
  std::vector<std::unique_ptr<Env>> envs;
  for (int i = 0; i < n; ++i) envs.push_back(make_env("reach", opts));
  return envs;
}

TEST(VecEnv, EnvIMatchesASingleEnvSeededSeedPlusI) {
  VecEnv vec(make_envs(3, 50), 2);
  vec.reset(100);
  const auto& s = vec.spec();
  const int64_t stride = s.num_agents * s.obs_dim();
  for (int i = 0; i < 3; ++i) {
    auto single = make_envs(1, 50);
    std::vector<float> obs(static_cast<size_t>(stride)), rew(static_cast<size_t>(s.num_agents));
    uint8_t te = 0, tr = 0;
    single[0]->reset(100 + static_cast<uint64_t>(i), StepView{obs.data(), rew.data(), &te, &tr});
    EXPECT_EQ(std::memcmp(obs.data(), vec.obs() + i * stride, obs.size() * sizeof(float)), 0) << "env " << i;
  }
}

TEST(VecEnv, AutoResetsKeepingTheFinishedStepsFlagsAndFinalObs) {
  VecEnv vec(make_envs(2, 10), 2);
  vec.reset(5);
  const auto& s = vec.spec();
  for (int t = 1; t <= 10; ++t) {
    std::fill_n(vec.actions(), 2 * s.num_agents, 1.0f);
    vec.step();
    if (t < 10) {
      EXPECT_EQ(vec.truncated()[0], 0);
    }
  }
  EXPECT_EQ(vec.truncated()[0], 1);
  EXPECT_EQ(vec.truncated()[1], 1);
  EXPECT_EQ(vec.episodes(0), 1);
  EXPECT_EQ(vec.env(0).tick(), 0) << "the env was reset in the same step";
  // obs holds the new episode (time left = 1), final_obs the last one (time left = 0).
  const int64_t last = s.obs_dim() - 1;
  EXPECT_FLOAT_EQ(vec.obs()[last], 1.0f);
  EXPECT_FLOAT_EQ(vec.final_obs()[last], 0.0f);
  // The next step continues normally.
  vec.step();
  EXPECT_EQ(vec.truncated()[0], 0);
  EXPECT_EQ(vec.env(0).tick(), 1);
}

// A game that reads actions every 3rd tick and ends after 7 + seed % 3 ticks (so
// episodes end between decision ticks); its rewards depend on the tick and the actions.
class EveryThird final : public Env {
 public:
  EveryThird() {
    spec_.name = "every-third";
    spec_.num_teams = 2;
    spec_.num_agents = 2;
    spec_.agent_team = {0, 1};
    spec_.obs_shape = {2};
    spec_.action_space = ActionSpace::discrete(4);
    spec_.max_ticks = 100;
    spec_.decision_interval = 3;
  }
  const EnvSpec& spec() const override { return spec_; }
  void reset(uint64_t seed, StepView out) override {
    seed_ = seed;
    tick_ = 0;
    held_[0] = held_[1] = 0;
    out.reward[0] = out.reward[1] = 0;
    *out.terminated = *out.truncated = 0;
    observe(out.obs);
  }
  void step(const float* actions, StepView out) override {
    if (tick_ % 3 == 0) held_[0] = actions[0], held_[1] = actions[1];
    ++tick_;
    for (int a = 0; a < 2; ++a) out.reward[a] = held_[a] * static_cast<float>(tick_) + static_cast<float>(seed_ % 5);
    const bool end = tick_ >= 7 + static_cast<int64_t>(seed_ % 3);
    *out.terminated = end ? 1 : 0;
    *out.truncated = 0;
    if (observations_due(tick_, 3, end)) observe(out.obs);
  }
  void observe(float* obs) const override {
    for (int a = 0; a < 2; ++a) obs[2 * a] = static_cast<float>(tick_), obs[2 * a + 1] = held_[a];
  }
  void save_state(std::vector<uint8_t>&) const override {}
  void load_state(std::span<const uint8_t>) override {}
  void draw(Frame&) const override {}
  MatchResult result() const override { return MatchResult{}; }
  int64_t tick() const override { return tick_; }

 private:
  EnvSpec spec_;
  uint64_t seed_ = 0;
  int64_t tick_ = 0;
  float held_[2] = {0, 0};
};

std::vector<std::unique_ptr<Env>> every_third(int n) {
  std::vector<std::unique_ptr<Env>> envs;
  for (int i = 0; i < n; ++i) envs.push_back(std::make_unique<EveryThird>());
  return envs;
}

TEST(VecEnv, StepToDecisionIsStepRepeatedToTheNextDecisionTickWithRewardsSummed) {
  const int n = 5;
  const uint64_t seed = 11;
  VecEnv vec(every_third(n), 2);
  vec.reset(seed);
  // Each env's reference: a lone env stepped one tick at a time with the row's actions
  // held, auto-reset with the VecEnv's seeds (seed + e + k * n).
  struct Lone {
    EveryThird env;
    std::vector<float> obs = std::vector<float>(4), final_obs = std::vector<float>(4), reward = std::vector<float>(2);
    uint8_t te = 0, tr = 0;
    int64_t episodes = 0;
    StepView view() { return StepView{obs.data(), reward.data(), &te, &tr}; }
  };
  std::vector<Lone> lone(n);
  for (int e = 0; e < n; ++e)
    lone[static_cast<size_t>(e)].env.reset(seed + static_cast<uint64_t>(e), lone[static_cast<size_t>(e)].view());
  int ended_between_decisions = 0;
  for (int call = 0; call < 12; ++call) {
    for (int k = 0; k < 2 * n; ++k) vec.actions()[k] = static_cast<float>((call + k) % 4);
    std::vector<int> hooked(n, 0);
    const int64_t ticks = vec.step_to_decision([&](int env, int t, float* row) {
      EXPECT_EQ(t, hooked[static_cast<size_t>(env)]) << "the ticks of one call are numbered 0, 1, ...";
      ++hooked[static_cast<size_t>(env)];
      EXPECT_EQ(row, vec.actions() + 2 * env);
    });
    int64_t want_ticks = 0;
    for (int e = 0; e < n; ++e) {
      Lone& l = lone[static_cast<size_t>(e)];
      const float* row = vec.actions() + 2 * e;
      float sum[2] = {0, 0};
      int t = 0;
      bool ended = false;
      for (;;) {
        l.env.step(row, l.view());
        ++t;
        sum[0] += l.reward[0], sum[1] += l.reward[1];
        if (l.te || l.tr) {
          ended = true;
          if (l.env.tick() % 3 != 0) ++ended_between_decisions;
          l.final_obs = l.obs;
          ++l.episodes;
          l.env.reset(seed + static_cast<uint64_t>(e) + static_cast<uint64_t>(l.episodes * n), l.view());
          break;
        }
        if (l.env.tick() % 3 == 0) break;
      }
      want_ticks += t;
      SCOPED_TRACE("call " + std::to_string(call) + ", env " + std::to_string(e));
      EXPECT_EQ(hooked[static_cast<size_t>(e)], t);
      EXPECT_FLOAT_EQ(vec.rewards()[2 * e], sum[0]);
      EXPECT_FLOAT_EQ(vec.rewards()[2 * e + 1], sum[1]);
      EXPECT_EQ(vec.terminated()[e] != 0, ended);
      EXPECT_EQ(vec.episodes(e), l.episodes);
      EXPECT_EQ(vec.env(e).tick(), l.env.tick());
      EXPECT_EQ(std::vector<float>(vec.obs() + 4 * e, vec.obs() + 4 * e + 4), l.obs);
      if (ended) {
        EXPECT_EQ(std::vector<float>(vec.final_obs() + 4 * e, vec.final_obs() + 4 * e + 4), l.final_obs);
      }
    }
    EXPECT_EQ(ticks, want_ticks);
  }
  EXPECT_GT(ended_between_decisions, 0) << "the test must cover episodes that end between decision ticks";
}

TEST(VecEnv, StepTicksStepsAFixedCountOrToTheEpisodeEndAndLeavesSkippedEnvsAlone) {
  const int n = 5;
  const uint64_t seed = 3;
  VecEnv vec(every_third(n), 2);
  vec.reset(seed);
  EXPECT_THROW(vec.step_ticks(0), std::invalid_argument);
  std::vector<EveryThird> lone(n);
  std::vector<float> obs(4), reward(2);
  uint8_t te = 0, tr = 0;
  const StepView view{obs.data(), reward.data(), &te, &tr};
  std::vector<int64_t> episodes(n, 0);
  for (int e = 0; e < n; ++e) lone[static_cast<size_t>(e)].reset(seed + static_cast<uint64_t>(e), view);
  int ended = 0, skipped = 0;
  for (int call = 0; call < 10; ++call) {
    const int64_t count = 1 + call % 4;  // 1..4 ticks: across decision ticks, which step_ticks ignores
    std::vector<uint8_t> skip(n);
    for (int e = 0; e < n; ++e) skip[static_cast<size_t>(e)] = (e + call) % 3 == 0;
    for (int k = 0; k < 2 * n; ++k) vec.actions()[k] = static_cast<float>((call * 7 + k) % 4);
    std::vector<int> hooked(n, 0);
    const int64_t ticks = vec.step_ticks(
        count, [&](int env, int, float*) { ++hooked[static_cast<size_t>(env)]; }, skip.data());
    int64_t want_ticks = 0;
    for (int e = 0; e < n; ++e) {
      SCOPED_TRACE("call " + std::to_string(call) + ", env " + std::to_string(e));
      auto& l = lone[static_cast<size_t>(e)];
      float sum[2] = {0, 0};
      int t = 0;
      bool end = false;
      if (skip[static_cast<size_t>(e)]) {
        ++skipped;
      } else {
        while (t < count) {
          l.step(vec.actions() + 2 * e, view);
          ++t;
          sum[0] += reward[0], sum[1] += reward[1];
          if (te || tr) {
            end = true;
            ++ended;
            ++episodes[static_cast<size_t>(e)];
            l.reset(seed + static_cast<uint64_t>(e) + static_cast<uint64_t>(episodes[static_cast<size_t>(e)] * n),
                    view);
            break;
          }
        }
      }
      want_ticks += t;
      EXPECT_EQ(hooked[static_cast<size_t>(e)], t);
      EXPECT_FLOAT_EQ(vec.rewards()[2 * e], sum[0]);
      EXPECT_FLOAT_EQ(vec.rewards()[2 * e + 1], sum[1]);
      EXPECT_EQ(vec.terminated()[e] != 0, end);
      EXPECT_EQ(vec.truncated()[e], 0);
      EXPECT_EQ(vec.episodes(e), episodes[static_cast<size_t>(e)]);
      EXPECT_EQ(vec.env(e).tick(), l.tick());
    }
    EXPECT_EQ(ticks, want_ticks);
  }
  EXPECT_GT(ended, 0) << "the test must cover episodes that end inside a call";
  EXPECT_GT(skipped, 0);
}

TEST(VecEnv, RefusesMixedSpecs) {
  std::vector<std::unique_ptr<Env>> envs;
  envs.push_back(make_env("reach"));
  ConfigTree big;
  big.apply_override("team_size=3");
  envs.push_back(make_env("reach", big));
  EXPECT_THROW(VecEnv(std::move(envs), 1), std::invalid_argument);
}

}  // namespace
}  // namespace ludus
