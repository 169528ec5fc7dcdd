// Subcommand registration for the ludus CLI: each file adds its own subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include "ludus/engine/config.hpp"
#include <stdexcept>
#include <string>

namespace ludus::cli {

// An error a user can fix: printed as one line, exit code 1.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void add_run_commands(CLI::App& app);
// bench env (any build) and bench optim (libtorch builds).
void add_bench_commands(CLI::App& app);
// train and eval (built with libtorch only).
void add_train_commands(CLI::App& app);
// The embedded defaults of `ludus train`. A config with neither `env` nor `game` gets
// the Codeball 1v1 preset (configs/codeball-1v1-random.yaml without its time budget:
// beats `random` in about 2M agent-steps); `env: reach` without `game` gets the Reach 1v1
// game options. Keys the config already sets win. Returns the preset's name, or "" when
// none applied.
std::string apply_embedded_game_defaults(ConfigTree& tree);
// `replay` (window, --info, PNG capture) and `watch`; only in builds with the visualizer.
void add_viz_commands(CLI::App& app);
// rollout: scripted scenarios written as per-tick trajectories (CSV).
void add_rollout_commands(CLI::App& app);

// Validates a replay (every chunk and frame) and prints its header, result and size.
void print_replay_info(const std::string& path, bool recover);

// UTC time as ISO 8601, for file headers.
std::string utc_now();

}  // namespace ludus::cli
