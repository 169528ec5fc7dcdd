// A fixed pool of worker threads that runs index-parallel loops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace ludus {

class ThreadPool {
 public:
  // num_threads counts the calling thread: 1 runs everything inline. A thread waiting for
  // the next loop (a worker) or for the others to finish (the caller) checks for 50 us,
  // yielding its core, before it sleeps: LUDUS_POOL_SPIN_US sets that time (0: sleep at once).
  // `spin`, when given, replaces that time for this pool.
  explicit ThreadPool(int num_threads, std::optional<std::chrono::microseconds> spin = std::nullopt);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, count), spread over the pool; returns when all are
  // done. Which thread runs which i is unspecified. The first exception is rethrown. The
  // caller waits only for items a worker has taken: a worker that is asleep, or not given
  // a core (more busy threads than cores), is not waited for, and the caller runs what is
  // left itself.
  void parallel_for(int64_t count, const std::function<void(int64_t)>& fn);

 private:
  void worker_loop();
  // Runs items of loop `loop` until none is left to take.
  void run_items(uint32_t loop);
  void run_loop(int64_t count, const std::function<void(int64_t)>& fn);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  // The loop number (high 32 bits) and the next index to take (low 32 bits): a thread
  // takes index i of loop L by moving the ticket from (L, i) to (L, i + 1), so a thread
  // that looks late takes nothing from the loop after. Published under mu_.
  std::atomic<uint64_t> ticket_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> count_{0};  // items of the current loop
  std::atomic<int64_t> done_{0};   // of them, finished
  std::atomic<const std::function<void(int64_t)>*> fn_{nullptr};
  std::exception_ptr error_;           // under mu_
  std::chrono::microseconds spin_{0};  // how long a waiting thread checks before it sleeps
};

}  // namespace ludus
