// Checkpoint files, the parts ludus reads itself. Even first byte: the rest is a whole
// file (magic, header, CRC, payload), as a corrupted file on disk. Odd first byte: the
// rest is the metadata record the payload carries. Either is read or refused with a
// CheckpointError; what is read must write back to the same bytes (the container) or to
// a record that reads back the same (the metadata). The torch archive inside the payload
// is libtorch's reader, which clang cannot build against Debian's headers:
// tests/rl/checkpoint_test.cpp feeds it cut and foreign archives under GCC instead.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ludus/rl/checkpoint_meta.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      const auto payload = ludus::rl::checkpoint_payload(rest, "fuzzed.pt");
      const auto again = ludus::rl::checkpoint_container(payload);
      if (!std::equal(again.begin(), again.end(), rest.begin(), rest.end())) std::abort();
    } else {
      const auto meta = ludus::rl::decode_checkpoint_meta(rest, "fuzzed.pt");
      const auto bytes = ludus::rl::encode_checkpoint_meta(meta);
      const auto again = ludus::rl::encode_checkpoint_meta(ludus::rl::decode_checkpoint_meta(bytes, "re-encoded"));
      if (again != bytes) std::abort();
    }
  } catch (const ludus::rl::CheckpointError&) {
  }
  return 0;
}
