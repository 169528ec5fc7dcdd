// Env throughput: single-env steps per second and VecEnv batch steps at 1..N threads.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include "ludus/engine/registry.hpp"
#include "ludus/engine/rng.hpp"
#include "ludus/engine/thread_pool.hpp"
#include "ludus/engine/vec_env.hpp"

namespace {

void fill_random(const ludus::EnvSpec& s, ludus::Rng& rng, float* a, int64_t rows) {
  for (int64_t i = 0; i < rows; ++i)
    a[i] = static_cast<float>(rng.below(static_cast<uint32_t>(s.action_space.nvec[0])));
}

void BM_ReachSingleEnv(benchmark::State& state) {
  auto env = ludus::make_env("reach");
  const auto& s = env->spec();
  std::vector<float> obs(static_cast<size_t>(s.num_agents * s.obs_dim())), rew(static_cast<size_t>(s.num_agents)),
      act(static_cast<size_t>(s.num_agents));
  uint8_t te = 0, tr = 0;
  ludus::StepView v{obs.data(), rew.data(), &te, &tr};
  env->reset(1, v);
  ludus::Rng rng(2);
  uint64_t episode = 1;
  for (auto _ : state) {
    fill_random(s, rng, act.data(), s.num_agents);
    env->step(act.data(), v);
    if (te || tr) env->reset(++episode, v);
  }
  state.counters["ticks_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReachSingleEnv);

void BM_ReachVecEnv(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int num_envs = 64;
  std::vector<std::unique_ptr<ludus::Env>> envs;
  for (int i = 0; i < num_envs; ++i) envs.push_back(ludus::make_env("reach"));
  ludus::VecEnv vec(std::move(envs), threads);
  vec.reset(1);
  ludus::Rng rng(3);
  const auto& s = vec.spec();
  for (auto _ : state) {
    fill_random(s, rng, vec.actions(), static_cast<int64_t>(num_envs) * s.num_agents);
    vec.step();
  }
  state.counters["env_ticks_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * num_envs, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReachVecEnv)->Arg(1)->Arg(2)->UseRealTime();

// The pool alone: loops of 16 items of fixed arithmetic (xorshift rounds; the second
// argument sets an item's length, about 2, 10 and 30 us on the 2-core VM), as a VecEnv
// call hands out 16 envs. Items/s at 2 threads over 1 is what the pool lets a workload
// that shares nothing reach; a game below it loses the rest to its own memory traffic.
void BM_ThreadPoolLoop(benchmark::State& state) {
  ludus::ThreadPool pool(static_cast<int>(state.range(0)));
  const int64_t rounds = state.range(1);
  struct alignas(64) Slot {
    uint64_t x = 0;
  };
  std::array<Slot, 16> out{};
  for (auto _ : state) {
    pool.parallel_for(16, [&](int64_t i) {
      uint64_t x = static_cast<uint64_t>(i) + 1;
      for (int64_t k = 0; k < rounds + (i % 3) * rounds / 10; ++k) {  // items of slightly uneven length
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
      }
      out[static_cast<size_t>(i)].x = x;
    });
    benchmark::DoNotOptimize(out);
  }
  state.counters["items_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 16, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ThreadPoolLoop)->ArgsProduct({{1, 2}, {1000, 5000, 15000}})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
