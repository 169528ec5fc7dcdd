// Checkpoint loader. Even first byte: the rest is the whole file (magic, header, CRC,
// payload), as a corrupted file on disk. Odd first byte: the rest is the payload, written
// behind a valid header and CRC, so the torch archive and the metadata decoder behind the
// checksum are reached. Either way the file is loaded or refused with a CheckpointError.
#include <torch/torch.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_common.hpp"
#include "ludus/engine/bytes.hpp"
#include "ludus/rl/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<uint8_t> file;
  if (data[0] % 2 == 0) {
    file.assign(data + 1, data + size);
  } else {
    const uint64_t n = size - 1;
    const uint32_t format = ludus::rl::kCheckpointFormat, sum = ludus::crc32_of(data + 1, n);
    const char magic[8] = {'L', 'U', 'D', 'U', 'S', 'C', 'K', 'P'};
    file.insert(file.end(), magic, magic + 8);
    file.insert(file.end(), reinterpret_cast<const uint8_t*>(&format), reinterpret_cast<const uint8_t*>(&format) + 4);
    file.insert(file.end(), reinterpret_cast<const uint8_t*>(&n), reinterpret_cast<const uint8_t*>(&n) + 8);
    file.insert(file.end(), reinterpret_cast<const uint8_t*>(&sum), reinterpret_cast<const uint8_t*>(&sum) + 4);
    file.insert(file.end(), data + 1, data + size);
  }
  const auto& path = ludus_fuzz::write_temp("ckpt", file.data(), file.size());
  try {
    auto ck = ludus::rl::load_checkpoint(path);
    torch::NoGradGuard no_grad;
    (void)ck.net->forward(torch::zeros({1, ck.meta.obs_dim}));
  } catch (const ludus::rl::CheckpointError&) {
  }
  return 0;
}
