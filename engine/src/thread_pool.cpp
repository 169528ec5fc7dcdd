// ThreadPool: workers wake per loop (spinning briefly first), pull indices from a shared counter.
#include "ludus/engine/thread_pool.hpp"

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

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads < 1)
    throw std::invalid_argument("thread pool needs at least 1 thread, got " + std::to_string(num_threads));
  spin_ = spin_time();
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

void ThreadPool::run_items() {
  for (;;) {
    const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= count_) return;
    try {
      (*fn_)(i);
    } catch (...) {
      std::lock_guard lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    const auto started = [&] {
      return stopping_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spin_until(spin_, started)) {
      std::unique_lock lock(mu_);
      start_cv_.wait(lock, started);
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    run_items();
    {
      // Under the lock, so that a caller about to sleep on done_cv_ cannot miss it.
      std::lock_guard lock(mu_);
      busy_.fetch_sub(1, std::memory_order_release);
    }
    done_cv_.notify_one();
  }
}

void ThreadPool::parallel_for(int64_t count, const std::function<void(int64_t)>& fn) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1) {
    for (int64_t i = 0; i < count; ++i) fn(i);
    return;
  }
  {
    std::lock_guard lock(mu_);
    fn_ = &fn;
    count_ = count;
    next_.store(0, std::memory_order_relaxed);
    busy_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    error_ = nullptr;
    generation_.fetch_add(1, std::memory_order_release);  // publishes the loop to spinning workers
  }
  start_cv_.notify_all();
  run_items();
  const auto done = [&] { return busy_.load(std::memory_order_acquire) == 0; };
  std::exception_ptr err;
  if (!spin_until(spin_, done)) {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, done);
  }
  {
    std::lock_guard lock(mu_);
    fn_ = nullptr;
    err = error_;
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace ludus
