// Animated GIF export: the file decodes (through SDL2_image) to the frames that were drawn.
#include <SDL_image.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "ludus/viz/gif.hpp"
#include "ludus/viz/viewer.hpp"
#include "test_temp.hpp"

namespace ludus::viz {
namespace {

Frame unit_at(float x) {
  Frame f;
  f.dims = 2;
  const float b[6] = {0, 10, 0, 10, 0, 0};
  std::copy(b, b + 6, f.bounds);
  f.circle(x, 5, 1, team_color(1), 1);
  return f;
}

TEST(Gif, DecodesToTheFirstFrameDrawnAndIsAWellFormedFile) {
  const ludus_test::TempDir tmp;
  const auto path = tmp.file("test.gif");
  Canvas canvas(160, 120);
  Camera cam;
  float sx = 0, sy = 0;
  {
    GifWriter gif(path, 160, 120, 4);
    for (float x : {2.0f, 5.0f, 8.0f}) {
      canvas.render(unit_at(x), cam);
      if (x == 2.0f) canvas.frame_renderer().project(2, 5, 0, sx, sy);
      gif.add(canvas.surface());
    }
    gif.finish();
    EXPECT_EQ(gif.frames(), 3);
  }
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 800u);
  EXPECT_EQ(bytes.substr(0, 6), "GIF89a");
  EXPECT_EQ(bytes.back(), '\x3B');

  SDL_Surface* loaded = IMG_Load(path.c_str());
  ASSERT_NE(loaded, nullptr) << IMG_GetError();
  SDL_Surface* rgba = SDL_ConvertSurfaceFormat(loaded, SDL_PIXELFORMAT_RGBA32, 0);
  SDL_FreeSurface(loaded);
  ASSERT_NE(rgba, nullptr);
  auto pixel = [&](int x, int y) {
    const auto* p = static_cast<const uint8_t*>(rgba->pixels) + y * rgba->pitch + x * 4;
    return Rgba{p[0], p[1], p[2], 255};
  };
  EXPECT_EQ(pixel(static_cast<int>(sx), static_cast<int>(sy)), team_color(1));
  const SDL_Color bg = FrameRenderer::kBackground2D;
  EXPECT_EQ(pixel(80, 10), (Rgba{bg.r, bg.g, bg.b, 255}));
  SDL_FreeSurface(rgba);
  std::filesystem::remove(path);
}

TEST(Gif, UnwritablePathIsAClearError) {
  try {
    GifWriter gif("/nonexistent-dir/x.gif", 16, 16, 4);
    FAIL() << "expected VizError";
  } catch (const VizError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.gif: cannot create GIF"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ludus::viz
