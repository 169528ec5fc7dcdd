// Scripted bots for the Reach example game.
#include <cmath>
#include <memory>
#include <numbers>

#include "ludus/engine/agent.hpp"
#include "ludus/engine/rng.hpp"
#include "examples/reach/reach.hpp"

namespace ludus::reach {
namespace {

// Direction action (1..8) closest to (dx, dy) in the agent's own (mirrored) frame.
int direction_action(float dx, float dy) {
  double angle = std::atan2(dy, dx);
  if (angle < 0) angle += 2 * std::numbers::pi;
  return 1 + static_cast<int>(std::lround(angle / (std::numbers::pi / 4))) % 8;
}

// Runs straight at the target. With `hesitation` > 0 it idles on that fraction of
// ticks (a weaker sparring partner).
class GreedyBot final : public Agent {
 public:
  explicit GreedyBot(double hesitation) : hesitation_(hesitation) {}
  void reset(const Env&, int team, uint64_t seed) override {
    team_ = team;
    rng_.seed(seed);
  }
  void act(const Env& env, const float*, std::span<const int> agent_ids, float* actions) override {
    const auto& game = dynamic_cast<const ReachEnv&>(env);
    const ReachState& s = game.state();
    const float m = ReachEnv::mirror(team_);
    for (int id : agent_ids) {
      const auto& a = s.agents[static_cast<size_t>(id)];
      if (hesitation_ > 0 && rng_.uniform() < hesitation_) {
        actions[id] = 0;
        continue;
      }
      actions[id] = static_cast<float>(direction_action(m * (s.target_x - a.x), m * (s.target_y - a.y)));
    }
  }

 private:
  double hesitation_;
  int team_ = 0;
  Rng rng_;
};

}  // namespace
}  // namespace ludus::reach

LUDUS_REGISTER_AGENT("greedy", {"reach"}, "runs straight at the target",
                     [](const ludus::AgentArgs&) { return std::make_unique<ludus::reach::GreedyBot>(0.0); });
LUDUS_REGISTER_AGENT("lazy", {"reach"}, "runs at the target, idles on 50% of ticks",
                     [](const ludus::AgentArgs&) { return std::make_unique<ludus::reach::GreedyBot>(0.5); });
