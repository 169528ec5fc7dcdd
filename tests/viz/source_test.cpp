// Replay playback (seeking, pacing, bad files) and the live-match source's pause, step and restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ludus/viz/source.hpp"
#include "ludus/viz/viewer.hpp"
#include "test_temp.hpp"

namespace ludus::viz {
namespace {

using ::testing::HasSubstr;

// A unit that moves one world unit per 3 ticks across a 2D field; frames every 3 ticks.
Frame moving_unit(int64_t tick) {
  Frame f;
  f.dims = 2;
  f.tick = tick;
  const float b[6] = {0, 100, 0, 100, 0, 0};
  std::copy(b, b + 6, f.bounds);
  f.scores = {static_cast<double>(tick / 30), 0};
  f.circle(static_cast<float>(tick) / 3.0f, 50, 2, team_color(0), 0);
  return f;
}

class ReplaySourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<ludus_test::TempDir>();
    path_ = tmp_->file("source.rpl");
  }
  void TearDown() override { tmp_.reset(); }
  std::unique_ptr<ludus_test::TempDir> tmp_;
  void write(int frames, bool finish = true) {
    ReplayHeader h;
    h.env_name = "synthetic";
    h.agents = {"left", "right"};
    {
      ReplayWriter w(path_, h, 8);
      for (int i = 0; i < frames; ++i) w.add(moving_unit(3 * i));
      w.finish(MatchResult{{1, 0}, 0, 3 * (frames - 1)});
    }
    // A writer killed while finishing: the end record is cut short.
    if (!finish) std::filesystem::resize_file(path_, std::filesystem::file_size(path_) - 10);
  }
  std::string path_;
};

TEST_F(ReplaySourceTest, SeekToTickShowsTheFrameTheFileHolds) {
  write(100);
  ReplaySource src(path_, false, 30);
  src.seek_tick(151);  // frames are every 3 ticks: the last one at or before 151 is tick 150
  EXPECT_EQ(src.current().tick, 150);
  ReplayReader independent(path_);
  EXPECT_EQ(src.current(), independent.frame(50));

  // And it is drawn where the file says: the unit at x = 50.
  Canvas canvas(200, 200);
  Camera cam;
  canvas.render(src.current(), cam);
  float sx, sy;
  ASSERT_TRUE(canvas.frame_renderer().project(50, 50, 0, sx, sy));
  EXPECT_EQ(canvas.pixel(static_cast<int>(sx), static_cast<int>(sy)), team_color(0));
}

TEST_F(ReplaySourceTest, PlaysAtTheTickRateTimesSpeedAndHoldsWhenPaused) {
  write(100);
  ReplaySource src(path_, false, 30);
  EXPECT_EQ(src.update(0)->tick, 0);
  EXPECT_EQ(src.update(1.0)->tick, 30);  // one second at 30 ticks/s
  src.set_speed(2);
  EXPECT_EQ(src.update(0.5)->tick, 60);
  src.set_paused(true);
  EXPECT_EQ(src.update(5.0)->tick, 60);
  src.step(1);
  EXPECT_EQ(src.update(0)->tick, 63);
  src.step(-2);
  EXPECT_EQ(src.update(0)->tick, 57);
  src.seek_progress(1.0);
  EXPECT_EQ(src.current().tick, 297);
  EXPECT_TRUE(src.finished());
  src.restart();
  EXPECT_EQ(src.current().tick, 0);
  EXPECT_NEAR(src.progress(), 0.0, 1e-9);
}

TEST_F(ReplaySourceTest, TruncatedReplayIsAClearErrorAndRecoversOnRequest) {
  write(100, /*finish=*/false);
  try {
    ReplaySource src(path_, false, 30);
    FAIL() << "a truncated replay must be refused";
  } catch (const ReplayError& e) {
    EXPECT_THAT(e.what(), HasSubstr("truncated"));
    EXPECT_THAT(e.what(), HasSubstr(path_));
  }
  ReplaySource recovered(path_, true, 30);
  EXPECT_EQ(recovered.reader().num_frames(), 100);  // every chunk was complete
}

TEST_F(ReplaySourceTest, GarbageAndEmptyFilesAreClearErrors) {
  std::ofstream(path_) << "this is not a replay at all";
  EXPECT_THROW(
      {
        try {
          ReplaySource src(path_, false, 30);
        } catch (const ReplayError& e) {
          EXPECT_THAT(e.what(), HasSubstr("not a ludus replay"));
          throw;
        }
      },
      ReplayError);
  write(0);
  EXPECT_THROW(
      {
        try {
          ReplaySource src(path_, false, 30);
        } catch (const ReplayError& e) {
          EXPECT_THAT(e.what(), HasSubstr("holds no frames"));
          throw;
        }
      },
      ReplayError);
}

// A live "match": ticks until `length`, publishing a frame after each.
LiveSource::Play counting_match(int64_t length) {
  return [length](const LiveSource::Publish& publish) {
    for (int64_t t = 0; t <= length; ++t)
      if (!publish(moving_unit(t))) return;
  };
}

template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 400; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(LiveSource, SimulatesInRealTimeWithoutBeingAskedForFrames) {
  const auto t0 = std::chrono::steady_clock::now();
  LiveSource src(counting_match(1000000), 200, {"a", "b"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int64_t ticks = src.ticks_simulated();
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Nobody called update(): the simulation still ran, paced to 200 ticks/s (never ahead of it).
  EXPECT_GT(ticks, 15);
  EXPECT_LE(static_cast<double>(ticks), elapsed_s * 200 + 3);
  const Frame* f = src.update(0);
  ASSERT_NE(f, nullptr);
  EXPECT_GT(f->tick, 10);
}

TEST(LiveSource, PauseHoldsSingleStepAdvancesOneTickRestartStartsOver) {
  LiveSource src(counting_match(1000000), 500, {"a", "b"});
  ASSERT_TRUE(eventually([&] { return src.ticks_simulated() > 20; }));
  src.set_paused(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const int64_t held = src.update(0)->tick;
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(src.update(0)->tick, held);
  src.step(1);
  ASSERT_TRUE(eventually([&] { return src.update(0)->tick == held + 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(src.update(0)->tick, held + 1);
  src.restart();
  src.set_paused(false);
  ASSERT_TRUE(eventually([&] {
    const Frame* f = src.update(0);
    return f && f->tick < held && src.ticks_simulated() > 0;
  }));
}

TEST(LiveSource, FinishesAndReportsTheSimulationsErrors) {
  LiveSource done(counting_match(5), 1000, {"a", "b"});
  ASSERT_TRUE(eventually([&] { return done.finished(); }));
  EXPECT_EQ(done.update(0)->tick, 5);

  LiveSource failing([](const LiveSource::Publish&) { throw std::runtime_error("agent crashed"); }, 30, {});
  ASSERT_TRUE(eventually([&] { return failing.finished(); }));
  EXPECT_THROW(
      {
        try {
          failing.update(0);
        } catch (const std::runtime_error& e) {
          EXPECT_THAT(e.what(), HasSubstr("agent crashed"));
          throw;
        }
      },
      std::runtime_error);
}

TEST(Viewer, WindowLoopTakesKeysAndWritesScreenshots) {
  // The real window loop on SDL's offscreen video driver: no display needed
  // (LUDUS_TEST_VIDEODRIVER overrides it: the sanitizer runs use `dummy`, scripts/test.sh).
  const char* driver = std::getenv("LUDUS_TEST_VIDEODRIVER");
  ::setenv("SDL_VIDEODRIVER", driver && *driver ? driver : "offscreen", 1);
  const ludus_test::TempDir tmp;
  const auto& dir = tmp.path();
  LiveSource src(counting_match(1000000), 60, {"a", "b"});
  ViewerOptions options;
  options.width = 640;
  options.height = 400;
  options.screenshot_dir = dir.string();
  options.quit_after_s = 10;  // a safety net: the test closes the window itself
  // The key thread pushes into SDL's event queue. Create the queue here, before that thread
  // starts, so a push cannot race the viewer's own SDL initialisation (ThreadSanitizer
  // found that race when the queue came from the viewer's SDL_InitSubSystem). SDL counts
  // the references: the viewer's init and quit leave the queue alive until the test's quit.
  ASSERT_EQ(SDL_InitSubSystem(SDL_INIT_EVENTS), 0) << SDL_GetError();
  std::thread keys([] {
    auto key = [](SDL_Keycode k) {
      SDL_Event e{};
      e.type = SDL_KEYDOWN;
      e.key.state = SDL_PRESSED;
      e.key.keysym.sym = k;
      SDL_PushEvent(&e);
    };
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    key(SDLK_SPACE);  // pause
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    key(SDLK_p);  // screenshot
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    SDL_Event quit{};
    quit.type = SDL_QUIT;
    SDL_PushEvent(&quit);
  });
  const auto t0 = std::chrono::steady_clock::now();
  run_viewer(src, options);
  keys.join();
  SDL_QuitSubSystem(SDL_INIT_EVENTS);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << "the quit event closes the window";
  EXPECT_TRUE(src.paused()) << "Space paused the match";
  std::vector<std::filesystem::path> shots;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) shots.push_back(entry.path());
  ASSERT_EQ(shots.size(), 1u);
  EXPECT_EQ(shots[0].extension(), ".png");
  EXPECT_GT(std::filesystem::file_size(shots[0]), 500u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ludus::viz
