// Text for the visualizer: DejaVu through SDL2_ttf when a font is found, else a built-in bitmap font.
#pragma once

#include <SDL.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

typedef struct _TTF_Font TTF_Font;

namespace ludus::viz {

enum class Align { left, center, right };

// The TrueType font to use: $LUDUS_FONT if set (an error if that file is missing), else the
// first DejaVu Sans found in the usual Debian/Fedora/Arch/macOS places. Empty if none.
// `why` receives where it looked when nothing was found.
std::string find_font(std::string* why = nullptr);

class Text {
 public:
  // Uses `font_path` (find_font() when empty); with no font found, falls back to a
  // built-in bitmap font and sets fallback_reason(). Throws VizError when SDL2_ttf
  // cannot start or $LUDUS_FONT names a file that does not load.
  Text(SDL_Renderer* renderer, std::string font_path = {});
  ~Text();
  Text(const Text&) = delete;
  Text& operator=(const Text&) = delete;

  // Draws one line of text with its top at y; returns its width in pixels.
  float draw(std::string_view s, float x, float y, int px, SDL_Color color, Align align = Align::left);
  // Size of one line of text without drawing it.
  std::pair<int, int> measure(std::string_view s, int px);
  // Drops cached line textures unused for a while; call once per presented frame.
  void end_frame();

  bool using_fallback() const { return fonts_path_.empty(); }
  const std::string& fallback_reason() const { return fallback_reason_; }
  const std::string& font_path() const { return fonts_path_; }

 private:
  struct Line {
    SDL_Texture* texture = nullptr;
    int w = 0, h = 0;
    uint64_t last_used = 0;
  };
  TTF_Font* font(int px);
  float draw_fallback(std::string_view s, float x, float y, int px, SDL_Color color, Align align);

  SDL_Renderer* renderer_;
  std::string fonts_path_;
  std::string fallback_reason_;
  std::map<int, TTF_Font*> fonts_;
  std::map<std::pair<std::string, int>, Line> lines_;
  uint64_t frame_ = 0;
  bool ttf_started_ = false;
};

}  // namespace ludus::viz
