// Game options: any YAML text is bound to every built-in game's options (and a
// command-line style override), or refused with a ConfigError; an accepted config makes
// a game that resets and steps.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ludus/engine/config.hpp"
#include "ludus/engine/registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first line, if it looks like key=value, is also tried as an override.
  const auto nl = text.find('\n');
  ludus::ConfigTree tree;
  try {
    tree = ludus::ConfigTree::from_string(text, "fuzzed.yaml");
  } catch (const ludus::ConfigError&) {
    return 0;
  }
  if (nl != std::string_view::npos && text.substr(0, nl).find('=') != std::string_view::npos) {
    try {
      tree.apply_override(text.substr(0, nl));
    } catch (const ludus::ConfigError&) {
    }
  }
  for (const char* game : {"reach", "codeball", "codewars"}) {
    try {
      auto env = ludus::make_env(game, tree);
      const auto& s = env->spec();
      // Bounded work: the full Codewars map is slow to reset under the sanitizers.
      if (static_cast<int64_t>(s.num_agents) * s.obs_dim() > 200000) continue;
      std::vector<float> obs(static_cast<size_t>(s.num_agents * s.obs_dim())), rew(static_cast<size_t>(s.num_agents));
      std::vector<float> act(static_cast<size_t>(s.num_agents * s.action_dim()), 0.0f);
      uint8_t te = 0, tr = 0;
      env->reset(1, ludus::StepView{obs.data(), rew.data(), &te, &tr});
      for (int t = 0; t < 3 && !te && !tr; ++t)
        env->step(act.data(), ludus::StepView{obs.data(), rew.data(), &te, &tr});
    } catch (const ludus::ConfigError&) {
    }
  }
  return 0;
}
