// Draws a Frame onto an SDL_Renderer: 2D frames top-down, 3D frames through a perspective camera.
//
// Conventions (the contract between games and the visualizer):
// - 2D frames (dims = 2): world y points up on screen (x right, y up, like a plot). The
//   frame's bounds [min_x, max_x] x [min_y, max_y] are fitted into the view, keeping the
//   aspect ratio, then the camera's zoom and pan apply.
// - 3D frames (dims = 3): world y is up; x and z span the floor at y = min_y. The camera
//   orbits a target (the floor's centre, or a followed item) at a yaw and pitch; spheres are
//   shaded and depth-sorted with lines, and each sphere casts a soft shadow straight down
//   onto the floor that grows fainter and wider with height.
// - Line widths are screen pixels. Filled polygons are drawn as triangle fans from their
//   first point (convex or star-shaped from that point). Text size is world units of height
//   for world text and a multiple of the HUD font size for screen text (screen = 1, where
//   (x, y) are pixels from the view's top-left corner).
// - Items with screen = 1 are drawn on top, in the view's pixel space, in both 2D and 3D.
#pragma once

#include <SDL.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ludus/engine/frame.hpp"

namespace ludus::viz {

class Text;

// Thrown when SDL cannot do what was asked (no renderer, no texture, no font...).
class VizError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Camera {
  float zoom = 1;              // 1: the bounds fill the view; 2: twice as close
  float pan_x = 0, pan_y = 0;  // 2D: world offset of the view centre from the bounds' centre
  float yaw_deg = 0;           // 3D: camera azimuth around world y (0: camera on the +z side)
  float pitch_deg = 35;        // 3D: camera elevation above the floor, in (0, 90)
  float fov_deg = 50;          // 3D: vertical field of view
  bool top_down = false;       // 3D: look straight down, x right (2D frames always are)
  int follow = -1;             // index among the frame's circles/spheres to centre on; -1: none
  bool yaw_set = false;        // false: the first 3D frame picks a yaw that shows its long side

  void reset() { *this = Camera{}; }
};

// A followable item: the k-th circle or sphere of a frame.
struct FollowTarget {
  bool found = false;
  float x = 0, y = 0, z = 0;
  int team = -1;
};
FollowTarget follow_target(const Frame& frame, int index);
// Number of circles and spheres in a frame (the follow indices are 0 .. count - 1).
int followable_count(const Frame& frame);

// Renders frames onto one SDL_Renderer. Owns the textures it makes on that renderer, so it
// must be destroyed before the renderer. Not thread-safe (SDL rendering is single-threaded).
class FrameRenderer {
 public:
  // `text` draws labels; it may be null (text items are then skipped). Throws VizError.
  FrameRenderer(SDL_Renderer* renderer, Text* text);
  ~FrameRenderer();
  FrameRenderer(const FrameRenderer&) = delete;
  FrameRenderer& operator=(const FrameRenderer&) = delete;

  // Clears `view` to the background and draws the frame inside it.
  void draw(const Frame& frame, Camera& camera, SDL_Rect view);

  // Where a world point lands in the view last drawn (pixels); false when behind the camera.
  bool project(float x, float y, float z, float& sx, float& sy) const;

  static constexpr SDL_Color kBackground2D{16, 18, 22, 255};
  static constexpr SDL_Color kBackground3D{22, 26, 34, 255};

 private:
  struct Projection;
  void draw_2d(const Frame& frame);
  void draw_3d(const Frame& frame);
  void draw_screen_items(const Frame& frame);
  void flush();
  void quad(const SDL_FPoint p[4], SDL_Color c, int region);
  void sprite(float cx, float cy, float radius_px, SDL_Color c, int region);
  void solid_line(float x0, float y0, float x1, float y1, float width_px, SDL_Color c);
  void solid_fan(const std::vector<SDL_FPoint>& pts, SDL_Color c);
  static bool convex(const std::vector<SDL_FPoint>& pts);
  void fill_spans(const std::vector<SDL_FPoint>& pts, SDL_Color c);
  void text_item(const Frame& frame, const DrawItem& it, float sx, float sy, float px);

  SDL_Renderer* renderer_;
  Text* text_;
  SDL_Texture* atlas_ = nullptr;
  bool software_ = false;  // the software renderer: big opaque fills go row by row
  std::unique_ptr<Projection> proj_;
  std::vector<SDL_Vertex> verts_;
  std::vector<int> indices_;
  std::vector<SDL_FPoint> scratch_;
  std::vector<SDL_Rect> spans_;
  struct Sorted {
    float depth;
    uint32_t item;
  };
  std::vector<Sorted> order_;
};

}  // namespace ludus::viz
