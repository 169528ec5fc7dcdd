// The env contract: reset/step into caller-owned buffers, snapshots, draw lists.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ludus/engine/spec.hpp"

namespace ludus {

class Frame;

// Views into caller-owned memory for one env. Sizes: obs = num_agents * obs_dim,
// reward = num_agents; terminated/truncated are one flag for the whole env.
struct StepView {
  float* obs = nullptr;
  float* reward = nullptr;
  uint8_t* terminated = nullptr;
  uint8_t* truncated = nullptr;
};

// How a finished (or running) match stands, for match runners and evaluation.
struct MatchResult {
  std::vector<double> team_scores;
  int winner = -1;  // team index, or -1 for a draw (or not decided yet)
  int64_t ticks = 0;
};

// The usual result: the team with the unique highest score wins, a tie at the top is a draw.
inline MatchResult result_from_scores(std::vector<double> team_scores, int64_t ticks) {
  MatchResult r;
  r.team_scores = std::move(team_scores);
  r.ticks = ticks;
  for (size_t t = 0; t < r.team_scores.size(); ++t) {
    bool top = true;
    for (size_t o = 0; o < r.team_scores.size(); ++o)
      if (o != t && r.team_scores[o] >= r.team_scores[t]) top = false;
    if (top) r.winner = static_cast<int>(t);
  }
  return r;
}

// Whether a step must write the observations (the step() clause below): after every step
// when the game reads actions every tick; with decision interval k, when the new tick is a
// decision tick or the episode ended.
inline bool observations_due(int64_t tick, int decision_interval, bool episode_ended) {
  return decision_interval <= 1 || tick % decision_interval == 0 || episode_ended;
}

// A game instance. Implementations own their physics and RNG; nothing is shared
// between instances, so a VecEnv may step many of them on different threads.
//
// Contract (checked for every registered env by the conformance suite, except where
// noted):
// - reset(seed) then the same actions give the same trajectory, bit for bit.
// - step() reads num_agents * action_dim floats and writes the rewards and flags of
//   `out`. It writes the observations whenever an agent may act on them: after every step
//   when spec().decision_interval is 1; with interval k > 1, after the steps whose new
//   tick() is a multiple of k and the step that ends an episode. Between decisions the
//   observation slots may keep what they held (actions there are ignored anyway), which
//   spares a game with costly observations (Codewars) k - 1 of every k. Whenever
//   written, they equal what observe() gives.
// - step() performs no allocation in steady state (checked for the built-in games by
//   tests/envs/alloc_test.cpp, not by the conformance suite: a plugin should check its own).
// - terminated: the game ended by its rules; truncated: the tick limit was reached.
//   After either, the caller must reset before stepping again.
// - save_state() then load_state() on any instance of the same config continues
//   exactly as the original would.
class Env {
 public:
  virtual ~Env() = default;
  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  virtual const EnvSpec& spec() const = 0;
  // Starts a new episode and writes the first observations (rewards 0, flags 0).
  virtual void reset(uint64_t seed, StepView out) = 0;
  virtual void step(const float* actions, StepView out) = 0;
  // Rewrites the current observations into `obs` (after load_state, for instance).
  virtual void observe(float* obs) const = 0;

  virtual void save_state(std::vector<uint8_t>& out) const = 0;
  // Throws FormatError (bytes.hpp) if `bytes` is not a snapshot of this game/config.
  virtual void load_state(std::span<const uint8_t> bytes) = 0;

  virtual void draw(Frame& frame) const = 0;
  virtual MatchResult result() const = 0;
  virtual int64_t tick() const = 0;
};

}  // namespace ludus
