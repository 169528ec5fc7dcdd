// The match loop: agents act on observations, the env steps, frames go to the replay.
#include "ludus/engine/match.hpp"

#include <stdexcept>
#include <vector>

#include "ludus/engine/frame.hpp"
#include "ludus/engine/replay.hpp"

namespace ludus {

MatchResult run_match(Env& env, std::span<Agent* const> agents, const MatchOptions& options) {
  const EnvSpec& spec = env.spec();
  if (agents.size() != static_cast<size_t>(spec.num_teams))
    throw std::invalid_argument("game '" + spec.name + "' has " + std::to_string(spec.num_teams) + " teams, got " +
                                std::to_string(agents.size()) + " agents");
  std::vector<float> obs(static_cast<size_t>(spec.num_agents * spec.obs_dim()));
  std::vector<float> reward(static_cast<size_t>(spec.num_agents));
  std::vector<float> actions(static_cast<size_t>(spec.num_agents * spec.action_dim()), 0.0f);
  uint8_t terminated = 0, truncated = 0;
  StepView view{obs.data(), reward.data(), &terminated, &truncated};
  env.reset(options.seed, view);

  std::vector<std::vector<int>> team_ids;
  for (int t = 0; t < spec.num_teams; ++t) {
    team_ids.push_back(spec.team_agents(t));
    agents[static_cast<size_t>(t)]->reset(env, t, options.seed * 1000003 + static_cast<uint64_t>(t));
  }
  Frame frame;
  auto record = [&] {
    if (!options.replay) return;
    env.draw(frame);
    options.replay->add(frame);
  };
  record();
  const int every = options.frame_every < 1 ? 1 : options.frame_every;
  while (!terminated && !truncated) {
    for (int t = 0; t < spec.num_teams; ++t)
      agents[static_cast<size_t>(t)]->act(env, obs.data(), team_ids[static_cast<size_t>(t)], actions.data());
    for (int i = 0; i < spec.num_agents; ++i)
      if (!spec.action_space.contains(actions.data() + i * spec.action_dim()))
        throw std::runtime_error("agent of team " + std::to_string(spec.agent_team[static_cast<size_t>(i)]) +
                                 " produced an action outside " + spec.action_space.describe() + " for agent " +
                                 std::to_string(i));
    env.step(actions.data(), view);
    if (options.on_tick) options.on_tick(env);
    if (env.tick() % every == 0 || terminated || truncated) record();
  }
  MatchResult result = env.result();
  if (options.replay) options.replay->finish(result);
  return result;
}

}  // namespace ludus
