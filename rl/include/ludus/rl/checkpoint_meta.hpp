// The checkpoint file without torch: the container (magic, format, payload size, CRC-32)
// and the metadata record inside it. checkpoint.hpp adds the network and the optimizer.
//
// File layout: "LUDUSCKP", u32 format, u64 payload size, u32 CRC-32 of the payload, then
// the payload: a torch archive holding "meta" (the bytes of encode_checkpoint_meta),
// "model" and, optionally, "extra" (the optimizer's state).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ludus/engine/spec.hpp"
#include "ludus/rl/network_options.hpp"

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

// The metadata record's bytes, and back. decode_checkpoint_meta refuses anything but a
// whole, plausible record with a CheckpointError naming `path`.
std::vector<uint8_t> encode_checkpoint_meta(const CheckpointMeta& meta);
CheckpointMeta decode_checkpoint_meta(std::span<const uint8_t> bytes, const std::string& path);

// The container around `payload`: header and checksum, then the payload.
std::vector<uint8_t> checkpoint_container(std::span<const uint8_t> payload);
// The payload of a whole checkpoint file, after checking its magic bytes, format, size
// and checksum; a CheckpointError naming `path` says which failed.
std::span<const uint8_t> checkpoint_payload(std::span<const uint8_t> file, const std::string& path);

}  // namespace ludus::rl
