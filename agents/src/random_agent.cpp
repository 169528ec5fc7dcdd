// The random agent: uniform actions from any game's action space.
#include <memory>

#include "ludus/agents/agent.hpp"
#include "ludus/engine/rng.hpp"

namespace ludus {
namespace {

class RandomAgent final : public Agent {
 public:
  void reset(const Env&, int, uint64_t seed) override { rng_.seed(seed); }

  void act(const Env& env, const float*, std::span<const int> agent_ids, float* actions) override {
    const ActionSpace& space = env.spec().action_space;
    const int dim = space.dim();
    for (int id : agent_ids) {
      float* a = actions + id * dim;
      for (int d = 0; d < dim; ++d) {
        const auto u = static_cast<size_t>(d);
        if (space.kind == SpaceKind::box)
          a[d] = static_cast<float>(rng_.uniform(space.low[u], space.high[u]));
        else
          a[d] = static_cast<float>(rng_.below(static_cast<uint32_t>(space.nvec[space.kind == SpaceKind::discrete ? 0 : u])));
      }
    }
  }

 private:
  Rng rng_;
};

}  // namespace
}  // namespace ludus

LUDUS_REGISTER_AGENT("random", {}, "uniform random actions (any game)",
                     [](const ludus::AgentArgs&) { return std::make_unique<ludus::RandomAgent>(); });
