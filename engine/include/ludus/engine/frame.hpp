// Frame: the draw list a game emits each tick; the visualizer and replays see only this.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ludus {

class ByteWriter;
class ByteReader;

struct Rgba {
  uint8_t r = 255, g = 255, b = 255, a = 255;
  bool operator==(const Rgba&) const = default;
};

// Team colours every game and the visualizer agree on (team 0 blue, team 1 red, ...).
Rgba team_color(int team);

enum class Prim : uint8_t {
  circle,   // 2D disc at (x, y), radius
  sphere,   // 3D ball at (x, y, z), radius
  line,     // segment (x, y, z) -> (x2, y2, z2), width
  polygon,  // closed polygon: `count` points (x, y, z triples) from Frame::points at `first`
  text,     // `count` chars from Frame::text at `first`, anchored at (x, y, z), size = radius
};

// One primitive. Coordinates are world units; in 2D frames z is ignored (0).
struct DrawItem {
  Prim prim = Prim::circle;
  int8_t team = -1;    // owning team, -1 for scenery
  uint8_t filled = 1;  // 0: outline only
  uint8_t screen = 0;  // 1: (x, y) are HUD pixels, not world coordinates
  Rgba color;
  float x = 0, y = 0, z = 0;
  float x2 = 0, y2 = 0, z2 = 0;
  float radius = 0;
  float width = 1;
  uint32_t first = 0, count = 0;

  bool operator==(const DrawItem&) const = default;
};
// Stored as raw bytes in frames and replays: no padding may hide uninitialized bytes.
static_assert(sizeof(DrawItem) == 48, "DrawItem layout changed: bump the replay format version");

class Frame {
 public:
  // Dimensionality of world coordinates (2: top-down, 3: perspective).
  uint8_t dims = 2;
  int64_t tick = 0;
  // World extent, for the camera: [min_x, max_x] x [min_y, max_y] x [min_z, max_z].
  float bounds[6] = {0, 1, 0, 1, 0, 0};
  std::vector<double> scores;
  std::vector<DrawItem> items;
  std::vector<float> points;
  std::string text;

  void clear();
  void circle(float x, float y, float radius, Rgba color, int team = -1, bool filled = true);
  void sphere(float x, float y, float z, float radius, Rgba color, int team = -1);
  void line(float x, float y, float z, float x2, float y2, float z2, Rgba color, float width = 1);
  void line2d(float x, float y, float x2, float y2, Rgba color, float width = 1) {
    line(x, y, 0, x2, y2, 0, color, width);
  }
  // Points are (x, y, z) triples.
  void polygon(const float* xyz, uint32_t num_points, Rgba color, bool filled = true, int team = -1);
  void label(float x, float y, float z, std::string_view s, Rgba color, float size = 1, bool screen = false);
  std::string_view item_text(const DrawItem& item) const;

  void serialize(ByteWriter& out) const;
  // Throws FormatError on malformed bytes, including items that index past points/text.
  static Frame deserialize(ByteReader& in);

  bool operator==(const Frame& other) const;
};

}  // namespace ludus
