// The visualizer's window (controls, HUD, help overlay) and its headless twin for PNG capture.
#pragma once

#include <SDL.h>

#include <memory>
#include <string>
#include <vector>

#include "ludus/engine/frame.hpp"
#include "ludus/viz/render.hpp"
#include "ludus/viz/source.hpp"
#include "ludus/viz/text.hpp"

namespace ludus::viz {

// What the HUD shows besides the frame's own scores and tick.
struct HudInfo {
  std::vector<std::string> team_names;
  double tick_rate_hz = 30;
  double speed = 1;
  bool paused = false;
  bool finished = false;
  double fps = -1;       // < 0: not shown
  double progress = -1;  // timeline position in [0, 1]; < 0: no timeline
  std::string camera;    // e.g. "follow #3 (team 1)"; empty: not shown
};

// What the HUD says about the camera ("follow #3 (team 1)", "top-down"); empty by default.
std::string camera_text(const Frame& frame, const Camera& camera);

// Pixels the HUD covers at the top and bottom of a window when shown (the view fits between).
inline constexpr int kHudTopPx = 44;
inline constexpr int kHudBottomPx = 26;

// Score bar, tick and game clock, team names, speed, FPS and the timeline. Returns the
// timeline's track (for scrubbing with the mouse), zero-sized when there is none.
SDL_FRect draw_hud(SDL_Renderer* renderer, Text& text, const Frame& frame, const HudInfo& info, SDL_Rect window);
// The controls, in a panel over the middle of the window.
void draw_help(SDL_Renderer* renderer, Text& text, SDL_Rect window, bool seekable, bool three_d);

// A software renderer on an RGBA surface: draws frames with no display (tests, --png).
class Canvas {
 public:
  // Throws VizError when SDL cannot make the surface or renderer.
  Canvas(int width, int height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  // Draws the frame over the whole canvas; with `hud`, the HUD too (the view then fits
  // between the HUD's bars).
  void render(const Frame& frame, Camera& camera, const HudInfo* hud = nullptr);
  // Writes the canvas as a PNG; throws VizError naming the path when it cannot.
  void save_png(const std::string& path) const;
  Rgba pixel(int x, int y) const;

  int width() const;
  int height() const;
  SDL_Renderer* sdl_renderer() { return renderer_; }
  const SDL_Surface* surface() const { return surface_; }
  FrameRenderer& frame_renderer() { return *frames_; }
  Text& text() { return *text_; }

 private:
  SDL_Surface* surface_ = nullptr;
  SDL_Renderer* renderer_ = nullptr;
  std::unique_ptr<Text> text_;
  std::unique_ptr<FrameRenderer> frames_;
};

// Writes an SDL surface as a PNG; throws VizError naming the path when it cannot.
void save_png(SDL_Surface* surface, const std::string& path);

struct ViewerOptions {
  std::string title = "ludus";
  int width = 1280, height = 800;
  double quit_after_s = 0;           // close by itself after this many seconds (0: never)
  std::string screenshot_dir = ".";  // where the screenshot key writes PNGs
  bool hud = true;
  Camera camera;  // the starting camera (key 0 resets to the default one)
};

// Opens a window and plays `source` until the window closes (Esc, Q, or the close button).
// Throws VizError when no window can be opened (no display: use --png capture instead).
void run_viewer(FrameSource& source, const ViewerOptions& options);

}  // namespace ludus::viz
