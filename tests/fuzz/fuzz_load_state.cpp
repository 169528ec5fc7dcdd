// Every game's load_state: the first byte picks a game and mode, the rest is the
// snapshot. A snapshot is refused with a FormatError, or loaded into a game that then
// saves, observes, draws, scores and steps without a crash or undefined behaviour.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "load_state_cases.hpp"
#include "ludus/engine/bytes.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/registry.hpp"

namespace {

struct Game {
  std::unique_ptr<ludus::Env> env;
  std::vector<float> obs, rew, act;
};

std::vector<Game>& games() {
  static std::vector<Game> g = [] {
    std::vector<Game> out;
    for (const auto& c : ludus_fuzz::kLoadStateCases) {
      Game x;
      x.env = ludus::make_env(c.game, ludus::ConfigTree::from_string(c.options, "fuzz options"));
      const auto& s = x.env->spec();
      x.obs.resize(static_cast<size_t>(s.num_agents * s.obs_dim()));
      x.rew.resize(static_cast<size_t>(s.num_agents));
      x.act.assign(static_cast<size_t>(s.num_agents * s.action_dim()), 0.0f);
      out.push_back(std::move(x));
    }
    return out;
  }();
  return g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Game& g = games()[data[0] % games().size()];
  const std::span<const uint8_t> snap(data + 1, size - 1);
  try {
    g.env->load_state(snap);
  } catch (const ludus::FormatError&) {
    return 0;
  }
  std::vector<uint8_t> saved;
  g.env->save_state(saved);
  g.env->observe(g.obs.data());
  ludus::Frame f;
  g.env->draw(f);
  (void)g.env->result();
  uint8_t te = 0, tr = 0;
  for (int t = 0; t < 4 && !te && !tr; ++t)
    g.env->step(g.act.data(), ludus::StepView{g.obs.data(), g.rew.data(), &te, &tr});
  return 0;
}
