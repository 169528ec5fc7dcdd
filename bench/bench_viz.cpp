// Visualizer throughput: frames per second drawing large frames on the offscreen software renderer.
#include <benchmark/benchmark.h>

#include "ludus/viz/viewer.hpp"
#include "viz/synthetic_frames.hpp"

namespace {

using ludus::viz::Camera;
using ludus::viz::Canvas;
using ludus::viz::HudInfo;

// Codewars at full size: 1000 discs with two-segment health bars (3000 items), plus the HUD.
void BM_Render2D(benchmark::State& state) {
  const int units = static_cast<int>(state.range(0));
  Canvas canvas(1280, 800);
  Camera cam;
  HudInfo hud;
  hud.team_names = {"left", "right"};
  const ludus::Frame frame = ludus::viz::testing::battle_2d(units, 17);
  for (auto _ : state) {
    canvas.render(frame, cam, &hud);
    benchmark::DoNotOptimize(canvas.pixel(640, 400));
  }
  state.counters["frames_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["items"] = static_cast<double>(frame.items.size());
}
BENCHMARK(BM_Render2D)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// A Codeball-like arena: floor, ~80 outline segments, a ball and six robots with shadows.
void BM_Render3D(benchmark::State& state) {
  Canvas canvas(1280, 800);
  Camera cam;
  HudInfo hud;
  hud.team_names = {"left", "right"};
  const ludus::Frame frame = ludus::viz::testing::arena_3d(17);
  for (auto _ : state) {
    canvas.render(frame, cam, &hud);
    benchmark::DoNotOptimize(canvas.pixel(640, 400));
  }
  state.counters["frames_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["items"] = static_cast<double>(frame.items.size());
}
BENCHMARK(BM_Render3D)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
