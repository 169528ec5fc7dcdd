// Frame deserialization (replay chunks and the live viewer's frames).
#include <cstdint>
#include <span>
#include <vector>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    ludus::ByteReader r(std::span<const uint8_t>(data, size), "fuzzed frame");
    const ludus::Frame f = ludus::Frame::deserialize(r);
    std::vector<uint8_t> out;
    ludus::ByteWriter w(out);
    f.serialize(w);
    // A frame survives its own round trip (compared as bytes: NaN coordinates are legal).
    ludus::ByteReader again(out, "re-serialized frame");
    std::vector<uint8_t> out2;
    ludus::ByteWriter w2(out2);
    ludus::Frame::deserialize(again).serialize(w2);
    if (out2 != out) __builtin_trap();
  } catch (const ludus::FormatError&) {
  }
  return 0;
}
