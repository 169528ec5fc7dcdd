// The conformance suite every registered env must pass (built-in games and plugins).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ludus/engine/config.hpp"

namespace ludus {

struct ConformanceOptions {
  uint64_t seed = 12345;
  int64_t random_ticks = 10000;    // random-action ticks in the endurance check
  int64_t trajectory_ticks = 300;  // length of determinism and save/load comparisons
  int vec_envs = 4;
  int vec_threads = 3;
};

struct CheckResult {
  std::string name;
  bool passed = false;
  std::string detail;  // what was measured, or what went wrong
};

class Env;

// A 64-bit digest of a fixed trajectory: reset(seed), then `ticks` steps of random
// actions drawn from Rng(action_seed) (a new episode, seed + 1, 2, ..., when one ends),
// over every step's observations, rewards and flags and the saved state every 100 ticks.
// Golden values of it (tests/envs/golden_test.cpp) catch a change that alters every
// trajectory of a game.
uint64_t trajectory_digest(Env& env, uint64_t seed, uint64_t action_seed, int64_t ticks);

// Runs every check against the game `env_name` built from `options`. Never throws for a
// failing game: a check that throws is reported as failed with the exception's message.
std::vector<CheckResult> run_conformance(const std::string& env_name, const ConfigTree& options,
                                         const ConformanceOptions& conf = {});

}  // namespace ludus
