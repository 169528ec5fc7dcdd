// Matches: bots beat random, results are reproducible, the replay holds what was played.
#include <gtest/gtest.h>

#include <filesystem>

#include "ludus/engine/agent.hpp"
#include "ludus/engine/match.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/replay.hpp"
#include "test_temp.hpp"

namespace ludus {
namespace {

MatchResult play(const std::string& a, const std::string& b, uint64_t seed, ReplayWriter* replay = nullptr) {
  auto env = make_env("reach");
  auto x = make_agent(a, "reach"), y = make_agent(b, "reach");
  Agent* agents[2] = {x.get(), y.get()};
  MatchOptions mo;
  mo.seed = seed;
  mo.replay = replay;
  return run_match(*env, agents, mo);
}

TEST(Match, GreedyBeatsRandomAlmostAlways) {
  int wins = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) wins += play("greedy", "random", seed).winner == 0;
  EXPECT_GE(wins, 19);
}

TEST(Match, SameSeedSameResult) {
  const auto r1 = play("lazy", "random", 11), r2 = play("lazy", "random", 11);
  EXPECT_EQ(r1.team_scores, r2.team_scores);
  EXPECT_EQ(r1.ticks, r2.ticks);
}

TEST(Match, ReplayHoldsEveryFrameOfTheMatch) {
  const ludus_test::TempDir tmp;
  const auto path = tmp.file("match.rpl");
  ReplayHeader h;
  h.env_name = "reach";
  MatchResult played;
  {
    ReplayWriter w(path, h);
    played = play("greedy", "lazy", 21, &w);
  }
  ReplayReader r(path);
  ASSERT_EQ(r.num_frames(), played.ticks + 1) << "the kickoff and every tick";
  EXPECT_EQ(r.result().team_scores, played.team_scores);

  // Re-simulate and compare frame for frame.
  auto env = make_env("reach");
  auto x = make_agent("greedy", "reach"), y = make_agent("lazy", "reach");
  const auto& s = env->spec();
  std::vector<float> obs(static_cast<size_t>(s.num_agents * s.obs_dim())), rew(static_cast<size_t>(s.num_agents)),
      act(static_cast<size_t>(s.num_agents));
  uint8_t te = 0, tr = 0;
  StepView v{obs.data(), rew.data(), &te, &tr};
  env->reset(21, v);
  x->reset(*env, 0, 21 * 1000003);
  y->reset(*env, 1, 21 * 1000003 + 1);
  const auto t0 = s.team_agents(0), t1 = s.team_agents(1);
  Frame f;
  for (int64_t i = 0; i < r.num_frames(); ++i) {
    env->draw(f);
    ASSERT_EQ(r.frame(i), f) << "frame " << i;
    if (te || tr) break;
    x->act(*env, obs.data(), t0, act.data());
    y->act(*env, obs.data(), t1, act.data());
    env->step(act.data(), v);
  }
  std::filesystem::remove(path);
}

TEST(Agents, UnknownOrWrongGameAgentIsAClearError) {
  EXPECT_THROW(make_agent("nobody", "reach"), std::invalid_argument);
  EXPECT_NO_THROW(make_agent("random", "reach"));
  try {
    make_agent("greedy", "some-other-game");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("does not play"), std::string::npos);
  }
}

}  // namespace
}  // namespace ludus
