// The interactive window loop and the offscreen Canvas used for PNG capture.
#include "ludus/viz/viewer.hpp"

#include <SDL_image.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iterator>

namespace ludus::viz {
namespace {

SDL_Rect view_rect(int w, int h, bool hud) {
  if (!hud) return SDL_Rect{0, 0, w, h};
  return SDL_Rect{0, kHudTopPx, w, std::max(1, h - kHudTopPx - kHudBottomPx)};
}

HudInfo hud_info(const FrameSource& source) {
  HudInfo info;
  info.team_names = source.team_names();
  info.tick_rate_hz = source.tick_rate_hz();
  info.speed = source.speed();
  info.paused = source.paused();
  info.finished = source.finished();
  info.progress = source.seekable() ? source.progress() : -1;
  return info;
}

// The nearest playback speed one notch up or down.
double next_speed(double speed, int dir) {
  const auto* first = std::begin(kSpeeds);
  const auto* last = std::end(kSpeeds);
  const auto* it =
      std::min_element(first, last, [&](double a, double b) { return std::abs(a - speed) < std::abs(b - speed); });
  const auto i = std::clamp<std::ptrdiff_t>((it - first) + dir, 0, (last - first) - 1);
  return first[i];
}

}  // namespace

std::string camera_text(const Frame& frame, const Camera& cam) {
  std::string s;
  if (cam.follow >= 0) {
    const FollowTarget t = follow_target(frame, cam.follow);
    s = "follow #" + std::to_string(cam.follow) + (t.team >= 0 ? " (team " + std::to_string(t.team) + ")" : "");
  }
  if (frame.dims == 3 && cam.top_down) s += s.empty() ? "top-down" : ", top-down";
  return s;
}

void save_png(SDL_Surface* surface, const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (IMG_SavePNG(surface, path.c_str()) != 0) throw VizError(path + ": cannot write PNG: " + IMG_GetError());
}

Canvas::Canvas(int width, int height) {
  if (width < 16 || height < 16 || width > 16384 || height > 16384)
    throw VizError("canvas size " + std::to_string(width) + "x" + std::to_string(height) +
                   " is out of range (16 .. 16384 pixels a side)");
  surface_ = SDL_CreateRGBSurfaceWithFormat(0, width, height, 32, SDL_PIXELFORMAT_RGBA32);
  if (!surface_) throw VizError(std::string("cannot create an offscreen surface: ") + SDL_GetError());
  renderer_ = SDL_CreateSoftwareRenderer(surface_);
  if (!renderer_) {
    SDL_FreeSurface(surface_);
    throw VizError(std::string("cannot create a software renderer: ") + SDL_GetError());
  }
  try {
    text_ = std::make_unique<Text>(renderer_);
    frames_ = std::make_unique<FrameRenderer>(renderer_, text_.get());
  } catch (...) {
    text_.reset();
    SDL_DestroyRenderer(renderer_);
    SDL_FreeSurface(surface_);
    throw;
  }
}

Canvas::~Canvas() {
  frames_.reset();
  text_.reset();
  SDL_DestroyRenderer(renderer_);
  SDL_FreeSurface(surface_);
}

int Canvas::width() const { return surface_->w; }
int Canvas::height() const { return surface_->h; }

void Canvas::render(const Frame& frame, Camera& camera, const HudInfo* hud) {
  SDL_SetRenderDrawColor(renderer_, 0, 0, 0, 255);
  SDL_RenderClear(renderer_);
  const SDL_Rect full{0, 0, surface_->w, surface_->h};
  frames_->draw(frame, camera, view_rect(full.w, full.h, hud != nullptr));
  if (hud) draw_hud(renderer_, *text_, frame, *hud, full);
  SDL_RenderFlush(renderer_);
  text_->end_frame();
}

void Canvas::save_png(const std::string& path) const { viz::save_png(surface_, path); }

Rgba Canvas::pixel(int x, int y) const {
  if (x < 0 || y < 0 || x >= surface_->w || y >= surface_->h) return Rgba{0, 0, 0, 0};
  const auto* p = static_cast<const uint8_t*>(surface_->pixels) + y * surface_->pitch + x * 4;
  return Rgba{p[0], p[1], p[2], p[3]};
}

void run_viewer(FrameSource& source, const ViewerOptions& options) {
  if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0)
    throw VizError(std::string("cannot open a window: ") + SDL_GetError() +
                   " (no display? `ludus replay FILE --png OUT.png` captures without one)");
  struct VideoGuard {
    SDL_Window* window = nullptr;
    SDL_Renderer* renderer = nullptr;
    ~VideoGuard() {
      if (renderer) SDL_DestroyRenderer(renderer);
      if (window) SDL_DestroyWindow(window);
      SDL_QuitSubSystem(SDL_INIT_VIDEO);
    }
  } video;
  // With no display SDL may fall back to a driver that shows nothing; only run there when
  // asked for by name (SDL_VIDEODRIVER=offscreen: tests and recording without a display).
  const std::string driver = SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "";
  const char* asked = std::getenv("SDL_VIDEODRIVER");
  if ((driver == "offscreen" || driver == "dummy") && !(asked && driver == asked))
    throw VizError("cannot open a window: no display found (SDL fell back to its '" + driver +
                   "' video driver); `ludus replay FILE --png OUT.png` captures without one");
  video.window = SDL_CreateWindow(options.title.c_str(), SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, options.width,
                                  options.height, SDL_WINDOW_RESIZABLE);
  if (!video.window) throw VizError(std::string("cannot open a window: ") + SDL_GetError());
  video.renderer = SDL_CreateRenderer(video.window, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
  if (!video.renderer) video.renderer = SDL_CreateRenderer(video.window, -1, SDL_RENDERER_SOFTWARE);
  if (!video.renderer) throw VizError(std::string("cannot create a renderer: ") + SDL_GetError());
  SDL_Renderer* r = video.renderer;
  SDL_RendererInfo rinfo{};
  SDL_GetRendererInfo(r, &rinfo);
  const bool vsync = (rinfo.flags & SDL_RENDERER_PRESENTVSYNC) != 0;

  Text text(r);
  FrameRenderer frames(r, &text);
  Camera cam = options.camera;
  bool hud = options.hud, help = false, quit = false, screenshot = false, dragging = false;
  SDL_FRect timeline{0, 0, 0, 0};
  std::string toast;
  double toast_until = 0, fps = 0, elapsed = 0, fps_since = 0, fps_frames = 0;
  int shots = 0;
  const Frame* frame = nullptr;
  using Clock = std::chrono::steady_clock;
  auto last = Clock::now();

  auto scrub = [&](int mx) {
    if (timeline.w > 0) source.seek_progress((static_cast<float>(mx) - timeline.x) / timeline.w);
  };
  // Window pixels per world unit at the view centre (2D panning).
  auto world_per_px = [&]() {
    float ax = 0, ay = 0, bx = 1, by = 0;
    frames.project(0, 0, 0, ax, ay);
    frames.project(1, 0, 0, bx, by);
    return 1.0f / std::max(std::abs(bx - ax), 1e-6f);
  };

  while (!quit) {
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
      switch (e.type) {
        case SDL_QUIT:
          quit = true;
          break;
        case SDL_KEYDOWN: {
          const SDL_Keycode k = e.key.keysym.sym;
          const bool shift = (e.key.keysym.mod & KMOD_SHIFT) != 0;
          const int n_follow = frame ? followable_count(*frame) : 0;
          switch (k) {
            case SDLK_ESCAPE:
            case SDLK_q:
              quit = true;
              break;
            case SDLK_SPACE:
              if (source.finished() && source.seekable()) {  // at the end, play again
                source.restart();
                source.set_paused(false);
              } else {
                source.set_paused(!source.paused());
              }
              break;
            case SDLK_PERIOD:
              source.step(1);
              break;
            case SDLK_COMMA:
              if (source.seekable()) source.step(-1);
              break;
            case SDLK_MINUS:
            case SDLK_KP_MINUS:
              source.set_speed(next_speed(source.speed(), -1));
              break;
            case SDLK_EQUALS:
            case SDLK_PLUS:
            case SDLK_KP_PLUS:
              source.set_speed(next_speed(source.speed(), +1));
              break;
            case SDLK_r:
            case SDLK_HOME:
              source.restart();
              break;
            case SDLK_TAB:
              hud = !hud;
              break;
            case SDLK_h:
            case SDLK_F1:
            case SDLK_SLASH:
              help = !help;
              break;
            case SDLK_p:
            case SDLK_F12:
              screenshot = true;
              break;
            case SDLK_LEFT:
              source.seek_relative_s(-5);
              break;
            case SDLK_RIGHT:
              source.seek_relative_s(5);
              break;
            case SDLK_f:
              cam.follow =
                  n_follow == 0 ? -1 : (cam.follow + 1 + (shift ? -1 : 1) + (n_follow + 1)) % (n_follow + 1) - 1;
              break;
            case SDLK_t:
              cam.top_down = !cam.top_down;
              break;
            case SDLK_0:
              cam.reset();
              break;
            case SDLK_a:
              cam.yaw_deg -= 5;
              break;
            case SDLK_d:
              cam.yaw_deg += 5;
              break;
            case SDLK_w:
              cam.pitch_deg += 4;
              break;
            case SDLK_s:
              cam.pitch_deg -= 4;
              break;
            default:
              break;
          }
          break;
        }
        case SDL_MOUSEBUTTONDOWN:
          if (e.button.button == SDL_BUTTON_LEFT) {
            const float mx = static_cast<float>(e.button.x), my = static_cast<float>(e.button.y);
            if (hud && timeline.w > 0 && my >= timeline.y && mx >= timeline.x - 8 &&
                mx <= timeline.x + timeline.w + 8) {
              scrub(e.button.x);
            } else {
              dragging = true;
            }
          }
          break;
        case SDL_MOUSEBUTTONUP:
          if (e.button.button == SDL_BUTTON_LEFT) dragging = false;
          break;
        case SDL_MOUSEMOTION:
          if ((e.motion.state & SDL_BUTTON_LMASK) == 0) break;
          if (!dragging) {
            scrub(e.motion.x);
          } else if (frame && frame->dims == 3) {
            cam.yaw_deg -= static_cast<float>(e.motion.xrel) * 0.3f;
            cam.pitch_deg += static_cast<float>(e.motion.yrel) * 0.3f;
          } else {
            const float k = world_per_px();
            cam.follow = -1;
            cam.pan_x -= static_cast<float>(e.motion.xrel) * k;
            cam.pan_y += static_cast<float>(e.motion.yrel) * k;
          }
          break;
        case SDL_MOUSEWHEEL:
          cam.zoom *= std::pow(1.12f, e.wheel.preciseY);
          break;
        default:
          break;
      }
    }

    const auto now = Clock::now();
    const double dt = std::chrono::duration<double>(now - last).count();
    last = now;
    elapsed += dt;
    ++fps_frames;
    if (elapsed - fps_since >= 0.5) {  // frames presented over the last half second
      fps = fps_frames / (elapsed - fps_since);
      fps_frames = 0;
      fps_since = elapsed;
    }
    frame = source.update(dt);

    int w = 0, h = 0;
    SDL_GetRendererOutputSize(r, &w, &h);
    SDL_SetRenderDrawColor(r, 0, 0, 0, 255);
    SDL_RenderClear(r);
    const SDL_Rect full{0, 0, w, h};
    if (frame) {
      frames.draw(*frame, cam, view_rect(w, h, hud));
      if (hud) {
        HudInfo info = hud_info(source);
        info.fps = fps;
        info.camera = camera_text(*frame, cam);
        timeline = draw_hud(r, text, *frame, info, full);
      }
    } else {
      text.draw("waiting for the first frame...", static_cast<float>(w) / 2, static_cast<float>(h) / 2, 18,
                SDL_Color{200, 200, 200, 255}, Align::center);
    }
    if (help) draw_help(r, text, full, source.seekable(), frame && frame->dims == 3);
    if (screenshot && frame) {
      screenshot = false;
      SDL_Surface* shot = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGBA32);
      const std::string path = (std::filesystem::path(options.screenshot_dir) /
                                ("ludus-tick" + std::to_string(frame->tick) + "-" + std::to_string(++shots) + ".png"))
                                   .string();
      try {
        if (!shot || SDL_RenderReadPixels(r, nullptr, SDL_PIXELFORMAT_RGBA32, shot->pixels, shot->pitch) != 0)
          throw VizError(std::string("cannot read the window's pixels: ") + SDL_GetError());
        save_png(shot, path);
        toast = "saved " + path;
      } catch (const VizError& err) {
        toast = err.what();
      }
      if (shot) SDL_FreeSurface(shot);
      toast_until = elapsed + 3;
    }
    if (elapsed < toast_until)
      text.draw(toast, static_cast<float>(w) / 2, static_cast<float>(kHudTopPx + 10), 15, SDL_Color{250, 190, 60, 255},
                Align::center);
    SDL_RenderPresent(r);
    text.end_frame();
    if (options.quit_after_s > 0 && elapsed >= options.quit_after_s) quit = true;
    // Without vsync (software renderers) cap the loop near 120 Hz instead of spinning.
    if (!vsync) {
      const double spent = std::chrono::duration<double>(Clock::now() - now).count();
      if (spent < 1.0 / 120) SDL_Delay(static_cast<Uint32>((1.0 / 120 - spent) * 1000));
    }
  }
}

}  // namespace ludus::viz
