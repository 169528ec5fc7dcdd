// ThreadPool: every index runs exactly once; exceptions propagate.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>
#include <vector>
#include <stdexcept>

#include "ludus/engine/thread_pool.hpp"

namespace ludus {
namespace {

TEST(ThreadPool, RunsEveryIndexOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 50; ++round) {
      std::vector<std::atomic<int>> hits(97);
      pool.parallel_for(97, [&](int64_t i) { hits[static_cast<size_t>(i)]++; });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
  }
}

// An item that throws does not stop the others, and the first exception reaches the caller.
TEST(ThreadPool, RethrowsAndStaysUsable) {
  ThreadPool pool(3);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.parallel_for(10,
                                 [&](int64_t i) {
                                   ran++;
                                   if (i == 0 || i == 5) throw std::runtime_error("boom");
                                 }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 10);
  std::atomic<int> n{0};
  pool.parallel_for(10, [&](int64_t) { n++; });
  EXPECT_EQ(n.load(), 10);
  EXPECT_THROW(ThreadPool(0), std::invalid_argument);
}

// Loops back to back (workers still spinning), and after pauses longer than the spin
// (workers asleep on the condition variable), with items of uneven length: every index of
// every loop runs exactly once and the caller returns only when all have run. 8 threads
// are more than the cores here: workers that are not given a core take nothing, and a
// worker that looks late must not take an index of the loop after (a worker holding a
// loop's last ticket took an index past its end under the next loop's count, 1 run in
// 8-35 with spin 0, before the caller closed the last loop's ticket first).
TEST(ThreadPool, BackToBackLoopsAndLoopsAfterAPauseEachRunEveryIndexOnce) {
  for (const auto& [threads, spin_us] : {std::pair{2, 50}, {3, 50}, {8, 50}, {2, 0}, {3, 0}, {8, 0}}) {
    ThreadPool pool(threads, std::chrono::microseconds(spin_us));
    std::vector<std::atomic<int>> runs(48);
    for (int loop = 0; loop < 3000; ++loop) {
      const int n = 1 + loop % 48;
      for (int i = 0; i < n; ++i) runs[static_cast<size_t>(i)].store(0);
      pool.parallel_for(n, [&](int64_t i) {
        if (loop % 101 == 0 && i == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
        runs[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int i = 0; i < n; ++i)
        ASSERT_EQ(runs[static_cast<size_t>(i)].load(), 1)
            << "loop " << loop << ", index " << i << ", " << threads << " threads, spin " << spin_us << " us";
      if (loop % 500 == 499) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // workers fall asleep
    }
  }
}

}  // namespace
}  // namespace ludus
