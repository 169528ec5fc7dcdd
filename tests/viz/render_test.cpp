// The frame renderer on an offscreen canvas: what a viewer would see at probe points.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "ludus/viz/render.hpp"
#include "ludus/viz/text.hpp"
#include "ludus/viz/viewer.hpp"
#include "viz/synthetic_frames.hpp"
#include "test_temp.hpp"

namespace ludus::viz {
namespace {

Rgba bg(SDL_Color c) { return Rgba{c.r, c.g, c.b, c.a}; }

Rgba probe(Canvas& canvas, float x, float y, float z = 0) {
  float sx = 0, sy = 0;
  EXPECT_TRUE(canvas.frame_renderer().project(x, y, z, sx, sy));
  return canvas.pixel(static_cast<int>(sx), static_cast<int>(sy));
}

int brightness(Rgba c) { return c.r + c.g + c.b; }

Frame two_units_2d() {
  Frame f;
  f.dims = 2;
  const float b[6] = {0, 10, 0, 10, 0, 0};
  std::copy(b, b + 6, f.bounds);
  f.circle(2, 2, 1, team_color(0), 0);
  f.circle(8, 7, 1, team_color(1), 1);
  return f;
}

TEST(Render2D, TeamColouredDiscsWhereUnitsAreAndBackgroundElsewhere) {
  Canvas canvas(200, 200);
  Camera cam;
  canvas.render(two_units_2d(), cam);
  EXPECT_EQ(probe(canvas, 2, 2), team_color(0));
  EXPECT_EQ(probe(canvas, 8, 7), team_color(1));
  EXPECT_EQ(probe(canvas, 5, 5), bg(FrameRenderer::kBackground2D));
  EXPECT_EQ(canvas.pixel(3, 3), bg(FrameRenderer::kBackground2D));
  // Just outside a disc's edge is background again.
  EXPECT_EQ(probe(canvas, 2 + 1.3f, 2), bg(FrameRenderer::kBackground2D));
}

TEST(Render2D, WorldYPointsUpAndBoundsFitTheView) {
  Canvas canvas(200, 100);
  Camera cam;
  canvas.render(two_units_2d(), cam);
  float x0, y0, x1, y1;
  ASSERT_TRUE(canvas.frame_renderer().project(2, 2, 0, x0, y0));
  ASSERT_TRUE(canvas.frame_renderer().project(8, 7, 0, x1, y1));
  EXPECT_LT(x0, x1);  // x grows to the right
  EXPECT_GT(y0, y1);  // y grows upward: the unit at y = 2 is lower on screen
  float cx, cy, lx, ly;
  canvas.frame_renderer().project(5, 5, 0, cx, cy);
  canvas.frame_renderer().project(5, 0, 0, lx, ly);
  EXPECT_NEAR(cx, 100, 1);
  EXPECT_NEAR(cy, 50, 1);
  EXPECT_GT(ly, 90);  // the bounds fill the view's height
  EXPECT_LT(ly, 100);
}

TEST(Render2D, FollowCentresTheChosenUnit) {
  Canvas canvas(200, 200);
  Camera cam;
  cam.follow = 1;  // the second circle: team 1 at (8, 7)
  canvas.render(two_units_2d(), cam);
  EXPECT_EQ(canvas.pixel(100, 100), team_color(1));
}

Frame one_sphere_3d(float height, int team) {
  Frame f;
  f.dims = 3;
  const float b[6] = {-10, 10, 0, 10, -10, 10};
  std::copy(b, b + 6, f.bounds);
  const float floor_pts[12] = {-10, 0, -10, 10, 0, -10, 10, 0, 10, -10, 0, 10};
  f.polygon(floor_pts, 4, Rgba{120, 120, 120, 255}, true);
  f.sphere(0, height, 0, 1.5f, team_color(team), team);
  return f;
}

TEST(Render3D, ShadedSphereInTeamColourAndBackgroundAroundTheArena) {
  Canvas canvas(320, 240);
  Camera cam;
  canvas.render(one_sphere_3d(3, 1), cam);
  const Rgba c = probe(canvas, 0, 3, 0);
  EXPECT_GT(c.r, c.g + 60) << "sphere centre should be red (team 1)";
  EXPECT_GT(c.r, c.b + 60);
  EXPECT_EQ(canvas.pixel(2, 2), bg(FrameRenderer::kBackground3D));
  // Shaded: lit from the upper left, so the upper-left of the ball is brighter than its lower right.
  float sx, sy;
  canvas.frame_renderer().project(0, 3, 0, sx, sy);
  float ex, ey;
  canvas.frame_renderer().project(0, 4.5f, 0, ex, ey);
  const float r = sy - ey;
  ASSERT_GT(r, 6);
  const Rgba upper_left = canvas.pixel(static_cast<int>(sx - 0.45f * r), static_cast<int>(sy - 0.45f * r));
  const Rgba lower_right = canvas.pixel(static_cast<int>(sx + 0.5f * r), static_cast<int>(sy + 0.5f * r));
  EXPECT_GT(brightness(upper_left), brightness(lower_right) + 40);
}

TEST(Render3D, ShadowOnTheFloorFadesWithHeight) {
  // The default camera looks down at 35 degrees, so the floor right under a ball in the
  // air is visible below it on screen.
  auto shadow_darkness = [](float height) {
    Canvas canvas(320, 240);
    Camera cam;
    canvas.render(one_sphere_3d(height, 0), cam);
    const Rgba shadow = probe(canvas, 0, 0, 0);
    const Rgba floor = probe(canvas, 6, 0, 6);
    return brightness(floor) - brightness(shadow);
  };
  const int low = shadow_darkness(4), high = shadow_darkness(9);
  EXPECT_GT(low, 60) << "a ball in the air casts a visible shadow straight down";
  EXPECT_GT(high, 20);
  EXPECT_GT(low, high + 30) << "a higher ball's shadow is fainter";
}

TEST(Render3D, NearerSpheresCoverFartherOnesWhateverTheDrawOrder) {
  Frame f = one_sphere_3d(7, 0);              // team 0 high up, emitted first: nearer to a top-down camera
  f.sphere(0, 2, 0, 1.5f, team_color(1), 1);  // team 1 below it, emitted last
  Canvas canvas(320, 240);
  Camera cam;
  cam.top_down = true;
  canvas.render(f, cam);
  const Rgba c = probe(canvas, 0, 7, 0);
  EXPECT_GT(c.b, c.r + 60) << "the nearer, blue sphere must be on top";
}

TEST(Render3D, CodeballLikeArenaRenders) {
  Canvas canvas(960, 600);
  Camera cam;
  HudInfo hud;
  hud.team_names = {"bot", "random"};
  hud.tick_rate_hz = 60;
  canvas.render(testing::arena_3d(1234), cam, &hud);
  const Rgba ball = probe(canvas, 4, 7, -6);
  EXPECT_GT(brightness(ball), 400) << "the white ball is drawn where it is";
  const ludus_test::TempDir tmp;
  const std::filesystem::path out = tmp.file("frame3d.png");
  canvas.save_png(out.string());
  EXPECT_GT(std::filesystem::file_size(out), 1000u);
}

TEST(Render, ScreenItemsUseViewPixels) {
  Frame f = two_units_2d();
  f.circle(20, 30, 5, Rgba{250, 200, 40, 255});
  f.items.back().screen = 1;
  Canvas canvas(200, 200);
  Camera cam;
  canvas.render(f, cam);
  EXPECT_EQ(canvas.pixel(20, 30), (Rgba{250, 200, 40, 255}));
}

TEST(Hud, ScoresInTeamColoursAndHelpPanelOverTheView) {
  Canvas canvas(960, 600);
  Camera cam;
  HudInfo hud;
  hud.team_names = {"left", "right"};
  hud.paused = true;
  hud.progress = 0.5;
  const Frame f = testing::battle_2d(1000, 40);
  canvas.render(f, cam, &hud);
  auto count_near = [&](Rgba want, SDL_Rect r) {
    int n = 0;
    for (int y = r.y; y < r.y + r.h; ++y)
      for (int x = r.x; x < r.x + r.w; ++x) {
        const Rgba c = canvas.pixel(x, y);
        n += std::abs(c.r - want.r) + std::abs(c.g - want.g) + std::abs(c.b - want.b) < 40 ? 1 : 0;
      }
    return n;
  };
  // The score digits left and right of the centre of the top bar, in the teams' colours.
  EXPECT_GT(count_near(team_color(0), SDL_Rect{380, 0, 100, kHudTopPx}), 20);
  EXPECT_GT(count_near(team_color(1), SDL_Rect{480, 0, 100, kHudTopPx}), 20);
  const ludus_test::TempDir tmp;
  canvas.save_png(tmp.file("battle.png"));
  draw_help(canvas.sdl_renderer(), canvas.text(), SDL_Rect{0, 0, 960, 600}, true, false);
  SDL_RenderFlush(canvas.sdl_renderer());
  const std::filesystem::path out = tmp.file("hud_help.png");
  canvas.save_png(out.string());
  // The help panel darkens the middle of the view and lists the controls in bright text.
  EXPECT_LT(brightness(canvas.pixel(480 - 200, 300)), 80);
  EXPECT_GT(count_near(Rgba{236, 238, 242, 255}, SDL_Rect{300, 100, 400, 400}), 200);
}

TEST(Text, BuiltInFallbackDrawsWhenNoFontFileLoads) {
  Canvas canvas(200, 60);
  Text fallback(canvas.sdl_renderer(), "/nonexistent/font.ttf");
  EXPECT_TRUE(fallback.using_fallback());
  EXPECT_NE(fallback.fallback_reason().find("/nonexistent/font.ttf"), std::string::npos);
  SDL_SetRenderDrawColor(canvas.sdl_renderer(), 0, 0, 0, 255);
  SDL_RenderClear(canvas.sdl_renderer());
  const float w = fallback.draw("SCORE 3:1", 10, 10, 24, SDL_Color{255, 255, 255, 255});
  SDL_RenderFlush(canvas.sdl_renderer());
  EXPECT_GT(w, 50);
  int lit = 0;
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 200; ++x) lit += canvas.pixel(x, y).r > 128 ? 1 : 0;
  EXPECT_GT(lit, 50);
}

TEST(Text, MissingFontNamedByLudusFontIsAClearError) {
  Canvas canvas(64, 64);
  ::setenv("LUDUS_FONT", "/nonexistent/DejaVuSans.ttf", 1);
  try {
    Text t(canvas.sdl_renderer());
    ::unsetenv("LUDUS_FONT");
    FAIL() << "expected VizError";
  } catch (const VizError& e) {
    ::unsetenv("LUDUS_FONT");
    EXPECT_NE(std::string(e.what()).find("LUDUS_FONT=/nonexistent/DejaVuSans.ttf"), std::string::npos) << e.what();
  }
}

TEST(Text, DejaVuIsFoundOnThisMachine) {
  std::string why;
  const std::string path = find_font(&why);
  EXPECT_FALSE(path.empty()) << why;
}

}  // namespace
}  // namespace ludus::viz
