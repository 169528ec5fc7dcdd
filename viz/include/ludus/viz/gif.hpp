// Animated GIF export: frames from a Canvas into one looping GIF (no library beyond SDL).
#pragma once

#include <SDL.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace ludus::viz {

// Writes an animated GIF. The palette (255 colours) is taken from the most frequent colours
// of the first frame; later frames map each pixel to the nearest palette colour. Frames are
// what the visualizer draws (flat colours, few gradients), which this suits well.
class GifWriter {
 public:
  // Creates `path`; `delay_cs` is the time each frame is shown, in 1/100 s (at least 2, as
  // browsers treat smaller delays as 10). Throws VizError naming the path when it cannot.
  GifWriter(const std::string& path, int width, int height, int delay_cs);
  ~GifWriter();  // finishes the file if finish() was not called
  GifWriter(const GifWriter&) = delete;
  GifWriter& operator=(const GifWriter&) = delete;

  // Appends a frame; the surface must be RGBA32 of the writer's size.
  void add(const SDL_Surface* rgba);
  // Writes the trailer and closes the file; throws VizError on a write error.
  void finish();
  int frames() const { return frames_; }

 private:
  void build_palette(const SDL_Surface* rgba);
  uint8_t index_of(uint8_t r, uint8_t g, uint8_t b);
  void write(const void* data, size_t n);

  std::string path_;
  std::FILE* file_ = nullptr;
  int width_, height_, delay_cs_;
  int frames_ = 0;
  std::vector<uint8_t> palette_;     // 256 x RGB
  std::vector<int16_t> lookup_;      // 15-bit colour -> palette index, -1: not computed yet
  std::vector<uint8_t> indices_;     // one frame's palette indices
  std::vector<int16_t> dictionary_;  // LZW: (prefix code, byte) -> code
};

}  // namespace ludus::viz
