// The random agent: uniform actions from any game's action space.
#include <memory>

#include "ludus/engine/agent.hpp"
#include "ludus/engine/rng.hpp"

namespace ludus {
namespace {

class RandomAgent final : public Agent {
 public:
  void reset(const Env&, int, uint64_t seed) override { rng_.seed(seed); }

  void act(const Env& env, const float*, std::span<const int> agent_ids, float* actions) override {
    const ActionSpace& space = env.spec().action_space;
    for (int id : agent_ids) space.sample(rng_, actions + id * space.dim());
  }

 private:
  Rng rng_;
};

}  // namespace
}  // namespace ludus

LUDUS_REGISTER_AGENT("random", {}, "uniform random actions (any game)",
                     [](const ludus::AgentArgs&) { return std::make_unique<ludus::RandomAgent>(); });
