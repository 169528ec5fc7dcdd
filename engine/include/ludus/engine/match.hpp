// Running a match between agents, optionally recording a replay.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "ludus/engine/agent.hpp"
#include "ludus/engine/env.hpp"

namespace ludus {

class ReplayWriter;

struct MatchOptions {
  uint64_t seed = 0;
  ReplayWriter* replay = nullptr;  // receives a frame every `frame_every` ticks (and the last)
  int frame_every = 1;
  // Called after every tick (progress output); may be empty.
  std::function<void(const Env&)> on_tick;
};

// Plays one episode of `env` with agents[t] controlling team t; returns the result.
MatchResult run_match(Env& env, std::span<Agent* const> agents, const MatchOptions& options);

}  // namespace ludus
