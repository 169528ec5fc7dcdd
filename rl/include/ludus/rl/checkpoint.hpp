// Checkpoint files: a policy, its optimizer, and the trainer's state, checksummed and
// written atomically (temp file + rename).
#pragma once

#include <torch/torch.h>

#include <array>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ludus/engine/spec.hpp"
#include "ludus/rl/policy.hpp"

namespace ludus::rl {

inline constexpr uint32_t kCheckpointFormat = 1;

struct CheckpointMeta {
  std::string env;
  std::string game_yaml;    // the game's effective options
  std::string config_yaml;  // the whole training config
  std::string algo;
  int64_t obs_dim = 0;
  ActionSpace action_space;
  NetworkOptions network;
  bool value_head = false;
  int64_t update = 0;
  int64_t samples = 0;
  double elapsed_s = 0;
  std::array<uint64_t, 4> rng{};
  double best_eval = -1;
  std::vector<std::pair<std::string, double>> ratings;  // Elo per pool member
  std::vector<std::string> pool;                        // self-play snapshot files
};

// Thrown for a missing, truncated, corrupted or incompatible checkpoint.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `path` atomically. `save_extra` (may be empty) adds the optimizer's state.
void save_checkpoint(const std::string& path, const CheckpointMeta& meta, PolicyNet& net,
                     const std::function<void(torch::serialize::OutputArchive&)>& save_extra = {});

struct LoadedCheckpoint {
  CheckpointMeta meta;
  PolicyNet net{nullptr};
  std::shared_ptr<torch::serialize::InputArchive> archive;  // for the optimizer's state
};

// Verifies the checksum and rebuilds the network the checkpoint describes (on CPU).
LoadedCheckpoint load_checkpoint(const std::string& path);

}  // namespace ludus::rl
