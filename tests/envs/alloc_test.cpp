// The env contract (engine/include/ludus/engine/env.hpp): step() performs no allocation in
// steady state. This binary replaces the global operator new to count allocations and
// steps every built-in game with random actions: after a warm-up, a window of ticks must
// allocate nothing (episode resets, between the windows, may).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "ludus/engine/registry.hpp"
#include "ludus/engine/rng.hpp"

// The replacements pair malloc with free on purpose; GCC's -Wmismatched-new-delete cannot
// see that both sides are replaced.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<int64_t> g_allocations{0};
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace ludus {
namespace {

struct Case {
  const char* game;
  const char* options;
  int64_t warmup, window;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.game << " " << c.options; }

class StepAllocations : public ::testing::TestWithParam<Case> {};

TEST_P(StepAllocations, NoneInSteadyState) {
  const Case& c = GetParam();
  auto env = make_env(c.game, ConfigTree::from_string(c.options, "alloc options"));
  const EnvSpec s = env->spec();
  std::vector<float> obs(static_cast<size_t>(s.num_agents * s.obs_dim())), rew(static_cast<size_t>(s.num_agents));
  std::vector<float> act(static_cast<size_t>(s.num_agents * s.action_dim()));
  uint8_t te = 0, tr = 0;
  const StepView out{obs.data(), rew.data(), &te, &tr};
  Rng rng(3);
  const auto random_actions = [&] {
    for (int i = 0; i < s.num_agents; ++i) s.action_space.sample(rng, act.data() + i * s.action_dim());
  };
  env->reset(11, out);
  for (int64_t t = 0; t < c.warmup; ++t) {
    random_actions();
    env->step(act.data(), out);
    ASSERT_FALSE(te || tr) << "episode ended in the warm-up; lengthen max_ticks";
  }
  int64_t worst = 0, worst_tick = -1;
  for (int64_t t = 0; t < c.window; ++t) {
    random_actions();
    const int64_t before = g_allocations.load();
    env->step(act.data(), out);
    const int64_t n = g_allocations.load() - before;
    if (n > worst) worst = n, worst_tick = env->tick();
    if (te || tr) break;
  }
  EXPECT_EQ(worst, 0) << c.game << " " << c.options << ": step() allocated " << worst << " times at tick "
                      << worst_tick;
}

// The counter itself: an allocation the optimizer cannot remove is seen.
TEST(AllocationCounter, CountsAnAllocation) {
  static std::vector<int>* volatile kept = nullptr;
  const int64_t before = g_allocations.load();
  kept = new std::vector<int>(1000);
  const int64_t n = g_allocations.load() - before;
  delete kept;
  EXPECT_EQ(n, 2) << "the vector object and its buffer";
}

const Case kCases[] = {
    {"reach", "{max_ticks: 5000}", 200, 2000},
    {"codeball", "{}", 300, 2000},
    {"codeball", "{team_size: 1, microticks: 20, action_mode: discrete, decision_ticks: 4}", 300, 2000},
    {"codewars", "{size: duel}", 600, 1200},
    {"codewars", "{size: small}", 600, 1200},
    {"codewars", "{size: full}", 240, 360},
};

INSTANTIATE_TEST_SUITE_P(Games, StepAllocations, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(p.param.game) + "_" + std::to_string(p.index);
                         });

}  // namespace
}  // namespace ludus
