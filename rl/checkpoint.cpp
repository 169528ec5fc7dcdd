// Checkpoint writing (atomic, CRC-32 over the payload) and validated reading.
#include "ludus/rl/checkpoint.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ludus/engine/bytes.hpp"

namespace ludus::rl {
namespace {

constexpr char kMagic[8] = {'L', 'U', 'D', 'U', 'S', 'C', 'K', 'P'};

std::vector<uint8_t> encode_meta(const CheckpointMeta& m) {
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

CheckpointMeta decode_meta(std::span<const uint8_t> bytes, const std::string& path) {
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
}

}  // namespace

void save_checkpoint(const std::string& path, const CheckpointMeta& meta, PolicyNet& net,
                     const std::function<void(torch::serialize::OutputArchive&)>& save_extra) {
  torch::serialize::OutputArchive archive;
  const auto meta_bytes = encode_meta(meta);
  archive.write("meta", torch::from_blob(const_cast<uint8_t*>(meta_bytes.data()),
                                         {static_cast<int64_t>(meta_bytes.size())}, torch::kUInt8)
                            .clone());
  torch::serialize::OutputArchive model;
  net->save(model);
  archive.write("model", model);
  if (save_extra) {
    torch::serialize::OutputArchive extra;
    save_extra(extra);
    archive.write("extra", extra);
  }
  std::vector<uint8_t> payload;
  archive.save_to([&](const void* data, size_t n) -> size_t {
    const auto* p = static_cast<const uint8_t*>(data);
    payload.insert(payload.end(), p, p + n);
    return n;
  });

  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw CheckpointError(tmp + ": cannot create checkpoint file");
    const uint32_t format = kCheckpointFormat, sum = crc32_of(payload.data(), payload.size());
    const uint64_t size = payload.size();
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char*>(&format), sizeof format);
    out.write(reinterpret_cast<const char*>(&size), sizeof size);
    out.write(reinterpret_cast<const char*>(&sum), sizeof sum);
    out.write(reinterpret_cast<const char*>(payload.data()), static_cast<std::streamsize>(payload.size()));
    out.flush();
    if (!out) throw CheckpointError(tmp + ": write failed (disk full?)");
  }
  fs::rename(tmp, target);
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(path + ": cannot open checkpoint");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  constexpr size_t kHeader = sizeof kMagic + 4 + 8 + 4;
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw CheckpointError(path + ": not a ludus checkpoint (bad magic bytes)");
  uint32_t format = 0, sum = 0;
  uint64_t size = 0;
  std::memcpy(&format, bytes.data() + 8, 4);
  std::memcpy(&size, bytes.data() + 12, 8);
  std::memcpy(&sum, bytes.data() + 20, 4);
  if (format != kCheckpointFormat)
    throw CheckpointError(path + ": checkpoint format " + std::to_string(format) + " is not supported");
  if (size != bytes.size() - kHeader)
    throw CheckpointError(path + ": truncated checkpoint: header says " + std::to_string(size) + " bytes, file has " +
                          std::to_string(bytes.size() - kHeader));
  const auto* payload = reinterpret_cast<const uint8_t*>(bytes.data() + kHeader);
  if (crc32_of(payload, size) != sum)
    throw CheckpointError(path + ": checkpoint checksum mismatch: the file is corrupted");

  LoadedCheckpoint out;
  try {
    out.archive = std::make_shared<torch::serialize::InputArchive>();
    out.archive->load_from(reinterpret_cast<const char*>(payload), size, torch::kCPU);
    torch::Tensor meta_t;
    out.archive->read("meta", meta_t);
    const auto mt = meta_t.contiguous();
    out.meta = decode_meta(std::span<const uint8_t>(mt.data_ptr<uint8_t>(), static_cast<size_t>(mt.numel())), path);
    out.net = PolicyNet(out.meta.obs_dim, out.meta.action_space, out.meta.network, out.meta.value_head);
    torch::serialize::InputArchive model;
    out.archive->read("model", model);
    out.net->load(model);
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": unreadable checkpoint: " + e.what());
  }
  return out;
}

}  // namespace ludus::rl
