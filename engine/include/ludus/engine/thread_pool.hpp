// A fixed pool of worker threads that runs index-parallel loops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ludus {

class ThreadPool {
 public:
  // num_threads counts the calling thread: 1 runs everything inline. A thread waiting for
  // the next loop (a worker) or for the others to finish (the caller) checks for 50 us,
  // yielding its core, before it sleeps: LUDUS_POOL_SPIN_US sets that time (0: sleep at once).
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, count), spread over the pool; returns when all are
  // done. Which thread runs which i is unspecified. The first exception is rethrown.
  void parallel_for(int64_t count, const std::function<void(int64_t)>& fn);

 private:
  void worker_loop();
  void run_items();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  // Written under mu_; atomic so that a spinning thread may read them without it.
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int> busy_{0};
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t count_ = 0;
  std::atomic<int64_t> next_{0};
  std::exception_ptr error_;
  std::chrono::microseconds spin_{0};  // how long a waiting thread checks before it sleeps
};

}  // namespace ludus
