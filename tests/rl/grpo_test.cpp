// GRPO/PPO arithmetic against hand-computed values.
#include <gtest/gtest.h>

#include "ludus/rl/grpo.hpp"

namespace ludus::rl {
namespace {

TEST(GroupAdvantages, StdMeanAndLeaveOneOut) {
  // Two groups: {1, 3} and {5, 5, 8}.
  const auto r = torch::tensor({1.0f, 3.0f, 5.0f, 5.0f, 8.0f});
  const auto g = torch::tensor({0, 0, 1, 1, 1}, torch::kLong);
  const auto mean = group_advantages(r, g, 2, AdvantageKind::mean);
  EXPECT_NEAR(mean[0].item<float>(), -1.0f, 1e-6);
  EXPECT_NEAR(mean[1].item<float>(), 1.0f, 1e-6);
  EXPECT_NEAR(mean[4].item<float>(), 2.0f, 1e-5);
  const auto sd = group_advantages(r, g, 2, AdvantageKind::std_norm);
  EXPECT_NEAR(sd[0].item<float>(), -1.0f, 1e-5) << "population std of {1,3} is 1";
  EXPECT_NEAR(sd[4].item<float>(), 2.0f / std::sqrt(2.0f), 1e-4) << "population std of {5,5,8} is sqrt 2";
  const auto loo = group_advantages(r, g, 2, AdvantageKind::rloo);
  EXPECT_NEAR(loo[0].item<float>(), 1.0f - 3.0f, 1e-5);
  EXPECT_NEAR(loo[4].item<float>(), 8.0f - 5.0f, 1e-5);
  EXPECT_NEAR(loo[2].item<float>(), 5.0f - 6.5f, 1e-5);
}

TEST(GroupAdvantages, StdErasesMagnitudeMeanKeepsIt) {
  const auto g = torch::tensor({0, 0}, torch::kLong);
  const auto small = group_advantages(torch::tensor({1.0f, -1.0f}), g, 1, AdvantageKind::std_norm);
  const auto big = group_advantages(torch::tensor({5.0f, -5.0f}), g, 1, AdvantageKind::std_norm);
  EXPECT_NEAR(small[0].item<float>(), big[0].item<float>(), 1e-5);
  const auto big_mean = group_advantages(torch::tensor({5.0f, -5.0f}), g, 1, AdvantageKind::mean);
  EXPECT_NEAR(big_mean[0].item<float>(), 5.0f, 1e-5);
}

TEST(GroupAdvantages, DegenerateGroupsAreMarked) {
  const auto r = torch::tensor({2.0f, 2.0f, 1.0f, 0.0f});
  const auto g = torch::tensor({0, 0, 1, 1}, torch::kLong);
  torch::Tensor keep;
  const auto a = group_advantages(r, g, 2, AdvantageKind::std_norm, &keep);
  EXPECT_FALSE(keep[0].item<bool>());
  EXPECT_FALSE(keep[1].item<bool>());
  EXPECT_TRUE(keep[2].item<bool>());
  EXPECT_EQ(a[0].item<float>(), 0.0f);
  EXPECT_TRUE(torch::isfinite(a).all().item<bool>());
}

TEST(Stepwise, ReturnToGoAndBaselineOverAliveRows) {
  // T = 3, two rows in one group; row 1 ends after step 1.
  const auto rew = torch::tensor({{1.0f, 0.0f}, {0.0f, 2.0f}, {3.0f, 0.0f}});
  const auto alive = torch::tensor({{1.0f, 1.0f}, {1.0f, 1.0f}, {1.0f, 0.0f}});
  const auto rtg = returns_to_go(rew, alive);
  EXPECT_FLOAT_EQ(rtg[0][0].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(rtg[0][1].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(rtg[2][1].item<float>(), 0.0f);
  const auto adv = stepwise_group_advantages(rtg, alive, torch::tensor({0, 0}, torch::kLong), 1, AdvantageKind::mean);
  EXPECT_FLOAT_EQ(adv[0][0].item<float>(), 1.0f);   // 4 - mean(4, 2)
  EXPECT_FLOAT_EQ(adv[1][1].item<float>(), -0.5f);  // 2 - mean(3, 2)
  EXPECT_FLOAT_EQ(adv[2][0].item<float>(), 0.0f) << "alone at step 2: no baseline, no signal";
  EXPECT_FLOAT_EQ(adv[2][1].item<float>(), 0.0f);
}

TEST(Stepwise, DiscountedReturnToGo) {
  // G_t = r_t + 0.5 G_{t+1}; row 1 ends after step 1 (its step-2 reward is not its own).
  const auto rew = torch::tensor({{1.0f, 0.0f}, {0.0f, 2.0f}, {4.0f, 8.0f}});
  const auto alive = torch::tensor({{1.0f, 1.0f}, {1.0f, 1.0f}, {1.0f, 0.0f}});
  const auto rtg = returns_to_go(rew, alive, 0.5);
  EXPECT_FLOAT_EQ(rtg[2][0].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(rtg[1][0].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(rtg[0][0].item<float>(), 2.0f);  // 1 + 0.5 * (0 + 0.5 * 4)
  EXPECT_FLOAT_EQ(rtg[0][1].item<float>(), 1.0f);  // 0 + 0.5 * 2
  EXPECT_FLOAT_EQ(rtg[2][1].item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(returns_to_go(rew, alive, 1.0), returns_to_go(rew, alive)));
}

TEST(Gae, MatchesHandComputedTwoStepEpisode) {
  // One row, rewards 1 then 1, terminal after step 1; values 0.5 and 0.25.
  const auto rew = torch::tensor({{1.0f}, {1.0f}});
  const auto val = torch::tensor({{0.5f}, {0.25f}});
  const auto alive = torch::ones({2, 1});
  const auto term = torch::tensor({{0.0f}, {1.0f}});
  const auto boot = torch::zeros({2, 1});
  const double gamma = 0.9, lambda = 0.8;
  const auto adv = gae(rew, val, alive, term, boot, gamma, lambda);
  const double d1 = 1 - 0.25, d0 = 1 + gamma * 0.25 - 0.5;
  EXPECT_NEAR(adv[1][0].item<float>(), d1, 1e-6);
  EXPECT_NEAR(adv[0][0].item<float>(), d0 + gamma * lambda * d1, 1e-6);
  // Cut (truncated) instead of terminal: bootstrap from V(next) = 2.
  const auto boot2 = torch::tensor({{0.0f}, {2.0f}});
  const auto adv2 = gae(rew, val, alive, torch::zeros({2, 1}), boot2, gamma, lambda);
  EXPECT_NEAR(adv2[1][0].item<float>(), 1 + gamma * 2 - 0.25, 1e-6);
}

TEST(Surrogate, ClipsAsymmetricallyAndKlIsNonNegative) {
  const auto old = torch::zeros({3});
  const auto logp = torch::log(torch::tensor({0.5f, 1.0f, 2.0f}));
  const auto pos = clipped_surrogate(logp, old, torch::ones({3}), 0.2, 0.28);
  EXPECT_NEAR(pos[0].item<float>(), 0.5f, 1e-6);
  EXPECT_NEAR(pos[2].item<float>(), 1.28f, 1e-6) << "ratio 2 is clipped at 1 + clip_high";
  const auto neg = clipped_surrogate(logp, old, -torch::ones({3}), 0.2, 0.28);
  EXPECT_NEAR(neg[0].item<float>(), -0.8f, 1e-6) << "ratio 0.5 with A < 0 is clipped at 1 - clip_low";
  const auto kl = kl_unbiased(logp, old);
  EXPECT_TRUE((kl >= 0).all().item<bool>());
  EXPECT_NEAR(kl_unbiased(old, old).abs().max().item<float>(), 0.0f, 1e-7);
}

}  // namespace
}  // namespace ludus::rl
