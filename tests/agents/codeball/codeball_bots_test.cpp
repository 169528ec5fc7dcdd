// Codeball bots: the orchestrator outscores chasers, the keeper stops a shot, and every
// bot plays every action mode and team size.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "codeball/codeball.hpp"
#include "ludus/engine/agent.hpp"
#include "ludus/engine/match.hpp"
#include "ludus/engine/registry.hpp"

namespace ludus {
namespace {

MatchResult play(const std::string& a, const std::string& b, uint64_t seed, ConfigTree options) {
  auto env = make_env("codeball", options);
  auto x = make_agent(a, "codeball"), y = make_agent(b, "codeball");
  Agent* agents[2] = {x.get(), y.get()};
  MatchOptions mo;
  mo.seed = seed;
  return run_match(*env, agents, mo);
}

ConfigTree short_match(int ticks) {
  ConfigTree t;
  t.apply_override("max_ticks=" + std::to_string(ticks));
  return t;
}

TEST(CodeballBots, OrchestratorOutscoresTwoChasers) {
  // 8 one-minute 2v2 matches (the full 200-match table is in envs/codeball/README.md).
  double scored = 0, conceded = 0;
  int wins = 0, losses = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const MatchResult r = play("orchestrator", "chaser", seed, short_match(3600));
    scored += r.team_scores[0];
    conceded += r.team_scores[1];
    wins += r.winner == 0;
    losses += r.winner == 1;
  }
  EXPECT_GT(scored, 1.5 * conceded) << "goals " << scored << ":" << conceded;
  EXPECT_GT(wins, losses);
}

TEST(CodeballBots, EveryBotPlaysEveryModeWithValidActions) {
  // run_match throws if an agent writes an action outside the space.
  for (const char* mode : {"continuous", "discrete"})
    for (int team_size = 1; team_size <= 3; ++team_size)
      for (const char* bot : {"chaser", "keeper", "orchestrator"}) {
        ConfigTree t = short_match(300);
        t.apply_override(std::string("action_mode=") + mode);
        t.apply_override("team_size=" + std::to_string(team_size));
        t.apply_override("nitro=" + std::string(team_size == 2 ? "false" : "true"));
        EXPECT_NO_THROW(play(bot, "chaser", 3, t)) << bot << " " << mode << " team_size " << team_size;
      }
}

// A shot rolling at team 0's goal: it scores if nobody guards, the keeper stops it.
int goals_conceded_on_a_shot(bool with_keeper) {
  codeball::CodeballOptions o;
  o.team_size = 1;
  o.deterministic = true;
  codeball::CodeballEnv env(o);
  const auto& spec = env.spec();
  std::vector<float> obs(static_cast<size_t>(spec.num_agents * spec.obs_dim())), rew(2), act(10, 0.0f);
  uint8_t te = 0, tr = 0;
  StepView view{obs.data(), rew.data(), &te, &tr};
  env.reset(1, view);
  codeball::GameState s = env.state();
  s.ball.position = {6, 2, -15};
  s.ball.velocity = {-3, 0, -28};
  s.robots[0].position = {0, 1, -37};
  s.robots[1].position = {20, 1, 10};
  env.set_state(s);
  auto keeper = make_agent("keeper", "codeball");
  keeper->reset(env, 0, 1);
  const int ids[1] = {0};
  for (int t = 0; t < 90; ++t) {
    std::fill(act.begin(), act.end(), 0.0f);
    if (with_keeper) keeper->act(env, obs.data(), ids, act.data());
    env.step(act.data(), view);
  }
  return env.state().score[1];
}

TEST(CodeballBots, KeeperStopsAShotThatScoresWithoutIt) {
  EXPECT_EQ(goals_conceded_on_a_shot(false), 1) << "the shot must be on target";
  EXPECT_EQ(goals_conceded_on_a_shot(true), 0) << "the keeper let it in";
}

}  // namespace
}  // namespace ludus
