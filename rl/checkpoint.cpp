// Checkpoint writing (atomic, CRC-32 over the payload) and validated reading; the
// container and the metadata record are in checkpoint_meta.cpp.
#include "ludus/rl/checkpoint.hpp"

#include <filesystem>
#include <fstream>

namespace ludus::rl {

void save_checkpoint(const std::string& path, const CheckpointMeta& meta, PolicyNet& net,
                     const std::function<void(torch::serialize::OutputArchive&)>& save_extra) {
  torch::serialize::OutputArchive archive;
  const auto meta_bytes = encode_checkpoint_meta(meta);
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
  const auto file = checkpoint_container(payload);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw CheckpointError(tmp + ": cannot create checkpoint file");
    out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
    out.flush();
    if (!out) throw CheckpointError(tmp + ": write failed (disk full?)");
  }
  fs::rename(tmp, target);
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(path + ": cannot open checkpoint");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  const auto payload = checkpoint_payload(bytes, path);

  LoadedCheckpoint out;
  try {
    out.archive = std::make_shared<torch::serialize::InputArchive>();
    out.archive->load_from(reinterpret_cast<const char*>(payload.data()), payload.size(), torch::kCPU);
    torch::Tensor meta_t;
    out.archive->read("meta", meta_t);
    const auto mt = meta_t.contiguous();
    out.meta =
        decode_checkpoint_meta(std::span<const uint8_t>(mt.data_ptr<uint8_t>(), static_cast<size_t>(mt.numel())), path);
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
