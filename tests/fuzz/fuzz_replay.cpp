// Replay reader: any bytes are read (strict and recover modes) or refused with a
// ReplayError/FormatError; never a crash, a leak or an unbounded allocation.
#include <cstdint>

#include "fuzz_common.hpp"
#include "ludus/engine/bytes.hpp"
#include "ludus/engine/replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = ludus_fuzz::write_temp("replay", data, size);
  for (auto mode : {ludus::ReplayMode::strict, ludus::ReplayMode::recover}) {
    try {
      ludus::ReplayReader r(path, mode);
      (void)r.header();
      (void)r.result();
      const int64_t n = r.num_frames();
      for (int64_t i = 0; i < n && i < 64; ++i) (void)r.frame(i);
      if (n > 0) (void)r.frame(n - 1);
    } catch (const ludus::ReplayError&) {
    } catch (const ludus::FormatError&) {
    }
  }
  return 0;
}
