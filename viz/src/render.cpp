// Frame rendering: one sprite atlas, every world item batched into SDL_RenderGeometry calls.
#include "ludus/viz/render.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "ludus/viz/text.hpp"

namespace ludus::viz {
namespace {

// The atlas holds four 128 px sprites side by side and a 16 px disc for small units (a
// 128 px disc sampled down to a few pixels turns into a diamond); the big disc's centre
// doubles as a solid white texel for lines and polygons, so a whole frame is one texture.
struct Cell {
  int x, size;
  float border;  // transparent texels around the disc, against bleeding
};
enum Region { kDisc = 0, kSphere = 1, kSpecular = 2, kShadow = 3, kSmallDisc = 4 };
constexpr Cell kCells[] = {{0, 128, 1.5f}, {128, 128, 1.5f}, {256, 128, 1.5f}, {384, 128, 1.5f}, {512, 16, 0.5f}};
constexpr int kAtlasW = 528, kAtlasH = 128;
constexpr float kSmallDiscBelowPx = 10;
// Quad half-size per pixel of disc radius for a cell.
constexpr float quad_scale(const Cell& c) { return (c.size / 2.0f) / (c.size / 2.0f - c.border); }
constexpr SDL_FPoint kSolidTexel{64.0f / kAtlasW, 64.0f / kAtlasH};

float smoothstep(float e0, float e1, float x) {
  const float t = std::clamp((x - e0) / (e1 - e0), 0.0f, 1.0f);
  return t * t * (3 - 2 * t);
}

uint8_t to_byte(float v) { return static_cast<uint8_t>(std::clamp(v, 0.0f, 1.0f) * 255.0f + 0.5f); }

// Fills one cell of the atlas: `shade(dx, dy, r)` returns (grey, alpha) in [0, 1] for a
// point at (dx, dy) from the centre, r = its distance, in units of the sprite's radius.
template <class Shade>
void paint_cell(SDL_Surface* s, const Cell& cell, Shade shade) {
  auto* px = static_cast<uint8_t*>(s->pixels);
  const float half = static_cast<float>(cell.size) / 2.0f;
  const float radius = half - cell.border;
  for (int y = 0; y < cell.size; ++y) {
    for (int x = 0; x < cell.size; ++x) {
      const float dx = (static_cast<float>(x) + 0.5f - half) / radius;
      const float dy = (static_cast<float>(y) + 0.5f - half) / radius;
      const float r = std::sqrt(dx * dx + dy * dy);
      const auto [grey, alpha] = shade(dx, dy, r);
      uint8_t* p = px + y * s->pitch + (cell.x + x) * 4;
      p[0] = p[1] = p[2] = to_byte(grey);
      p[3] = to_byte(alpha);
    }
  }
}

SDL_Texture* make_atlas(SDL_Renderer* renderer) {
  SDL_Surface* s = SDL_CreateRGBSurfaceWithFormat(0, kAtlasW, kAtlasH, 32, SDL_PIXELFORMAT_RGBA32);
  if (!s) throw VizError(std::string("cannot create the sprite atlas surface: ") + SDL_GetError());
  SDL_memset(s->pixels, 0, static_cast<size_t>(s->pitch) * kAtlasH);
  const float edge = 1.0f / 62.5f;  // one texel of a 128 px cell, for anti-aliased edges
  // Discs: the team colour itself over most of the disc, a slightly darker rim for contrast.
  paint_cell(s, kCells[kDisc], [&](float, float, float r) {
    return std::pair{1.0f - 0.3f * smoothstep(0.8f, 0.86f, r), smoothstep(1.0f, 1.0f - 2 * edge, r)};
  });
  paint_cell(s, kCells[kSmallDisc], [&](float, float, float r) { return std::pair{1.0f, smoothstep(1.0f, 0.8f, r)}; });
  // Lambert + ambient, lit from the upper left and the viewer; the rim darkens.
  const float lx = -0.45f, ly = -0.6f, lz = 0.66f;
  paint_cell(s, kCells[kSphere], [&](float dx, float dy, float r) {
    const float nz = std::sqrt(std::max(0.0f, 1 - r * r));
    const float diffuse = std::max(0.0f, dx * lx + dy * ly + nz * lz);
    const float light = 0.28f + 0.72f * diffuse;
    return std::pair{light, smoothstep(1.0f, 1.0f - 2 * edge, r)};
  });
  paint_cell(s, kCells[kSpecular], [&](float dx, float dy, float r) {
    const float nz = std::sqrt(std::max(0.0f, 1 - r * r));
    // Blinn half vector between the light and the viewer (0, 0, 1).
    const float hx = lx, hy = ly, hz = lz + 1;
    const float hn = std::sqrt(hx * hx + hy * hy + hz * hz);
    const float spec = std::pow(std::max(0.0f, (dx * hx + dy * hy + nz * hz) / hn), 40.0f);
    return std::pair{1.0f, 0.75f * spec * smoothstep(1.0f, 0.9f, r)};
  });
  paint_cell(s, kCells[kShadow], [&](float, float, float r) {
    return std::pair{0.0f, 0.85f * smoothstep(1.0f, 0.35f, r)};
  });
  SDL_Texture* t = SDL_CreateTextureFromSurface(renderer, s);
  SDL_FreeSurface(s);
  if (!t) throw VizError(std::string("cannot create the sprite atlas texture: ") + SDL_GetError());
  SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
  return t;
}

SDL_Color sdl(Rgba c) { return SDL_Color{c.r, c.g, c.b, c.a}; }

struct Vec3 {
  float x, y, z;
};
Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
Vec3 operator*(Vec3 a, float k) { return {a.x * k, a.y * k, a.z * k}; }
float dot(Vec3 a, Vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
Vec3 cross(Vec3 a, Vec3 b) { return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x}; }
Vec3 normalized(Vec3 a) {
  const float n = std::sqrt(dot(a, a));
  return n > 0 ? a * (1 / n) : a;
}

constexpr float kNear = 0.05f;

}  // namespace

// World -> view pixels for the frame being drawn.
struct FrameRenderer::Projection {
  bool three_d = false;
  SDL_Rect view{};
  // 2D
  float scale = 1, cx = 0, cy = 0;
  // 3D
  Vec3 eye{}, right{}, up{}, fwd{};
  float focal = 1;
  float floor_y = 0;

  // Camera-space (x right, y up, z depth); 2D frames put everything at depth 1.
  Vec3 to_camera(float x, float y, float z) const {
    if (!three_d) return {x, y, 1};
    const Vec3 v = Vec3{x, y, z} - eye;
    return {dot(v, right), dot(v, up), dot(v, fwd)};
  }
  SDL_FPoint to_screen(Vec3 c) const {
    const float vx = static_cast<float>(view.x) + static_cast<float>(view.w) / 2;
    const float vy = static_cast<float>(view.y) + static_cast<float>(view.h) / 2;
    if (!three_d) return {vx + (c.x - cx) * scale, vy - (c.y - cy) * scale};
    return {vx + c.x * focal / c.z, vy - c.y * focal / c.z};
  }
};

int followable_count(const Frame& frame) {
  return static_cast<int>(std::count_if(frame.items.begin(), frame.items.end(), [](const DrawItem& it) {
    return (it.prim == Prim::circle || it.prim == Prim::sphere) && !it.screen;
  }));
}

FollowTarget follow_target(const Frame& frame, int index) {
  if (index < 0) return {};
  int k = 0;
  for (const auto& it : frame.items) {
    if ((it.prim != Prim::circle && it.prim != Prim::sphere) || it.screen) continue;
    if (k++ == index) return FollowTarget{true, it.x, it.y, it.z, it.team};
  }
  return {};
}

FrameRenderer::FrameRenderer(SDL_Renderer* renderer, Text* text)
    : renderer_(renderer), text_(text), proj_(std::make_unique<Projection>()) {
  if (!renderer_) throw VizError("FrameRenderer needs an SDL_Renderer");
  SDL_RendererInfo info{};
  if (SDL_GetRendererInfo(renderer_, &info) != 0) throw VizError(std::string("SDL_GetRendererInfo: ") + SDL_GetError());
  software_ = (info.flags & SDL_RENDERER_SOFTWARE) != 0;
  atlas_ = make_atlas(renderer_);
}

FrameRenderer::~FrameRenderer() { SDL_DestroyTexture(atlas_); }

bool FrameRenderer::project(float x, float y, float z, float& sx, float& sy) const {
  const Vec3 c = proj_->to_camera(x, y, z);
  if (c.z < kNear) return false;
  const SDL_FPoint p = proj_->to_screen(c);
  sx = p.x;
  sy = p.y;
  return true;
}

void FrameRenderer::flush() {
  if (indices_.empty()) return;
  SDL_RenderGeometry(renderer_, atlas_, verts_.data(), static_cast<int>(verts_.size()), indices_.data(),
                     static_cast<int>(indices_.size()));
  verts_.clear();
  indices_.clear();
}

void FrameRenderer::quad(const SDL_FPoint p[4], SDL_Color c, int region) {
  const Cell& cell = kCells[region];
  const float u0 = static_cast<float>(cell.x) / kAtlasW, u1 = static_cast<float>(cell.x + cell.size) / kAtlasW;
  const float v1 = static_cast<float>(cell.size) / kAtlasH;
  const int base = static_cast<int>(verts_.size());
  verts_.push_back(SDL_Vertex{p[0], c, {u0, 0}});
  verts_.push_back(SDL_Vertex{p[1], c, {u1, 0}});
  verts_.push_back(SDL_Vertex{p[2], c, {u1, v1}});
  verts_.push_back(SDL_Vertex{p[3], c, {u0, v1}});
  for (int k : {0, 1, 2, 0, 2, 3}) indices_.push_back(base + k);
}

void FrameRenderer::sprite(float cx, float cy, float radius_px, SDL_Color c, int region) {
  if (region == kDisc && radius_px < kSmallDiscBelowPx) region = kSmallDisc;
  const float r = radius_px * quad_scale(kCells[region]);
  const SDL_FPoint p[4] = {{cx - r, cy - r}, {cx + r, cy - r}, {cx + r, cy + r}, {cx - r, cy + r}};
  quad(p, c, region);
}

void FrameRenderer::solid_line(float x0, float y0, float x1, float y1, float width_px, SDL_Color c) {
  const float dx = x1 - x0, dy = y1 - y0;
  const float len = std::sqrt(dx * dx + dy * dy);
  if (len < 1e-4f) return;
  const float w = std::max(width_px, 1.0f) / 2;
  const float nx = -dy / len * w, ny = dx / len * w;
  const SDL_FPoint tex = kSolidTexel;
  const int base = static_cast<int>(verts_.size());
  verts_.push_back(SDL_Vertex{{x0 + nx, y0 + ny}, c, tex});
  verts_.push_back(SDL_Vertex{{x1 + nx, y1 + ny}, c, tex});
  verts_.push_back(SDL_Vertex{{x1 - nx, y1 - ny}, c, tex});
  verts_.push_back(SDL_Vertex{{x0 - nx, y0 - ny}, c, tex});
  for (int k : {0, 1, 2, 0, 2, 3}) indices_.push_back(base + k);
}

bool FrameRenderer::convex(const std::vector<SDL_FPoint>& pts) {
  int sign = 0;
  const size_t n = pts.size();
  for (size_t k = 0; k < n; ++k) {
    const SDL_FPoint a = pts[k], b = pts[(k + 1) % n], c = pts[(k + 2) % n];
    const float z = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x);
    if (std::abs(z) < 1e-6f) continue;
    const int s = z > 0 ? 1 : -1;
    if (sign != 0 && s != sign) return false;
    sign = s;
  }
  return true;
}

void FrameRenderer::fill_spans(const std::vector<SDL_FPoint>& pts, SDL_Color c) {
  float min_y = pts[0].y, max_y = pts[0].y;
  for (const auto& p : pts) {
    min_y = std::min(min_y, p.y);
    max_y = std::max(max_y, p.y);
  }
  const SDL_Rect& v = proj_->view;
  const int y0 = std::max(static_cast<int>(std::ceil(min_y - 0.5f)), v.y);
  const int y1 = std::min(static_cast<int>(std::floor(max_y - 0.5f)), v.y + v.h - 1);
  spans_.clear();
  const size_t n = pts.size();
  for (int y = y0; y <= y1; ++y) {
    const float yc = static_cast<float>(y) + 0.5f;  // rows are sampled at pixel centres
    float lo = 1e30f, hi = -1e30f;
    for (size_t k = 0; k < n; ++k) {
      const SDL_FPoint a = pts[k], b = pts[(k + 1) % n];
      if ((a.y <= yc && b.y > yc) || (b.y <= yc && a.y > yc)) {
        const float x = a.x + (yc - a.y) * (b.x - a.x) / (b.y - a.y);
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
    }
    const int x0 = static_cast<int>(std::lround(std::max(lo, static_cast<float>(v.x))));
    const int x1 = static_cast<int>(std::lround(std::min(hi, static_cast<float>(v.x + v.w))));
    if (x1 > x0) spans_.push_back(SDL_Rect{x0, y, x1 - x0, 1});
  }
  SDL_SetRenderDrawBlendMode(renderer_, SDL_BLENDMODE_NONE);
  SDL_SetRenderDrawColor(renderer_, c.r, c.g, c.b, 255);
  if (!spans_.empty()) SDL_RenderFillRects(renderer_, spans_.data(), static_cast<int>(spans_.size()));
}

void FrameRenderer::solid_fan(const std::vector<SDL_FPoint>& pts, SDL_Color c) {
  if (pts.size() < 3) return;
  if (c.a == 255) {
    // Opaque polygons (floors, fields) are often most of the view. Software renderers fill
    // triangles per pixel with edge functions (about 15 ns a pixel); a convex polygon as
    // one rectangle per row is a memset each, some 30 times faster. Otherwise untextured,
    // unblended triangles.
    flush();
    if (software_ && convex(pts)) {
      fill_spans(pts, c);
      return;
    }
    verts_.clear();
    for (const auto& p : pts) verts_.push_back(SDL_Vertex{p, c, {0, 0}});
    for (int k = 1; k + 1 < static_cast<int>(pts.size()); ++k)
      for (int v : {0, k, k + 1}) indices_.push_back(v);
    SDL_SetRenderDrawBlendMode(renderer_, SDL_BLENDMODE_NONE);
    SDL_RenderGeometry(renderer_, nullptr, verts_.data(), static_cast<int>(verts_.size()), indices_.data(),
                       static_cast<int>(indices_.size()));
    SDL_SetRenderDrawBlendMode(renderer_, SDL_BLENDMODE_BLEND);
    verts_.clear();
    indices_.clear();
    return;
  }
  const SDL_FPoint tex = kSolidTexel;
  const int base = static_cast<int>(verts_.size());
  for (const auto& p : pts) verts_.push_back(SDL_Vertex{p, c, tex});
  for (int k = 1; k + 1 < static_cast<int>(pts.size()); ++k) {
    indices_.push_back(base);
    indices_.push_back(base + k);
    indices_.push_back(base + k + 1);
  }
}

void FrameRenderer::text_item(const Frame& frame, const DrawItem& it, float sx, float sy, float px) {
  if (!text_ || px < 5) return;
  flush();  // text goes on top of what is batched so far
  text_->draw(frame.item_text(it), sx, sy - px / 2, static_cast<int>(px), sdl(it.color), Align::center);
}

void FrameRenderer::draw(const Frame& frame, Camera& camera, SDL_Rect view) {
  Projection& p = *proj_;
  p.view = view;
  p.three_d = frame.dims == 3;
  const float* b = frame.bounds;
  const float bw = std::max(b[1] - b[0], 1e-3f), bh = std::max(b[3] - b[2], 1e-3f);
  const FollowTarget follow = follow_target(frame, camera.follow);
  camera.zoom = std::clamp(camera.zoom, 0.05f, 50.0f);
  camera.pitch_deg = std::clamp(camera.pitch_deg, 2.0f, 89.5f);
  if (!p.three_d) {
    p.scale = std::min(static_cast<float>(view.w) / bw, static_cast<float>(view.h) / bh) * 0.96f * camera.zoom;
    p.cx = follow.found ? follow.x : (b[0] + b[1]) / 2 + camera.pan_x;
    p.cy = follow.found ? follow.y : (b[2] + b[3]) / 2 + camera.pan_y;
  } else {
    const float bd = std::max(b[5] - b[4], 1e-3f);
    if (!camera.yaw_set) {
      camera.yaw_deg = bd > bw ? 90.0f : 0.0f;  // show the long side of the floor across the screen
      camera.yaw_set = true;
    }
    p.floor_y = b[2];
    Vec3 target{(b[0] + b[1]) / 2 + camera.pan_x, b[2], (b[4] + b[5]) / 2 + camera.pan_y};
    if (follow.found) target = {follow.x, b[2], follow.z};
    const float half_fov = camera.fov_deg * std::numbers::pi_v<float> / 360.0f;
    const float aspect = static_cast<float>(view.w) / static_cast<float>(std::max(view.h, 1));
    const float extent = 0.5f * std::sqrt(bw * bw + bd * bd + bh * bh);
    const float fit = extent / std::tan(half_fov) / std::min(1.0f, aspect);
    const float dist = fit * 0.72f / camera.zoom;
    const float pitch = (camera.top_down ? 89.5f : camera.pitch_deg) * std::numbers::pi_v<float> / 180.0f;
    const float yaw = (camera.top_down ? 0.0f : camera.yaw_deg) * std::numbers::pi_v<float> / 180.0f;
    const Vec3 dir{std::cos(pitch) * std::sin(yaw), std::sin(pitch), std::cos(pitch) * std::cos(yaw)};
    p.eye = target + dir * dist;
    p.fwd = normalized(target - p.eye);
    p.right = normalized(cross(p.fwd, Vec3{0, 1, 0}));
    p.up = cross(p.right, p.fwd);
    p.focal = static_cast<float>(view.h) / 2 / std::tan(half_fov);
  }

  SDL_RenderSetClipRect(renderer_, &view);
  const SDL_Color bg = p.three_d ? kBackground3D : kBackground2D;
  SDL_SetRenderDrawBlendMode(renderer_, SDL_BLENDMODE_NONE);  // an opaque fill: no blending cost
  SDL_SetRenderDrawColor(renderer_, bg.r, bg.g, bg.b, bg.a);
  SDL_RenderFillRect(renderer_, &view);
  if (p.three_d)
    draw_3d(frame);
  else
    draw_2d(frame);
  draw_screen_items(frame);
  flush();
  SDL_RenderSetClipRect(renderer_, nullptr);
}

void FrameRenderer::draw_2d(const Frame& frame) {
  const Projection& p = *proj_;
  for (const auto& it : frame.items) {
    if (it.screen) continue;
    const SDL_Color c = sdl(it.color);
    switch (it.prim) {
      case Prim::circle:
      case Prim::sphere: {
        const SDL_FPoint s = p.to_screen(p.to_camera(it.x, it.y, 0));
        const float r = std::max(it.radius * p.scale, 1.0f);
        if (it.filled) {
          sprite(s.x, s.y, r, c, kDisc);
        } else {
          const int n = std::clamp(static_cast<int>(r), 12, 64);
          const float step = 2 * std::numbers::pi_v<float> / static_cast<float>(n);
          for (int k = 0; k < n; ++k) {
            const float a0 = step * static_cast<float>(k), a1 = a0 + step;
            solid_line(s.x + r * std::cos(a0), s.y + r * std::sin(a0), s.x + r * std::cos(a1), s.y + r * std::sin(a1),
                       std::max(1.5f, it.width), c);
          }
        }
        break;
      }
      case Prim::line: {
        const SDL_FPoint a = p.to_screen(p.to_camera(it.x, it.y, 0));
        const SDL_FPoint e = p.to_screen(p.to_camera(it.x2, it.y2, 0));
        solid_line(a.x, a.y, e.x, e.y, it.width, c);
        break;
      }
      case Prim::polygon: {
        scratch_.clear();
        for (uint32_t k = 0; k < it.count; ++k) {
          const float* q = &frame.points[(it.first + k) * 3];
          scratch_.push_back(p.to_screen(p.to_camera(q[0], q[1], 0)));
        }
        if (it.filled) {
          solid_fan(scratch_, c);
        } else {
          for (size_t k = 0; k < scratch_.size(); ++k) {
            const SDL_FPoint a = scratch_[k], e = scratch_[(k + 1) % scratch_.size()];
            solid_line(a.x, a.y, e.x, e.y, std::max(1.5f, it.width), c);
          }
        }
        break;
      }
      case Prim::text: {
        const SDL_FPoint s = p.to_screen(p.to_camera(it.x, it.y, 0));
        text_item(frame, it, s.x, s.y, it.radius * p.scale);
        break;
      }
    }
  }
}

void FrameRenderer::draw_3d(const Frame& frame) {
  const Projection& p = *proj_;
  // 1. Filled polygons are the floor and walls' backdrop: drawn first, in frame order.
  auto polygon_screen = [&](const DrawItem& it) {
    scratch_.clear();
    for (uint32_t k = 0; k < it.count; ++k) {
      const float* q = &frame.points[(it.first + k) * 3];
      const Vec3 c = p.to_camera(q[0], q[1], q[2]);
      if (c.z < kNear) return false;
      scratch_.push_back(p.to_screen(c));
    }
    return true;
  };
  for (const auto& it : frame.items)
    if (!it.screen && it.prim == Prim::polygon && it.filled && polygon_screen(it)) solid_fan(scratch_, sdl(it.color));

  // 2. Shadows straight down on the floor: a world-space square projected, so they lie flat.
  for (const auto& it : frame.items) {
    if (it.screen || (it.prim != Prim::sphere && it.prim != Prim::circle)) continue;
    const float height = std::max(0.0f, it.y - it.radius - p.floor_y);
    const float spread = it.radius * (1.0f + 0.15f * height / std::max(it.radius, 1e-3f));
    const float fade = 1.0f / (1.0f + 0.35f * height / std::max(it.radius, 1e-3f));
    SDL_FPoint q[4];
    const float cx[4] = {-1, 1, 1, -1}, cz[4] = {-1, -1, 1, 1};
    bool visible = true;
    for (int k = 0; k < 4 && visible; ++k) {
      const float sr = spread * quad_scale(kCells[kShadow]);
      const Vec3 c = p.to_camera(it.x + cx[k] * sr, p.floor_y + 0.01f, it.z + cz[k] * sr);
      visible = c.z >= kNear;
      q[k] = p.to_screen(c);
    }
    if (visible) quad(q, SDL_Color{0, 0, 0, to_byte(fade)}, kShadow);
  }

  // 3. Spheres, lines, outlines and labels, far to near.
  order_.clear();
  for (uint32_t i = 0; i < frame.items.size(); ++i) {
    const DrawItem& it = frame.items[i];
    if (it.screen || (it.prim == Prim::polygon && it.filled)) continue;
    float depth;
    if (it.prim == Prim::line) {
      depth = std::max(p.to_camera(it.x, it.y, it.z).z, p.to_camera(it.x2, it.y2, it.z2).z);
    } else if (it.prim == Prim::polygon) {
      depth = 0;
      for (uint32_t k = 0; k < it.count; ++k) {
        const float* q = &frame.points[(it.first + k) * 3];
        depth = std::max(depth, p.to_camera(q[0], q[1], q[2]).z);
      }
    } else {
      depth = p.to_camera(it.x, it.y, it.z).z;
    }
    order_.push_back({depth, i});
  }
  std::stable_sort(order_.begin(), order_.end(), [](const Sorted& a, const Sorted& b) { return a.depth > b.depth; });

  auto line3 = [&](Vec3 a, Vec3 e, float width, SDL_Color c) {
    a = p.to_camera(a.x, a.y, a.z);
    e = p.to_camera(e.x, e.y, e.z);
    if (a.z < kNear && e.z < kNear) return;
    if (a.z < kNear) a = a + (e - a) * ((kNear - a.z) / (e.z - a.z));
    if (e.z < kNear) e = e + (a - e) * ((kNear - e.z) / (a.z - e.z));
    const SDL_FPoint sa = p.to_screen(a), se = p.to_screen(e);
    solid_line(sa.x, sa.y, se.x, se.y, width, c);
  };

  for (const Sorted& s : order_) {
    const DrawItem& it = frame.items[s.item];
    const SDL_Color c = sdl(it.color);
    switch (it.prim) {
      case Prim::circle:
      case Prim::sphere: {
        const Vec3 cam = p.to_camera(it.x, it.y, it.z);
        if (cam.z < kNear + it.radius) break;
        const float height = it.y - it.radius - p.floor_y;
        if (height > it.radius * 0.5f)  // a faint stalk from the shadow up to the ball shows height
          line3({it.x, p.floor_y, it.z}, {it.x, it.y - it.radius, it.z}, 1.0f, SDL_Color{c.r, c.g, c.b, 70});
        const SDL_FPoint sc = p.to_screen(cam);
        const float r = std::max(it.radius * p.focal / cam.z, 1.0f);
        sprite(sc.x, sc.y, r, c, kSphere);
        sprite(sc.x, sc.y, r, SDL_Color{255, 255, 255, 255}, kSpecular);
        break;
      }
      case Prim::line:
        line3({it.x, it.y, it.z}, {it.x2, it.y2, it.z2}, it.width, c);
        break;
      case Prim::polygon:
        for (uint32_t k = 0; k < it.count; ++k) {
          const float* a = &frame.points[(it.first + k) * 3];
          const float* e = &frame.points[(it.first + (k + 1) % it.count) * 3];
          line3({a[0], a[1], a[2]}, {e[0], e[1], e[2]}, std::max(1.5f, it.width), c);
        }
        break;
      case Prim::text: {
        const Vec3 cam = p.to_camera(it.x, it.y, it.z);
        if (cam.z < kNear) break;
        const SDL_FPoint sc = p.to_screen(cam);
        text_item(frame, it, sc.x, sc.y, it.radius * p.focal / cam.z);
        break;
      }
    }
  }
}

void FrameRenderer::draw_screen_items(const Frame& frame) {
  const Projection& p = *proj_;
  const float ox = static_cast<float>(p.view.x), oy = static_cast<float>(p.view.y);
  for (const auto& it : frame.items) {
    if (!it.screen) continue;
    const SDL_Color c = sdl(it.color);
    switch (it.prim) {
      case Prim::circle:
      case Prim::sphere:
        sprite(ox + it.x, oy + it.y, std::max(it.radius, 1.0f), c, it.prim == Prim::sphere ? kSphere : kDisc);
        break;
      case Prim::line:
        solid_line(ox + it.x, oy + it.y, ox + it.x2, oy + it.y2, it.width, c);
        break;
      case Prim::polygon:
        scratch_.clear();
        for (uint32_t k = 0; k < it.count; ++k) {
          const float* q = &frame.points[(it.first + k) * 3];
          scratch_.push_back({ox + q[0], oy + q[1]});
        }
        if (it.filled) {
          solid_fan(scratch_, c);
        } else {
          for (size_t k = 0; k < scratch_.size(); ++k) {
            const SDL_FPoint a = scratch_[k], e = scratch_[(k + 1) % scratch_.size()];
            solid_line(a.x, a.y, e.x, e.y, std::max(1.0f, it.width), c);
          }
        }
        break;
      case Prim::text:
        if (text_) {
          flush();
          text_->draw(frame.item_text(it), ox + it.x, oy + it.y, static_cast<int>(16 * std::max(it.radius, 0.5f)), c);
        }
        break;
    }
  }
}

}  // namespace ludus::viz
