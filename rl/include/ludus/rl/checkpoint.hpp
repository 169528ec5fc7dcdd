// Checkpoint files: a policy, its optimizer, and the trainer's state, checksummed and
// written atomically (temp file + rename).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "ludus/rl/checkpoint_meta.hpp"
#include "ludus/rl/policy.hpp"

namespace ludus::rl {

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
