// Codeball scenarios: a YAML file that sets a position (ball, robots, tick, score, game
// options) and scripted robot actions, played headless into a CSV trajectory
// (`ludus rollout`). Errors are ConfigError naming the file and the key.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ludus::codeball {

struct ScenarioRun {
  int64_t start_tick = 0;          // the scenario's match tick
  int64_t ticks = 0;               // ticks played
  std::array<int32_t, 2> score{};  // at the end
  bool ended = false;              // the match reached max_ticks
};

// Plays the scenario in `file` (game options overridden by `sets`, "key=value") for up to
// `ticks` ticks and writes one CSV row per tick (tick 0 = the scenario's start) to `out_path`.
ScenarioRun play_scenario(const std::string& file, const std::vector<std::string>& sets, int64_t ticks,
                          const std::string& out_path);

}  // namespace ludus::codeball
