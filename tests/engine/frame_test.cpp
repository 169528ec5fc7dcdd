// Frames: building, byte round trip, and refusal of malformed bytes.
#include <gtest/gtest.h>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/frame.hpp"

namespace ludus {
namespace {

Frame sample_frame() {
  Frame f;
  f.dims = 3;
  f.tick = 42;
  f.scores = {1, 2};
  f.sphere(1, 2, 3, 0.5f, team_color(0), 0);
  f.circle(4, 5, 1, team_color(1), 1, false);
  f.line(0, 0, 0, 1, 1, 1, Rgba{1, 2, 3, 4}, 2);
  const float pts[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
  f.polygon(pts, 3, Rgba{9, 9, 9, 255});
  f.label(10, 20, 0, "goal!", Rgba{}, 12, true);
  return f;
}

TEST(Frame, RoundTripsThroughBytes) {
  const Frame f = sample_frame();
  std::vector<uint8_t> bytes;
  ByteWriter w(bytes);
  f.serialize(w);
  ByteReader r(bytes, "frame");
  const Frame g = Frame::deserialize(r);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(g, f);
  EXPECT_EQ(g.item_text(g.items.back()), "goal!");
  EXPECT_EQ(g.items[1].filled, 0);
  EXPECT_EQ(g.items[0].team, 0);
}

TEST(Frame, RefusesTruncatedAndInconsistentBytes) {
  const Frame f = sample_frame();
  std::vector<uint8_t> bytes;
  ByteWriter w(bytes);
  f.serialize(w);
  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<long>(cut));
    ByteReader r(part, "frame");
    EXPECT_THROW(Frame::deserialize(r), FormatError) << "cut at " << cut;
  }
  Frame bad = f;
  bad.items[3].count = 100;  // polygon past the points
  std::vector<uint8_t> b2;
  ByteWriter w2(b2);
  bad.serialize(w2);
  ByteReader r2(b2, "frame");
  EXPECT_THROW(Frame::deserialize(r2), FormatError);
}

TEST(Frame, TeamColoursDiffer) {
  EXPECT_NE(team_color(0), team_color(1));
  EXPECT_EQ(team_color(0), team_color(6));
}

}  // namespace
}  // namespace ludus
