// PolicyAgent: plays a game with a trained network (argmax or sampled actions).
#pragma once

#include <string>

#include "ludus/engine/agent.hpp"
#include "ludus/engine/rng.hpp"
#include "ludus/rl/checkpoint.hpp"
#include "ludus/rl/policy.hpp"

namespace ludus {

// The decision interval of the game options a checkpoint was trained on (1 when they
// cannot be built here).
int trained_decision_interval(const rl::CheckpointMeta& meta);

class PolicyAgent final : public Agent {
 public:
  // `net` is shared, not copied: an agent made during training plays the live weights.
  PolicyAgent(rl::PolicyNet net, bool greedy, std::string label);
  // Loads a checkpoint; throws rl::CheckpointError, or std::invalid_argument when it was
  // trained on another game than `env_name`. The agent keeps the decision interval of
  // the game options it was trained on (see hold_ticks).
  static std::unique_ptr<PolicyAgent> from_checkpoint(const std::string& path, const std::string& env_name,
                                                      bool greedy);

  // Throws std::invalid_argument when the game's observation or action shape differs
  // from the network's.
  void reset(const Env& env, int team, uint64_t seed) override;
  void act(const Env& env, const float* obs, std::span<const int> agent_ids, float* actions) override;

  // The network decides every `ticks` ticks and holds its action in between, also in a
  // game that reads actions more often (a policy trained with decision_ticks 8 plays a
  // rules game, which reads every tick, as it trained). The agent decides at the least
  // common multiple of this and the game's decision_interval. 1: the game's interval.
  void hold_ticks(int ticks) { hold_ticks_ = ticks < 1 ? 1 : ticks; }
  int hold_ticks() const { return hold_ticks_; }

 private:
  rl::PolicyNet net_;
  bool greedy_;
  std::string label_;
  Rng rng_;
  std::vector<float> rows_, sampled_;
  // The game reads actions only every spec().decision_interval ticks: the network runs at
  // those ticks and its actions are repeated in between.
  int64_t calls_ = 0;
  int hold_ticks_ = 1;
  std::vector<float> held_;
};

}  // namespace ludus
