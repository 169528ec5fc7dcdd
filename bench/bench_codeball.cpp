// Codeball throughput: simulated game-seconds per wall-second on one thread (1v1, 2v2,
// 3v3; the rules' 100 microticks and the 20-microtick fast mode), and VecEnv at 1 and 2
// threads, and the Bullet collision backend for 2v2. The anchor is RocketSim: ~950 game-seconds per second for 2v2 at
// 120 Hz.
#include <benchmark/benchmark.h>

#include <string>

#include "ludus/engine/registry.hpp"
#include "ludus/engine/rng.hpp"
#include "ludus/engine/vec_env.hpp"

namespace {

ludus::ConfigTree options(int team_size, int microticks, bool bullet = false) {
  ludus::ConfigTree t;
  if (bullet) t.apply_override("collision=bullet");
  t.apply_override("team_size=" + std::to_string(team_size));
  t.apply_override("microticks=" + std::to_string(microticks));
  return t;
}

// Random continuous actions, held for 10 ticks so robots move about and meet the ball.
void fill_actions(ludus::Rng& rng, float* a, int64_t rows) {
  for (int64_t i = 0; i < rows; ++i) {
    float* row = a + i * 5;
    for (int k = 0; k < 3; ++k) row[k] = static_cast<float>(rng.uniform(-30, 30));
    row[3] = rng.uniform() < 0.1 ? 15.0f : 0.0f;
    row[4] = rng.uniform() < 0.2 ? 1.0f : 0.0f;
  }
}

void BM_CodeballSingleEnv(benchmark::State& state) {
  auto env = ludus::make_env(
      "codeball", options(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)), state.range(2) != 0));
  const auto& s = env->spec();
  std::vector<float> obs(static_cast<size_t>(s.num_agents * s.obs_dim())), rew(static_cast<size_t>(s.num_agents)),
      act(static_cast<size_t>(s.num_agents * s.action_dim()));
  uint8_t te = 0, tr = 0;
  ludus::StepView v{obs.data(), rew.data(), &te, &tr};
  env->reset(1, v);
  ludus::Rng rng(2);
  uint64_t episode = 1;
  int64_t t = 0;
  for (auto _ : state) {
    if (t++ % 10 == 0) fill_actions(rng, act.data(), s.num_agents);
    env->step(act.data(), v);
    if (te || tr) env->reset(++episode, v);
  }
  const double ticks = static_cast<double>(state.iterations());
  state.counters["ticks_per_s"] = benchmark::Counter(ticks, benchmark::Counter::kIsRate);
  state.counters["game_s_per_s"] = benchmark::Counter(ticks / s.tick_rate_hz, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CodeballSingleEnv)
    ->ArgNames({"team_size", "microticks", "bullet"})
    ->Args({1, 100, 0})
    ->Args({2, 100, 0})
    ->Args({3, 100, 0})
    ->Args({1, 20, 0})
    ->Args({2, 20, 0})
    ->Args({3, 20, 0})
    ->Args({2, 100, 1})
    ->Args({2, 20, 1});

void BM_CodeballVecEnv(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int num_envs = 16;
  std::vector<std::unique_ptr<ludus::Env>> envs;
  for (int i = 0; i < num_envs; ++i) envs.push_back(ludus::make_env("codeball", options(2, 100)));
  ludus::VecEnv vec(std::move(envs), threads);
  vec.reset(1);
  ludus::Rng rng(3);
  const auto& s = vec.spec();
  int64_t t = 0;
  for (auto _ : state) {
    if (t++ % 10 == 0) fill_actions(rng, vec.actions(), static_cast<int64_t>(num_envs) * s.num_agents);
    vec.step();
  }
  const double ticks = static_cast<double>(state.iterations()) * num_envs;
  state.counters["env_ticks_per_s"] = benchmark::Counter(ticks, benchmark::Counter::kIsRate);
  state.counters["game_s_per_s"] = benchmark::Counter(ticks / s.tick_rate_hz, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CodeballVecEnv)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
