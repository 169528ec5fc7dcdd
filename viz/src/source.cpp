// Replay playback with seeking, and the paced live-match thread.
#include "ludus/viz/source.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ludus::viz {

ReplaySource::ReplaySource(const std::string& path, bool recover, double tick_rate_hz)
    : reader_(path, recover ? ReplayMode::recover : ReplayMode::strict),
      tick_rate_hz_(tick_rate_hz > 0 ? tick_rate_hz : 30) {
  if (reader_.num_frames() == 0) throw ReplayError(path + ": the replay holds no frames");
  first_tick_ = reader_.frame(0).tick;
  last_tick_ = reader_.frame(reader_.num_frames() - 1).tick;
  show(0);
}

void ReplaySource::show(int64_t index) {
  index_ = std::clamp<int64_t>(index, 0, reader_.num_frames() - 1);
  clock_ticks_ = static_cast<double>(reader_.frame(index_).tick);
}

const Frame* ReplaySource::update(double wall_s) {
  if (!paused_ && !finished()) {
    clock_ticks_ += wall_s * speed_ * tick_rate_hz_;
    // Frames may be recorded every K ticks: show the last one at or before the clock.
    while (index_ + 1 < reader_.num_frames() && static_cast<double>(reader_.frame(index_ + 1).tick) <= clock_ticks_)
      ++index_;
  }
  return &reader_.frame(index_);
}

void ReplaySource::step(int frames) {
  paused_ = true;
  show(index_ + frames);
}

void ReplaySource::restart() { show(0); }

double ReplaySource::progress() const {
  if (last_tick_ <= first_tick_) return 1;
  return std::clamp((clock_ticks_ - static_cast<double>(first_tick_)) / static_cast<double>(last_tick_ - first_tick_),
                    0.0, 1.0);
}

void ReplaySource::seek_progress(double p) {
  p = std::clamp(p, 0.0, 1.0);
  seek_tick(first_tick_ + static_cast<int64_t>(std::llround(p * static_cast<double>(last_tick_ - first_tick_))));
}

void ReplaySource::seek_relative_s(double seconds) {
  seek_tick(static_cast<int64_t>(std::llround(clock_ticks_ + seconds * tick_rate_hz_)));
}

void ReplaySource::seek_tick(int64_t tick) {
  // Ticks grow with the frame index: binary search for the last frame at or before `tick`.
  int64_t lo = 0, hi = reader_.num_frames() - 1;
  if (reader_.frame(0).tick > tick) {
    show(0);
    return;
  }
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (reader_.frame(mid).tick <= tick)
      lo = mid;
    else
      hi = mid - 1;
  }
  show(lo);
  clock_ticks_ = static_cast<double>(std::max(tick, reader_.frame(lo).tick));
}

LiveSource::LiveSource(Play play, double tick_rate_hz, std::vector<std::string> team_names)
    : play_(std::move(play)), tick_rate_hz_(tick_rate_hz > 0 ? tick_rate_hz : 30), team_names_(std::move(team_names)) {
  start();
}

LiveSource::~LiveSource() { stop(); }

void LiveSource::start() {
  stop_ = false;
  done_ = false;
  ticks_ = 0;
  thread_ = std::thread([this] { run(); });
}

void LiveSource::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LiveSource::run() {
  try {
    play_([this](const Frame& f) { return publish(f); });
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
  }
  done_ = true;
}

bool LiveSource::publish(const Frame& frame) {
  using Clock = std::chrono::steady_clock;
  {
    std::lock_guard lock(mutex_);
    latest_ = frame;
    ++version_;
  }
  if (ticks_.fetch_add(1) == 0) next_tick_ = Clock::now();
  // Pace: wait for the next tick's time, or while paused for a single-step request.
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stop_) return false;
    if (paused_) {
      if (pending_steps_ > 0) {
        --pending_steps_;
        next_tick_ = Clock::now();
        return true;
      }
      wake_.wait(lock);
      continue;
    }
    next_tick_ += std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / (tick_rate_hz_ * speed_.load())));
    const auto now = Clock::now();
    // Fell far behind (a slow tick, or just unpaused): do not rush to catch up.
    if (next_tick_ < now - std::chrono::milliseconds(250)) next_tick_ = now;
    wake_.wait_until(lock, next_tick_, [this] { return stop_.load() || paused_.load(); });
    if (stop_) return false;
    if (!paused_) return true;
  }
}

const Frame* LiveSource::update(double) {
  {
    std::lock_guard lock(mutex_);
    if (error_) {
      auto e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
    if (version_ != shown_version_) {
      shown_ = latest_;
      shown_version_ = version_;
      have_frame_ = true;
    }
  }
  return have_frame_ ? &shown_ : nullptr;
}

void LiveSource::set_paused(bool paused) {
  {
    std::lock_guard lock(mutex_);
    paused_ = paused;
    if (!paused) pending_steps_ = 0;
  }
  wake_.notify_all();
}

void LiveSource::set_speed(double speed) {
  speed_ = std::clamp(speed, 1.0 / 64, 64.0);
  wake_.notify_all();
}

void LiveSource::step(int frames) {
  {
    std::lock_guard lock(mutex_);
    paused_ = true;
    if (frames > 0) pending_steps_ += frames;
  }
  wake_.notify_all();
}

void LiveSource::restart() {
  stop();
  {
    std::lock_guard lock(mutex_);
    error_ = nullptr;
    pending_steps_ = 0;
  }
  start();
}

}  // namespace ludus::viz
