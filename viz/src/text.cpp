// Font lookup, cached SDL2_ttf line textures, and the stb_easy_font fallback.
#include "ludus/viz/text.hpp"

#include <SDL_ttf.h>
#include <stb/stb_easy_font.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "ludus/viz/render.hpp"

namespace ludus::viz {
namespace {

constexpr uint64_t kEvictAfterFrames = 120;

int quantize_px(int px) { return std::clamp(px, 6, 96) & ~1; }

}  // namespace

std::string find_font(std::string* why) {
  if (const char* env = std::getenv("LUDUS_FONT"); env && *env) return env;
  static const char* kCandidates[] = {
      "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  // Debian, Ubuntu (fonts-dejavu-core)
      "/usr/share/fonts/dejavu/DejaVuSans.ttf",           // Fedora
      "/usr/share/fonts/TTF/DejaVuSans.ttf",              // Arch
      "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
      "/usr/local/share/fonts/DejaVuSans.ttf",
      "/Library/Fonts/DejaVuSans.ttf",
  };
  std::string looked;
  for (const char* c : kCandidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(c, ec)) return c;
    looked += looked.empty() ? c : std::string(", ") + c;
  }
  if (why)
    *why = "no DejaVu Sans font found (looked in " + looked +
           "); install fonts-dejavu-core or set LUDUS_FONT to a .ttf file";
  return {};
}

Text::Text(SDL_Renderer* renderer, std::string font_path) : renderer_(renderer) {
  const bool from_env = font_path.empty() && std::getenv("LUDUS_FONT") && *std::getenv("LUDUS_FONT");
  if (font_path.empty()) font_path = find_font(&fallback_reason_);
  if (font_path.empty()) return;
  if (TTF_Init() != 0) throw VizError(std::string("SDL2_ttf failed to start: ") + TTF_GetError());
  ttf_started_ = true;
  fonts_path_ = font_path;
  if (!font(16)) {
    const std::string err = TTF_GetError();
    if (from_env) {
      TTF_Quit();
      ttf_started_ = false;
      throw VizError("LUDUS_FONT=" + font_path + ": cannot load font: " + err);
    }
    fallback_reason_ = font_path + ": cannot load font: " + err;
    fonts_path_.clear();
  }
}

Text::~Text() {
  for (auto& [key, line] : lines_) SDL_DestroyTexture(line.texture);
  for (auto& [px, f] : fonts_)
    if (f) TTF_CloseFont(f);
  if (ttf_started_) TTF_Quit();
}

TTF_Font* Text::font(int px) {
  px = quantize_px(px);
  auto it = fonts_.find(px);
  if (it != fonts_.end()) return it->second;
  TTF_Font* f = TTF_OpenFont(fonts_path_.c_str(), px);
  if (f) TTF_SetFontHinting(f, TTF_HINTING_LIGHT);
  fonts_[px] = f;
  return f;
}

std::pair<int, int> Text::measure(std::string_view s, int px) {
  if (using_fallback()) {
    std::string copy(s);
    const float scale = static_cast<float>(quantize_px(px)) / 12.0f;
    return {static_cast<int>(static_cast<float>(stb_easy_font_width(copy.data())) * scale),
            static_cast<int>(12.0f * scale)};
  }
  int w = 0, h = 0;
  TTF_Font* f = font(px);
  if (!f || s.empty()) return {0, f ? TTF_FontHeight(f) : 0};
  TTF_SizeUTF8(f, std::string(s).c_str(), &w, &h);
  return {w, h};
}

float Text::draw(std::string_view s, float x, float y, int px, SDL_Color color, Align align) {
  if (s.empty()) return 0;
  if (using_fallback()) return draw_fallback(s, x, y, px, color, align);
  px = quantize_px(px);
  auto key = std::make_pair(std::string(s), px);
  auto it = lines_.find(key);
  if (it == lines_.end()) {
    TTF_Font* f = font(px);
    if (!f) return 0;
    SDL_Surface* surf = TTF_RenderUTF8_Blended(f, key.first.c_str(), SDL_Color{255, 255, 255, 255});
    if (!surf) return 0;
    Line line;
    line.texture = SDL_CreateTextureFromSurface(renderer_, surf);
    line.w = surf->w;
    line.h = surf->h;
    SDL_FreeSurface(surf);
    if (!line.texture) return 0;
    SDL_SetTextureBlendMode(line.texture, SDL_BLENDMODE_BLEND);
    it = lines_.emplace(std::move(key), line).first;
  }
  Line& line = it->second;
  line.last_used = frame_;
  const float w = static_cast<float>(line.w);
  const float left = align == Align::left ? x : align == Align::center ? x - w / 2 : x - w;
  const SDL_FRect dst{std::round(left), std::round(y), w, static_cast<float>(line.h)};
  SDL_SetTextureColorMod(line.texture, color.r, color.g, color.b);
  SDL_SetTextureAlphaMod(line.texture, color.a);
  SDL_RenderCopyF(renderer_, line.texture, nullptr, &dst);
  return w;
}

float Text::draw_fallback(std::string_view s, float x, float y, int px, SDL_Color color, Align align) {
  std::string copy(s);
  // stb_easy_font glyphs are about 12 units tall including descenders.
  const float scale = static_cast<float>(quantize_px(px)) / 12.0f;
  const float w = static_cast<float>(stb_easy_font_width(copy.data())) * scale;
  const float left = align == Align::left ? x : align == Align::center ? x - w / 2 : x - w;
  struct StbVertex {
    float x, y, z;
    unsigned char c[4];
  };
  std::vector<StbVertex> quads(copy.size() * 70 + 16);
  const int n =
      stb_easy_font_print(0, 0, copy.data(), nullptr, quads.data(), static_cast<int>(quads.size() * sizeof(StbVertex)));
  std::vector<SDL_Vertex> verts;
  std::vector<int> idx;
  verts.reserve(static_cast<size_t>(n) * 4);
  for (int q = 0; q < n; ++q) {
    const int base = static_cast<int>(verts.size());
    for (int k = 0; k < 4; ++k) {
      const StbVertex& v = quads[static_cast<size_t>(q * 4 + k)];
      verts.push_back(SDL_Vertex{{left + v.x * scale, y + (v.y + 1) * scale}, color, {0, 0}});
    }
    for (int k : {0, 1, 2, 0, 2, 3}) idx.push_back(base + k);
  }
  if (!verts.empty())
    SDL_RenderGeometry(renderer_, nullptr, verts.data(), static_cast<int>(verts.size()), idx.data(),
                       static_cast<int>(idx.size()));
  return w;
}

void Text::end_frame() {
  ++frame_;
  if (frame_ % 30 != 0) return;
  for (auto it = lines_.begin(); it != lines_.end();) {
    if (frame_ - it->second.last_used > kEvictAfterFrames) {
      SDL_DestroyTexture(it->second.texture);
      it = lines_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ludus::viz
