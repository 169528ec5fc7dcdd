// Reach: the rules as a player would notice them.
#include <gtest/gtest.h>

#include <cmath>

#include "examples/reach/reach.hpp"
#include "ludus/engine/frame.hpp"

namespace ludus::reach {
namespace {

struct Harness {
  explicit Harness(ReachOptions o = {}) : env(o) {
    const auto& s = env.spec();
    obs.resize(static_cast<size_t>(s.num_agents * s.obs_dim()));
    rew.resize(static_cast<size_t>(s.num_agents));
    act.assign(static_cast<size_t>(s.num_agents), 0.0f);
  }
  StepView view() { return StepView{obs.data(), rew.data(), &term, &trunc}; }
  void reset(uint64_t seed) { env.reset(seed, view()); }
  void step() { env.step(act.data(), view()); }
  ReachEnv env;
  std::vector<float> obs, rew, act;
  uint8_t term = 0, trunc = 0;
};

TEST(Reach, SpecFollowsTeamSize) {
  ReachOptions o;
  o.team_size = 3;
  Harness h(o);
  EXPECT_EQ(h.env.spec().num_agents, 6);
  EXPECT_EQ(h.env.spec().obs_dim(), 7 + 4 * 2 + 4 * 3 + 3);
  EXPECT_EQ(h.env.spec().agent_team, (std::vector<int>{0, 0, 0, 1, 1, 1}));
}

TEST(Reach, KickoffIsMirroredSoBothTeamsSeeTheSameObservation) {
  Harness h;
  h.reset(3);
  const auto d = static_cast<size_t>(h.env.spec().obs_dim());
  // Agent 0 (team 0) and agent 2 (team 1) start at mirrored spots.
  for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(h.obs[k], h.obs[2 * d + k], 1e-6) << "component " << k;
}

TEST(Reach, DiscAcceleratesToMaxSpeedAndWallsHoldIt) {
  Harness h;
  h.reset(1);
  h.act[0] = 5;  // team 0 agent 0 moves toward -x: into the near wall
  for (int t = 0; t < 60; ++t) h.step();
  const auto& a = h.env.state().agents[0];
  EXPECT_GE(a.x, -constants::kArenaHalfSizeM + constants::kAgentRadiusM - 0.05f);
  h.reset(1);
  h.act[0] = 3;  // +y
  for (int t = 0; t < 10; ++t) h.step();
  EXPECT_NEAR(h.env.state().agents[0].vy, constants::kMaxSpeedMPerS, 0.05);
}

TEST(Reach, TouchingTheTargetScoresForTheTeamAndPaysZeroSum) {
  Harness h;
  h.reset(2);
  bool scored = false;
  for (int t = 0; t < 900 && !scored; ++t) {
    // Everyone on team 0 runs at the target; team 1 stays.
    const auto& s = h.env.state();
    for (int i = 0; i < 2; ++i) {
      const float dx = s.target_x - s.agents[static_cast<size_t>(i)].x,
                  dy = s.target_y - s.agents[static_cast<size_t>(i)].y;
      double ang = std::atan2(dy, dx);
      if (ang < 0) ang += 2 * M_PI;
      h.act[static_cast<size_t>(i)] = static_cast<float>(1 + static_cast<int>(std::lround(ang / (M_PI / 4))) % 8);
    }
    h.step();
    scored = h.env.state().score[0] > 0;
    if (scored) {
      EXPECT_FLOAT_EQ(h.rew[0], 1.0f);
      EXPECT_FLOAT_EQ(h.rew[1], 1.0f);
      EXPECT_FLOAT_EQ(h.rew[2], -1.0f);
      EXPECT_FLOAT_EQ(h.rew[3], -1.0f);
    } else {
      for (float r : h.rew) EXPECT_EQ(r, 0.0f);
    }
  }
  EXPECT_TRUE(scored);
  EXPECT_EQ(h.env.state().score[1], 0);
  EXPECT_EQ(h.env.result().winner, 0);
}

// Both discs of a 1v1 run straight at the kickoff target from mirrored spots, so they
// touch it on the same tick at the same distance: that tie must not belong to a side
// (it went to the lowest index once, and team 0 took every kickoff point).
TEST(Reach, MirroredKickoffTiesGoToEitherSide) {
  ReachOptions o;
  o.team_size = 1;
  Harness h(o);
  int team0_first = 0, decided = 0;
  const int seeds = 300;
  for (int seed = 1; seed <= seeds; ++seed) {
    h.reset(static_cast<uint64_t>(seed));
    for (int t = 0; t < 300; ++t) {
      const auto& s = h.env.state();
      for (int i = 0; i < 2; ++i) {
        const float m = ReachEnv::mirror(i);
        const auto& a = s.agents[static_cast<size_t>(i)];
        double ang = std::atan2(m * (s.target_y - a.y), m * (s.target_x - a.x));
        if (ang < 0) ang += 2 * M_PI;
        h.act[static_cast<size_t>(i)] = static_cast<float>(1 + static_cast<int>(std::lround(ang / (M_PI / 4))) % 8);
      }
      h.step();
      const auto& after = h.env.state();
      if (after.score[0] + after.score[1] > 0) {
        ++decided;
        team0_first += after.score[0];
        break;
      }
    }
  }
  ASSERT_EQ(decided, seeds);
  // A fair coin gives 150 +- 8.7 (one sd): 110..190 is beyond 4.5 sd either way.
  EXPECT_GT(team0_first, 110);
  EXPECT_LT(team0_first, 190);
}

TEST(Reach, EpisodeTerminatesAtTargetScoreAndTruncatesAtMaxTicks) {
  ReachOptions o;
  o.max_ticks = 20;
  Harness h(o);
  h.reset(4);
  for (int t = 0; t < 19; ++t) {
    h.step();
    EXPECT_FALSE(h.trunc);
  }
  h.step();
  EXPECT_TRUE(h.trunc);
  EXPECT_FALSE(h.term);
  EXPECT_EQ(h.env.result().winner, -1) << "no touches: a draw";
}

TEST(Reach, ApproachShapingRewardsClosingIn) {
  ReachOptions o;
  o.approach_reward = 1.0;
  Harness h(o);
  h.reset(5);
  const auto& s = h.env.state();
  const float dx = s.target_x - s.agents[0].x, dy = s.target_y - s.agents[0].y;
  double ang = std::atan2(dy, dx);
  if (ang < 0) ang += 2 * M_PI;
  h.act[0] = static_cast<float>(1 + static_cast<int>(std::lround(ang / (M_PI / 4))) % 8);
  h.step();
  EXPECT_GT(h.rew[0], 0.0f);
  EXPECT_EQ(h.rew[1], 0.0f) << "an agent that stays closes no distance";
}

TEST(Reach, DrawShowsArenaTargetAndEveryDisc) {
  Harness h;
  h.reset(6);
  Frame f;
  h.env.draw(f);
  EXPECT_EQ(f.dims, 2);
  int discs = 0;
  for (const auto& it : f.items) discs += it.prim == Prim::circle && it.team >= 0;
  EXPECT_EQ(discs, 4);
  EXPECT_EQ(f.scores.size(), 2u);
}

}  // namespace
}  // namespace ludus::reach
