// Where the viewer's frames come from: a replay file (seekable) or a live match on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ludus/engine/frame.hpp"
#include "ludus/engine/replay.hpp"

namespace ludus::viz {

// Playback speeds the viewer steps through (x1/4 ... x16).
inline constexpr double kSpeeds[] = {0.25, 0.5, 1, 2, 4, 8, 16};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Advances playback by `wall_s` seconds of real time (scaled by speed, unless paused) and
  // returns the frame to show, or nullptr before the first one. The pointer stays valid
  // until the next call. A live source rethrows here what its simulation threw.
  virtual const Frame* update(double wall_s) = 0;
  virtual void set_paused(bool paused) = 0;
  virtual bool paused() const = 0;
  virtual void set_speed(double speed) = 0;
  virtual double speed() const = 0;
  // One frame forward (negative: back, seekable sources only); pauses.
  virtual void step(int frames) = 0;
  // Back to the start (a live source plays its match again from the same seed).
  virtual void restart() = 0;
  // The match is over (or the replay reached its last frame).
  virtual bool finished() const = 0;
  virtual double tick_rate_hz() const = 0;
  // One name per team (agent kinds), for the HUD.
  virtual const std::vector<std::string>& team_names() const = 0;

  // Timeline, for seekable sources: position in [0, 1], and seeking to it.
  virtual bool seekable() const { return false; }
  virtual double progress() const { return 0; }
  virtual void seek_progress(double) {}
  virtual void seek_relative_s(double) {}
};

// Plays a replay file at its tick rate; seeks by tick or by timeline position.
class ReplaySource final : public FrameSource {
 public:
  // Opens the file (throws ReplayError on unreadable, corrupt or, unless `recover`,
  // truncated files, and when it holds no frames). `tick_rate_hz` is the game's tick rate.
  ReplaySource(const std::string& path, bool recover, double tick_rate_hz);

  const Frame* update(double wall_s) override;
  void set_paused(bool paused) override { paused_ = paused; }
  bool paused() const override { return paused_; }
  void set_speed(double speed) override { speed_ = speed; }
  double speed() const override { return speed_; }
  void step(int frames) override;
  void restart() override;
  bool finished() const override { return index_ + 1 >= reader_.num_frames(); }
  double tick_rate_hz() const override { return tick_rate_hz_; }
  // Once the game's tick rate is known (it is not in the replay file): ignored unless > 0.
  void set_tick_rate_hz(double hz) {
    if (hz > 0) tick_rate_hz_ = hz;
  }
  const std::vector<std::string>& team_names() const override { return reader_.header().agents; }
  bool seekable() const override { return true; }
  double progress() const override;
  void seek_progress(double p) override;
  void seek_relative_s(double seconds) override;

  // Shows the last frame whose tick is <= `tick` (the first frame if none is).
  void seek_tick(int64_t tick);
  int64_t index() const { return index_; }
  const Frame& current() { return reader_.frame(index_); }
  ReplayReader& reader() { return reader_; }

 private:
  void show(int64_t index);
  ReplayReader reader_;
  double tick_rate_hz_;
  int64_t index_ = 0;
  double clock_ticks_ = 0;  // playback position in game ticks
  int64_t first_tick_ = 0, last_tick_ = 0;
  double speed_ = 1;
  bool paused_ = false;
};

// A match simulated on its own thread, paced to real time x speed. Rendering only ever
// copies the latest published frame, so it never slows the simulation; the simulation
// never waits for rendering either.
class LiveSource final : public FrameSource {
 public:
  // Publishes the frame just drawn after a tick; returns false when the match must stop
  // (restart or shutdown), after which `play` should return promptly.
  using Publish = std::function<bool(const Frame&)>;
  // Plays one whole match from its start, calling `publish` after reset and every tick.
  using Play = std::function<void(const Publish&)>;

  LiveSource(Play play, double tick_rate_hz, std::vector<std::string> team_names);
  ~LiveSource() override;
  LiveSource(const LiveSource&) = delete;
  LiveSource& operator=(const LiveSource&) = delete;

  const Frame* update(double wall_s) override;
  void set_paused(bool paused) override;
  bool paused() const override { return paused_; }
  void set_speed(double speed) override;
  double speed() const override { return speed_; }
  void step(int frames) override;
  void restart() override;
  bool finished() const override { return done_; }
  double tick_rate_hz() const override { return tick_rate_hz_; }
  const std::vector<std::string>& team_names() const override { return team_names_; }

  // Ticks simulated since the match (re)started; for tests and the HUD.
  int64_t ticks_simulated() const { return ticks_; }

 private:
  void start();
  void stop();
  void run();
  bool publish(const Frame& frame);

  Play play_;
  double tick_rate_hz_;
  std::vector<std::string> team_names_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Frame latest_;          // guarded by mutex_
  uint64_t version_ = 0;  // guarded by mutex_; bumps on every publish
  uint64_t shown_version_ = 0;
  Frame shown_;
  bool have_frame_ = false;
  int pending_steps_ = 0;     // guarded by mutex_
  std::exception_ptr error_;  // guarded by mutex_
  std::atomic<bool> paused_{false}, stop_{false}, done_{false};
  std::atomic<double> speed_{1};
  std::atomic<int64_t> ticks_{0};
  std::chrono::steady_clock::time_point next_tick_{};  // simulation thread only
};

}  // namespace ludus::viz
