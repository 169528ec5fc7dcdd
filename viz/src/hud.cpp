// The HUD (scores, clock, speed, FPS, timeline) and the help overlay.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ludus/viz/viewer.hpp"

namespace ludus::viz {
namespace {

constexpr SDL_Color kBar{10, 12, 16, 215};
constexpr SDL_Color kDim{150, 156, 168, 255};
constexpr SDL_Color kBright{236, 238, 242, 255};
constexpr SDL_Color kAmber{250, 190, 60, 255};

void fill(SDL_Renderer* r, SDL_Rect rect, SDL_Color c) {
  SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
  SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
  SDL_RenderFillRect(r, &rect);
}

// printf into a std::string, for the HUD's short numeric labels.
template <class... Args>
std::string strf(const char* format, Args... args) {
  char buf[96];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

SDL_Color team_sdl(int team) {
  const Rgba c = team_color(team);
  return SDL_Color{c.r, c.g, c.b, 255};
}

std::string clock_text(int64_t tick, double rate) {
  const double s = static_cast<double>(tick) / (rate > 0 ? rate : 30);
  const int minutes = static_cast<int>(s / 60);
  return strf("%d:%04.1f", minutes, s - 60.0 * minutes);
}

std::string speed_text(double speed) {
  if (speed >= 1) return strf("x%g", speed);
  return strf("x1/%g", 1 / speed);
}

std::string score_text(double s) { return std::floor(s) == s ? strf("%.0f", s) : strf("%.1f", s); }

}  // namespace

SDL_FRect draw_hud(SDL_Renderer* r, Text& text, const Frame& frame, const HudInfo& info, SDL_Rect win) {
  const float w = static_cast<float>(win.w), h = static_cast<float>(win.h);
  const float x0 = static_cast<float>(win.x), y0 = static_cast<float>(win.y);
  fill(r, SDL_Rect{win.x, win.y, win.w, kHudTopPx}, kBar);
  fill(r, SDL_Rect{win.x, win.y + win.h - kHudBottomPx, win.w, kHudBottomPx}, kBar);

  // Scores in the middle: "name  3 : 1  name" for two teams, "name 3  name 1 ..." otherwise.
  const size_t teams = std::max(frame.scores.size(), info.team_names.size());
  auto name = [&](size_t t) { return t < info.team_names.size() ? info.team_names[t] : "team " + std::to_string(t); };
  auto score = [&](size_t t) { return t < frame.scores.size() ? score_text(frame.scores[t]) : std::string("-"); };
  const float mid = x0 + w / 2;
  if (teams == 2) {
    const std::string s0 = score(0), s1 = score(1);
    text.draw(":", mid, y0 + 6, 26, kBright, Align::center);
    text.draw(s0, mid - 12, y0 + 6, 26, team_sdl(0), Align::right);
    text.draw(s1, mid + 12, y0 + 6, 26, team_sdl(1), Align::left);
    const float gap = 12 + static_cast<float>(std::max(text.measure(s0, 26).first, text.measure(s1, 26).first)) + 18;
    if (w >= 640) {  // narrower windows keep the corners for the clock and speed
      text.draw(name(0), mid - gap, y0 + 13, 17, team_sdl(0), Align::right);
      text.draw(name(1), mid + gap, y0 + 13, 17, team_sdl(1), Align::left);
    }
  } else if (teams > 0) {
    std::vector<std::string> parts;
    float total = 0;
    for (size_t t = 0; t < teams; ++t) {
      parts.push_back(name(t) + " " + score(t));
      total += static_cast<float>(text.measure(parts.back(), 17).first) + 24;
    }
    float x = mid - total / 2;
    for (size_t t = 0; t < teams; ++t) x += text.draw(parts[t], x, y0 + 13, 17, team_sdl(static_cast<int>(t))) + 24;
  }

  // Left: tick and game clock. Right: speed, state, FPS.
  text.draw("tick " + std::to_string(frame.tick), x0 + 12, y0 + 5, 15, kBright);
  text.draw(clock_text(frame.tick, info.tick_rate_hz), x0 + 12, y0 + 23, 14, kDim);
  float rx = x0 + w - 12;
  if (info.fps >= 0) rx -= text.draw(strf("%.0f fps", info.fps), rx, y0 + 13, 14, kDim, Align::right) + 14;
  rx -= text.draw(speed_text(info.speed), rx, y0 + 11, 18, kBright, Align::right) + 14;
  if (info.paused)
    text.draw("PAUSED", rx, y0 + 12, 16, kAmber, Align::right);
  else if (info.finished)
    text.draw("FINISHED", rx, y0 + 12, 16, kAmber, Align::right);

  // Bottom: timeline (replays), camera state, help hint.
  const float by = y0 + h - static_cast<float>(kHudBottomPx);
  const float hint_w = text.draw("H: help", x0 + w - 10, by + 5, 14, kDim, Align::right);
  float right_end = x0 + w - 10 - hint_w - 16;
  if (!info.camera.empty()) right_end -= text.draw(info.camera, right_end, by + 5, 14, kDim, Align::right) + 16;
  if (info.progress >= 0) {
    const float tx = x0 + 14, tw = std::max(right_end - tx, 40.0f), ty = by + static_cast<float>(kHudBottomPx) / 2;
    const SDL_FRect track{tx, ty - 2, tw, 4};
    const SDL_FRect done{tx, ty - 2, tw * static_cast<float>(info.progress), 4};
    SDL_SetRenderDrawColor(r, 70, 76, 90, 255);
    SDL_RenderFillRectF(r, &track);
    SDL_SetRenderDrawColor(r, 120, 170, 250, 255);
    SDL_RenderFillRectF(r, &done);
    const SDL_FRect thumb{tx + tw * static_cast<float>(info.progress) - 3, ty - 7, 6, 14};
    SDL_SetRenderDrawColor(r, 236, 238, 242, 255);
    SDL_RenderFillRectF(r, &thumb);
    return SDL_FRect{tx, by, tw, static_cast<float>(kHudBottomPx)};
  }
  return SDL_FRect{0, 0, 0, 0};
}

void draw_help(SDL_Renderer* r, Text& text, SDL_Rect win, bool seekable, bool three_d) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Space", "pause / resume"},
      {". (period)", "single step forward (pauses)"},
      {"- / +", "speed x1/4 ... x16"},
      {"R", "restart from the beginning"},
      {"Tab", "toggle HUD"},
      {"P / F12", "screenshot (PNG)"},
      {"F / Shift+F", "follow next / previous unit"},
      {"0", "reset camera"},
      {"mouse wheel", "zoom"},
  };
  if (seekable) {
    rows.insert(rows.begin() + 2, {", (comma)", "single step back (pauses)"});
    rows.push_back({"Left / Right", "seek -5 s / +5 s"});
    rows.push_back({"click timeline", "scrub to that moment"});
  }
  if (three_d) {
    rows.push_back({"drag / W A S D", "orbit the camera"});
    rows.push_back({"T", "top-down view on / off"});
  } else {
    rows.push_back({"drag", "pan"});
  }
  rows.push_back({"H / F1", "this help"});
  rows.push_back({"Esc / Q", "quit"});

  const int row_h = 24, pad = 20;
  const int pw = 480, ph = pad * 2 + 34 + row_h * static_cast<int>(rows.size());
  const SDL_Rect panel{win.x + (win.w - pw) / 2, win.y + (win.h - ph) / 2, pw, ph};
  fill(r, panel, SDL_Color{12, 14, 20, 232});
  SDL_SetRenderDrawColor(r, 90, 100, 120, 255);
  SDL_RenderDrawRect(r, &panel);
  const float px = static_cast<float>(panel.x), py = static_cast<float>(panel.y);
  text.draw("Controls", px + pw / 2.0f, py + pad - 4, 20, kBright, Align::center);
  for (size_t i = 0; i < rows.size(); ++i) {
    const float y = py + pad + 34 + static_cast<float>(i * row_h);
    text.draw(rows[i].first, px + pad + 150, y, 15, kAmber, Align::right);
    text.draw(rows[i].second, px + pad + 170, y, 15, kBright);
  }
}

}  // namespace ludus::viz
