// Frame building and its byte format.
#include "ludus/engine/frame.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "ludus/engine/bytes.hpp"

namespace ludus {

Rgba team_color(int team) {
  static constexpr std::array<Rgba, 6> kColors = {{
      {52, 120, 246, 255},
      {232, 65, 55, 255},
      {46, 180, 90, 255},
      {245, 180, 30, 255},
      {150, 80, 210, 255},
      {30, 190, 200, 255},
  }};
  if (team < 0) return {200, 200, 200, 255};
  return kColors[static_cast<size_t>(team) % kColors.size()];
}

void Frame::clear() {
  tick = 0;
  scores.clear();
  items.clear();
  points.clear();
  text.clear();
}

void Frame::circle(float x, float y, float radius, Rgba color, int team, bool filled) {
  DrawItem it;
  it.prim = Prim::circle;
  it.team = static_cast<int8_t>(team);
  it.filled = filled ? 1 : 0;
  it.color = color;
  it.x = x;
  it.y = y;
  it.radius = radius;
  items.push_back(it);
}

void Frame::sphere(float x, float y, float z, float radius, Rgba color, int team) {
  DrawItem it;
  it.prim = Prim::sphere;
  it.team = static_cast<int8_t>(team);
  it.color = color;
  it.x = x;
  it.y = y;
  it.z = z;
  it.radius = radius;
  items.push_back(it);
}

void Frame::line(float x, float y, float z, float x2, float y2, float z2, Rgba color, float width) {
  DrawItem it;
  it.prim = Prim::line;
  it.color = color;
  it.x = x;
  it.y = y;
  it.z = z;
  it.x2 = x2;
  it.y2 = y2;
  it.z2 = z2;
  it.width = width;
  items.push_back(it);
}

void Frame::polygon(const float* xyz, uint32_t num_points, Rgba color, bool filled, int team) {
  DrawItem it;
  it.prim = Prim::polygon;
  it.team = static_cast<int8_t>(team);
  it.filled = filled ? 1 : 0;
  it.color = color;
  it.first = static_cast<uint32_t>(points.size() / 3);
  it.count = num_points;
  points.insert(points.end(), xyz, xyz + 3 * static_cast<size_t>(num_points));
  items.push_back(it);
}

void Frame::label(float x, float y, float z, std::string_view s, Rgba color, float size, bool screen) {
  DrawItem it;
  it.prim = Prim::text;
  it.color = color;
  it.x = x;
  it.y = y;
  it.z = z;
  it.radius = size;
  it.screen = screen ? 1 : 0;
  it.first = static_cast<uint32_t>(text.size());
  it.count = static_cast<uint32_t>(s.size());
  text.append(s);
  items.push_back(it);
}

std::string_view Frame::item_text(const DrawItem& item) const {
  return std::string_view(text).substr(item.first, item.count);
}

void Frame::serialize(ByteWriter& out) const {
  out.put<uint8_t>(dims);
  out.put<int64_t>(tick);
  for (float b : bounds) out.put<float>(b);
  out.put_array<double>(scores);
  out.put_array<DrawItem>(items);
  out.put_array<float>(points);
  out.put_string(text);
}

Frame Frame::deserialize(ByteReader& in) {
  Frame f;
  f.dims = in.get<uint8_t>();
  if (f.dims != 2 && f.dims != 3) in.fail("frame dims must be 2 or 3, got " + std::to_string(f.dims));
  f.tick = in.get<int64_t>();
  for (float& b : f.bounds) b = in.get<float>();
  in.get_array(f.scores, 64);
  in.get_array(f.items);
  in.get_array(f.points);
  f.text = in.get_string();
  const uint64_t num_points = f.points.size() / 3;
  for (const auto& it : f.items) {
    if (static_cast<uint8_t>(it.prim) > static_cast<uint8_t>(Prim::text))
      in.fail("frame item with unknown primitive " + std::to_string(static_cast<int>(it.prim)));
    if (it.prim == Prim::polygon && uint64_t{it.first} + it.count > num_points)
      in.fail("polygon indexes past the frame's points");
    if (it.prim == Prim::text && uint64_t{it.first} + it.count > f.text.size())
      in.fail("text item indexes past the frame's text");
  }
  return f;
}

bool Frame::operator==(const Frame& o) const {
  return dims == o.dims && tick == o.tick && std::equal(bounds, bounds + 6, o.bounds) && scores == o.scores &&
         items == o.items && points == o.points && text == o.text;
}

}  // namespace ludus
