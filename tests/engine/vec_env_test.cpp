// VecEnv: batch layout, per-env seeding, auto-reset semantics.
#include <gtest/gtest.h>

#include <cstring>

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
