// The checkpoint container and its metadata record: no torch here (the fuzz target
// reads them under clang, which cannot compile Debian's libtorch headers in C++20).
#include "ludus/rl/checkpoint_meta.hpp"

#include <cstring>

#include "ludus/engine/bytes.hpp"

namespace ludus::rl {
namespace {

constexpr char kMagic[8] = {'L', 'U', 'D', 'U', 'S', 'C', 'K', 'P'};
constexpr size_t kHeader = sizeof kMagic + 4 + 8 + 4;

}  // namespace

std::vector<uint8_t> encode_checkpoint_meta(const CheckpointMeta& m) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.put<uint32_t>(kCheckpointFormat);
  w.put_string(m.env);
  w.put_string(m.game_yaml);
  w.put_string(m.config_yaml);
  w.put_string(m.algo);
  w.put<int64_t>(m.obs_dim);
  w.put<uint8_t>(static_cast<uint8_t>(m.action_space.kind));
  w.put_array<int32_t>(m.action_space.nvec);
  w.put_array<float>(m.action_space.low);
  w.put_array<float>(m.action_space.high);
  w.put_string(m.network.arch);
  w.put<int32_t>(m.network.hidden);
  w.put<int32_t>(m.network.layers);
  w.put<int32_t>(m.network.entity_count);
  w.put<int32_t>(m.network.entity_features);
  w.put<uint8_t>(m.value_head ? 1 : 0);
  w.put<int64_t>(m.update);
  w.put<int64_t>(m.samples);
  w.put<double>(m.elapsed_s);
  for (uint64_t r : m.rng) w.put<uint64_t>(r);
  w.put<double>(m.best_eval);
  w.put<uint64_t>(m.ratings.size());
  for (const auto& [name, elo] : m.ratings) {
    w.put_string(name);
    w.put<double>(elo);
  }
  w.put<uint64_t>(m.pool.size());
  for (const auto& p : m.pool) w.put_string(p);
  return out;
}

CheckpointMeta decode_checkpoint_meta(std::span<const uint8_t> bytes, const std::string& path) try {
  ByteReader r(bytes, path + " metadata");
  CheckpointMeta m;
  const auto format = r.get<uint32_t>();
  if (format != kCheckpointFormat)
    r.fail("checkpoint format " + std::to_string(format) + " is not supported (this ludus reads " +
           std::to_string(kCheckpointFormat) + ")");
  m.env = r.get_string();
  m.game_yaml = r.get_string();
  m.config_yaml = r.get_string();
  m.algo = r.get_string();
  m.obs_dim = r.get<int64_t>();
  const auto kind = r.get<uint8_t>();
  if (kind > static_cast<uint8_t>(SpaceKind::box)) r.fail("unknown action space kind");
  m.action_space.kind = static_cast<SpaceKind>(kind);
  r.get_array(m.action_space.nvec, 1 << 20);
  r.get_array(m.action_space.low, 1 << 20);
  r.get_array(m.action_space.high, 1 << 20);
  m.network.arch = r.get_string(64);
  m.network.hidden = r.get<int32_t>();
  m.network.layers = r.get<int32_t>();
  m.network.entity_count = r.get<int32_t>();
  m.network.entity_features = r.get<int32_t>();
  m.value_head = r.get<uint8_t>() != 0;
  m.update = r.get<int64_t>();
  m.samples = r.get<int64_t>();
  m.elapsed_s = r.get<double>();
  for (uint64_t& v : m.rng) v = r.get<uint64_t>();
  m.best_eval = r.get<double>();
  const auto n_ratings = r.get<uint64_t>();
  if (n_ratings > 100000) r.fail("too many ratings");
  for (uint64_t i = 0; i < n_ratings; ++i) {
    std::string name = r.get_string(4096);
    m.ratings.emplace_back(std::move(name), r.get<double>());
  }
  const auto n_pool = r.get<uint64_t>();
  if (n_pool > 100000) r.fail("too many pool entries");
  for (uint64_t i = 0; i < n_pool; ++i) m.pool.push_back(r.get_string(4096));
  r.expect_end();
  if (m.obs_dim < 1 || m.network.hidden < 1 || m.network.layers < 1) r.fail("implausible network shape");
  return m;
} catch (const FormatError& e) {
  throw CheckpointError(e.what());
}

std::vector<uint8_t> checkpoint_container(std::span<const uint8_t> payload) {
  std::vector<uint8_t> out(kHeader + payload.size());
  const uint32_t format = kCheckpointFormat, sum = crc32_of(payload.data(), payload.size());
  const uint64_t size = payload.size();
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  std::memcpy(out.data() + 8, &format, 4);
  std::memcpy(out.data() + 12, &size, 8);
  std::memcpy(out.data() + 20, &sum, 4);
  if (!payload.empty()) std::memcpy(out.data() + kHeader, payload.data(), payload.size());
  return out;
}

std::span<const uint8_t> checkpoint_payload(std::span<const uint8_t> file, const std::string& path) {
  if (file.size() < kHeader || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
    throw CheckpointError(path + ": not a ludus checkpoint (bad magic bytes)");
  uint32_t format = 0, sum = 0;
  uint64_t size = 0;
  std::memcpy(&format, file.data() + 8, 4);
  std::memcpy(&size, file.data() + 12, 8);
  std::memcpy(&sum, file.data() + 20, 4);
  if (format != kCheckpointFormat)
    throw CheckpointError(path + ": checkpoint format " + std::to_string(format) + " is not supported");
  if (size != file.size() - kHeader)
    throw CheckpointError(path + ": truncated checkpoint: header says " + std::to_string(size) + " bytes, file has " +
                          std::to_string(file.size() - kHeader));
  const auto payload = file.subspan(kHeader);
  if (crc32_of(payload.data(), payload.size()) != sum)
    throw CheckpointError(path + ": checkpoint checksum mismatch: the file is corrupted");
  return payload;
}

}  // namespace ludus::rl
