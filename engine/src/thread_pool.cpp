// ThreadPool: workers wake per loop (spinning briefly first) and take indices from a ticket
// that carries the loop number; the caller waits for the items taken, not for the workers.
#include "ludus/engine/thread_pool.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace ludus {

namespace {

// Loops that come back to back (a rollout's ticks, 20-300 us of work each) would otherwise
// pay a futex sleep and wake-up on both sides of every loop, tens of microseconds on a VM.
// So a thread that waits first checks for a while, yielding its core to anything runnable,
// and only then sleeps on the condition variable: 50 us, or LUDUS_POOL_SPIN_US (0: never).
std::chrono::microseconds spin_time() {
  static const std::chrono::microseconds t = [] {
    const char* env = std::getenv("LUDUS_POOL_SPIN_US");
    if (env == nullptr || *env == '\0') return std::chrono::microseconds(50);
    char* end = nullptr;
    const long us = std::strtol(env, &end, 10);
    if (*end != '\0' || us < 0 || us > 1000000)
      throw std::invalid_argument(std::string("LUDUS_POOL_SPIN_US must be microseconds from 0 to 1000000, got '") +
                                  env + "'");
    return std::chrono::microseconds(us);
  }();
  return t;
}

template <class Ready>
bool spin_until(std::chrono::microseconds spin, Ready&& ready) {
  if (spin.count() == 0) return ready();
  const auto until = std::chrono::steady_clock::now() + spin;
  for (int k = 0;; ++k) {
    if (ready()) return true;
    if ((k & 15) == 15 && std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();
  }
}

}  // namespace

ThreadPool::ThreadPool(int num_threads, std::optional<std::chrono::microseconds> spin) {
  if (num_threads < 1)
    throw std::invalid_argument("thread pool needs at least 1 thread, got " + std::to_string(num_threads));
  spin_ = spin ? *spin : spin_time();
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stopping_.store(true, std::memory_order_release);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_items(uint32_t loop) {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<uint32_t>(t >> 32) != loop) return;
    // The ticket of `loop` was seen, so count_ is that loop's or a later one's. A later
    // count is stored only after the loop's ticket was closed, so the exchange below then
    // fails: an index taken is always below its own loop's count.
    const int64_t count = count_.load(std::memory_order_acquire);
    const auto i = static_cast<int64_t>(t & 0xffffffffu);
    if (i >= count) return;
    if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acquire, std::memory_order_acquire)) continue;
    try {
      (*fn_.load(std::memory_order_relaxed))(i);
    } catch (...) {
      std::lock_guard lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == count) {
      // The last item: wake the caller if it sleeps (under the lock, so it cannot miss it).
      { std::lock_guard lock(mu_); }
      done_cv_.notify_one();
      return;
    }
    t = ticket_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop() {
  uint32_t seen = 0;
  for (;;) {
    const auto started = [&] {
      return stopping_.load(std::memory_order_acquire) ||
             static_cast<uint32_t>(ticket_.load(std::memory_order_acquire) >> 32) != seen;
    };
    if (!spin_until(spin_, started)) {
      std::unique_lock lock(mu_);
      start_cv_.wait(lock, started);
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = static_cast<uint32_t>(ticket_.load(std::memory_order_acquire) >> 32);
    run_items(seen);
  }
}

void ThreadPool::parallel_for(int64_t count, const std::function<void(int64_t)>& fn) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1) {
    for (int64_t i = 0; i < count; ++i) fn(i);
    return;
  }
  // A loop's indices fit the ticket's 32 bits; longer loops run as several.
  constexpr int64_t kMaxLoop = int64_t{1} << 31;
  for (int64_t first = 0; first < count; first += kMaxLoop) {
    const int64_t n = std::min(kMaxLoop, count - first);
    if (first == 0 && n == count) {
      run_loop(n, fn);
    } else {
      const std::function<void(int64_t)> part = [&](int64_t i) { fn(first + i); };
      run_loop(n, part);
    }
  }
}

void ThreadPool::run_loop(int64_t count, const std::function<void(int64_t)>& fn) {
  uint32_t loop = 0;
  {
    std::lock_guard lock(mu_);
    const uint64_t last = ticket_.load(std::memory_order_relaxed);
    loop = static_cast<uint32_t>(last >> 32) + 1;
    // Close the last loop before its count changes: a thread still holding its final ticket
    // (every index taken) would otherwise read the new count and take an index past its end.
    ticket_.store(last | 0xffffffffu, std::memory_order_relaxed);
    fn_.store(&fn, std::memory_order_relaxed);
    count_.store(count, std::memory_order_release);  // after the close, for whoever reads it
    done_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    ticket_.store(static_cast<uint64_t>(loop) << 32, std::memory_order_release);  // publishes the loop
  }
  start_cv_.notify_all();
  run_items(loop);
  const auto done = [&] { return done_.load(std::memory_order_acquire) == count; };
  if (!spin_until(spin_, done)) {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, done);
  }
  std::exception_ptr err;
  {
    std::lock_guard lock(mu_);
    err = error_;
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace ludus
