// Codewars throughput: unit-steps per second on one thread (full with both armies in
// contact, small from the start position), and VecEnv env-ticks per second at 1 and 2 threads.
#include <benchmark/benchmark.h>

#include "codewars/codewars.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/vec_env.hpp"

namespace {

using ludus::codewars::CodewarsEnv;
namespace macro = ludus::codewars::macro;

ludus::ConfigTree options(const char* size) {
  ludus::ConfigTree t;
  t.apply_override(std::string("size=") + size);
  return t;
}

// Team 1's army is moved next to team 0's (same layout shifted along x), so both armies
// are in contact from the first tick.
void engage(CodewarsEnv& env, float shift) {
  auto& units = env.edit_state().units;
  const size_t half = units.size() / 2;
  for (size_t i = 0; i < half; ++i) {
    units[half + i].x = units[i].x + shift;
    units[half + i].y = units[i].y;
  }
  env.rebuild_index();
}

struct Single {
  std::unique_ptr<ludus::Env> env;
  std::vector<float> obs, rew, act;
  uint8_t te = 0, tr = 0;
  explicit Single(const char* size) : env(ludus::make_env("codewars", options(size))) {
    const auto& s = env->spec();
    obs.resize(static_cast<size_t>(s.num_agents * s.obs_dim()));
    rew.resize(static_cast<size_t>(s.num_agents));
    act.assign(static_cast<size_t>(s.num_agents), static_cast<float>(macro::kAttack));
  }
  ludus::StepView view() { return {obs.data(), rew.data(), &te, &tr}; }
  int64_t alive() const {
    int64_t n = 0;
    for (const auto& u : dynamic_cast<const CodewarsEnv&>(*env).state().units) n += u.alive;
    return n;
  }
};

// Steps in episodes of `episode` ticks; counts alive units per tick as unit-steps.
void run_single(benchmark::State& state, const char* size, float shift, int episode) {
  Single s(size);
  uint64_t seed = 1;
  int64_t unit_steps = 0, t = 0;
  auto restart = [&] {
    s.env->reset(seed++, s.view());
    if (shift > 0) engage(dynamic_cast<CodewarsEnv&>(*s.env), shift);
    t = 0;
  };
  restart();
  for (auto _ : state) {
    unit_steps += s.alive();
    s.env->step(s.act.data(), s.view());
    if (++t == episode || s.te || s.tr) {
      state.PauseTiming();
      restart();
      state.ResumeTiming();
    }
  }
  state.counters["unit_steps_per_s"] = benchmark::Counter(static_cast<double>(unit_steps), benchmark::Counter::kIsRate);
  state.counters["ticks_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_CodewarsFullFighting(benchmark::State& state) { run_single(state, "full", 226, 600); }
BENCHMARK(BM_CodewarsFullFighting)->Unit(benchmark::kMillisecond);

void BM_CodewarsSmall(benchmark::State& state) { run_single(state, "small", 0, 6000); }
BENCHMARK(BM_CodewarsSmall)->Unit(benchmark::kMicrosecond);

void BM_CodewarsVecEnv(benchmark::State& state, const char* size, int num_envs) {
  const int threads = static_cast<int>(state.range(0));
  std::vector<std::unique_ptr<ludus::Env>> envs;
  for (int i = 0; i < num_envs; ++i) envs.push_back(ludus::make_env("codewars", options(size)));
  ludus::VecEnv vec(std::move(envs), threads);
  vec.reset(1);
  const int64_t n = static_cast<int64_t>(num_envs) * vec.spec().num_agents;
  std::fill_n(vec.actions(), n, static_cast<float>(macro::kAttack));
  for (auto _ : state) vec.step();
  state.counters["env_ticks_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * num_envs, benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_CodewarsVecEnv, small, "small", 16)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CodewarsVecEnv, full, "full", 4)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
