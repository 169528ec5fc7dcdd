// Synthetic frames for visualizer tests and benchmarks: a Codewars-sized 2D battle and a Codeball-like 3D arena.
#pragma once

#include <cmath>

#include "ludus/engine/frame.hpp"

namespace ludus::viz::testing {

// `units` discs (half per team) with health bars over a 1000 x 1000 field, like Codewars at full size.
inline Frame battle_2d(int units, int64_t tick = 0) {
  Frame f;
  f.dims = 2;
  f.tick = tick;
  const float b[6] = {0, 1000, 0, 1000, 0, 0};
  std::copy(b, b + 6, f.bounds);
  f.scores = {12, 9};
  const float field[12] = {0, 0, 0, 1000, 0, 0, 1000, 1000, 0, 0, 1000, 0};
  f.polygon(field, 4, Rgba{30, 36, 30, 255}, true);
  f.polygon(field, 4, Rgba{120, 130, 120, 255}, false);
  for (int i = 0; i < units; ++i) {
    const int team = i % 2;
    const float k = static_cast<float>(i / 2);
    const float x = (team == 0 ? 120.0f : 560.0f) + 16.0f * std::fmod(k, 20.0f) +
                    4.0f * std::sin(k + static_cast<float>(tick) * 0.05f);
    const float y = 100.0f + 32.0f * std::floor(k / 20.0f) + 8.0f * std::cos(k * 0.7f);
    const float health = 0.25f + 0.75f * std::fmod(k * 0.37f, 1.0f);
    f.circle(x, y, 6, team_color(team), team);
    f.line2d(x - 7, y + 10, x + 7, y + 10, Rgba{60, 20, 20, 255}, 3);
    f.line2d(x - 7, y + 10, x - 7 + 14 * health, y + 10, Rgba{80, 220, 90, 255}, 3);
  }
  return f;
}

// A Codeball-like arena (60 x 20 x 80, y up) with a ball and two teams of three robots, one airborne.
inline Frame arena_3d(int64_t tick = 0) {
  Frame f;
  f.dims = 3;
  f.tick = tick;
  const float b[6] = {-30, 30, 0, 20, -40, 40};
  std::copy(b, b + 6, f.bounds);
  f.scores = {1, 2};
  const float floor_pts[12] = {-30, 0, -40, 30, 0, -40, 30, 0, 40, -30, 0, 40};
  f.polygon(floor_pts, 4, Rgba{34, 70, 52, 255}, true);
  const Rgba chalk{210, 225, 215, 255};
  f.polygon(floor_pts, 4, chalk, false);
  f.line(-30, 0, 0, 30, 0, 0, chalk, 2);
  for (int k = 0; k < 32; ++k) {
    const float a0 = static_cast<float>(k) * 6.2831853f / 32, a1 = static_cast<float>(k + 1) * 6.2831853f / 32;
    f.line(8 * std::cos(a0), 0, 8 * std::sin(a0), 8 * std::cos(a1), 0, 8 * std::sin(a1), chalk, 2);
  }
  const Rgba wall{120, 140, 170, 255};
  const float top = 20;
  const float corners[4][2] = {{-30, -40}, {30, -40}, {30, 40}, {-30, 40}};
  for (int k = 0; k < 4; ++k) {
    const auto& c = corners[k];
    const auto& d = corners[(k + 1) % 4];
    f.line(c[0], top, c[1], d[0], top, d[1], wall, 1.5f);
    f.line(c[0], 0, c[1], c[0], top, c[1], wall, 1.5f);
  }
  for (int side : {-1, 1}) {  // goals: 30 wide, 10 high, 10 deep, behind each end line
    const float z = 40.0f * static_cast<float>(side), zb = 50.0f * static_cast<float>(side);
    const Rgba goal = team_color(side < 0 ? 0 : 1);
    f.line(-15, 0, z, -15, 10, z, goal, 3);
    f.line(15, 0, z, 15, 10, z, goal, 3);
    f.line(-15, 10, z, 15, 10, z, goal, 3);
    f.line(-15, 10, z, -15, 10, zb, goal, 1.5f);
    f.line(15, 10, z, 15, 10, zb, goal, 1.5f);
    f.line(-15, 10, zb, 15, 10, zb, goal, 1.5f);
    f.line(-15, 0, zb, 15, 0, zb, goal, 1.5f);
  }
  f.sphere(4, 7, -6, 2, Rgba{235, 235, 235, 255});
  const float robots[6][3] = {{-10, 1, -25}, {6, 1, -12}, {2, 4.5f, -4}, {-8, 1, 22}, {12, 1, 16}, {0, 1, 36}};
  for (int i = 0; i < 6; ++i) f.sphere(robots[i][0], robots[i][1], robots[i][2], 1, team_color(i / 3), i / 3);
  return f;
}

}  // namespace ludus::viz::testing
