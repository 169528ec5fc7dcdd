// `ludus bench`: env throughput for any registered game (and, with libtorch, the
// optimizer core and training speed), reported as rates with the thread counts used.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "commands.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/rng.hpp"
#include "ludus/engine/vec_env.hpp"

#ifdef LUDUS_HAVE_TORCH
#include "ludus/rl/optim/msign.hpp"
#include "ludus/rl/optim/muon.hpp"
#include "ludus/rl/policy.hpp"
#include "ludus/rl/threads.hpp"
#include "ludus/train/trainer.hpp"
#include <unistd.h>
#endif

namespace ludus::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void random_actions(const ActionSpace& space, Rng& rng, float* out, int64_t rows) {
  for (int64_t r = 0; r < rows; ++r) space.sample(rng, out + r * space.dim());
}

void bench_env(const std::string& name, const ConfigTree& game, double seconds, int num_envs) {
  const EnvEntry& entry = EnvRegistry::global().get(name);
  auto env = entry.create(game);
  const EnvSpec& s = env->spec();
  // num_envs games of this kind in a VecEnv on `threads` threads, reset with seed 1.
  const auto make_vec = [&](int threads) {
    std::vector<std::unique_ptr<Env>> envs;
    for (int i = 0; i < num_envs; ++i) envs.push_back(entry.create(game));
    auto vec = std::make_unique<VecEnv>(std::move(envs), threads);
    vec->reset(1);
    return vec;
  };
  fmt::print("bench env {} ({}), random actions, {:g} s per measurement, {} hardware threads\n", name, s.describe(),
             seconds, std::thread::hardware_concurrency());
  std::vector<float> obs(static_cast<size_t>(s.num_agents * s.obs_dim())), rew(static_cast<size_t>(s.num_agents)),
      act(static_cast<size_t>(s.num_agents * s.action_dim()));
  uint8_t te = 0, tr = 0;
  StepView v{obs.data(), rew.data(), &te, &tr};
  Rng rng(1);
  uint64_t episode = 1;
  env->reset(episode, v);
  int64_t ticks = 0;
  const auto t0 = Clock::now();
  // Actions are drawn at decision ticks only: the game ignores them in between.
  const int k_dec = std::max(1, s.decision_interval);
  while (seconds_since(t0) < seconds) {
    for (int k = 0; k < 64; ++k) {
      if (env->tick() % k_dec == 0) random_actions(s.action_space, rng, act.data(), s.num_agents);
      env->step(act.data(), v);
      ++ticks;
      if (te || tr) env->reset(++episode, v);
    }
  }
  const double el = seconds_since(t0);
  const double tps = static_cast<double>(ticks) / el;
  fmt::print("  single env, 1 thread: {:.0f} ticks/s = {:.1f} game-seconds/s = {:.0f} agent-steps/s\n", tps,
             tps / s.tick_rate_hz, tps * s.num_agents);
  for (int threads : {1, 2}) {
    const auto vec_owner = make_vec(threads);
    VecEnv& vec = *vec_owner;
    int64_t steps = 0;
    const auto t1 = Clock::now();
    while (seconds_since(t1) < seconds) {
      if (vec.env(0).tick() % k_dec == 0)
        random_actions(s.action_space, rng, vec.actions(), static_cast<int64_t>(num_envs) * s.num_agents);
      vec.step();
      ++steps;
    }
    const double rate = static_cast<double>(steps) * num_envs / seconds_since(t1);
    fmt::print("  VecEnv {} envs, {} thread(s): {:.0f} env-ticks/s = {:.1f} game-seconds/s\n", num_envs, threads, rate,
               rate / s.tick_rate_hz);
  }
  if (k_dec == 1) return;
  // The same envs stepped to the next decision tick per call (VecEnv::step_to_decision).
  int64_t ticks_per_env = 0;
  double vec_rate_1 = 0;
  for (int threads : {1, 2}) {
    const auto vec_owner = make_vec(threads);
    VecEnv& vec = *vec_owner;
    int64_t env_ticks = 0;
    const auto t1 = Clock::now();
    while (seconds_since(t1) < seconds) {
      random_actions(s.action_space, rng, vec.actions(), static_cast<int64_t>(num_envs) * s.num_agents);
      env_ticks += vec.step_to_decision();
    }
    const double rate = static_cast<double>(env_ticks) / seconds_since(t1);
    fmt::print(
        "  VecEnv {} envs, {} thread(s), to the next decision ({} ticks a call): {:.0f} env-ticks/s = {:.1f} "
        "game-seconds/s\n",
        num_envs, threads, k_dec, rate, rate / s.tick_rate_hz);
    if (threads == 1) ticks_per_env = env_ticks / num_envs, vec_rate_1 = rate;
  }
  // 2 threads against 1 where the host's speed wanders (a shared VM): the two VecEnvs
  // (same seeds) take turns of about 20 ms, so a slow spell falls on both alike.
  {
    const std::unique_ptr<VecEnv> vecs[2] = {make_vec(1), make_vec(2)};
    double spent[2] = {0, 0};
    int64_t done[2] = {0, 0};
    while (spent[0] + spent[1] < 2 * seconds) {
      for (int k = 0; k < 2; ++k) {
        VecEnv& vec = *vecs[k];
        const auto t1 = Clock::now();
        do {
          random_actions(s.action_space, rng, vec.actions(), static_cast<int64_t>(num_envs) * s.num_agents);
          done[k] += vec.step_to_decision();
        } while (seconds_since(t1) < 0.02);
        spent[k] += seconds_since(t1);
      }
    }
    const double r1 = static_cast<double>(done[0]) / spent[0], r2 = static_cast<double>(done[1]) / spent[1];
    fmt::print(
        "  the same, 1 and 2 threads taking turns of 20 ms ({:.1f} s each): {:.0f} and {:.0f} env-ticks/s, 2 "
        "threads / 1: {:.2f}x\n",
        spent[0], r1, r2, r2 / r1);
  }
  // The lone env above plays its games from the start for the whole measurement, while
  // each of the VecEnv's games gets 1 / num_envs of it: for long games (Codewars full) the
  // two see different stretches of play, which cost differently per tick. Here the
  // VecEnv's own games (same seeds, same ticks each) are stepped alone, one after another.
  double matched_s = 0;
  int64_t matched_ticks = 0;
  for (int i = 0; i < num_envs; ++i) {
    auto lone = entry.create(game);
    int64_t resets = 0;
    lone->reset(1 + static_cast<uint64_t>(i), v);
    const auto t2 = Clock::now();
    for (int64_t t = 0; t < ticks_per_env; ++t) {
      if (lone->tick() % k_dec == 0) random_actions(s.action_space, rng, act.data(), s.num_agents);
      lone->step(act.data(), v);
      if (te || tr) lone->reset(1 + static_cast<uint64_t>(i) + static_cast<uint64_t>(++resets * num_envs), v);
    }
    matched_s += seconds_since(t2);
    matched_ticks += ticks_per_env;
  }
  const double matched = matched_s > 0 ? static_cast<double>(matched_ticks) / matched_s : 0.0;
  fmt::print(
      "  the VecEnv's {} games stepped alone one after another ({} ticks each): {:.0f} ticks/s; VecEnv to the "
      "decision on 1 thread / this: {:.2f}x\n",
      num_envs, ticks_per_env, matched, matched > 0 ? vec_rate_1 / matched : 0.0);
}

#ifdef LUDUS_HAVE_TORCH
template <class Fn>
double time_per_call_ms(Fn&& fn, double seconds) {
  fn();  // warm-up
  int64_t calls = 0;
  const auto t0 = Clock::now();
  while (seconds_since(t0) < seconds) {
    fn();
    ++calls;
  }
  return seconds_since(t0) * 1000.0 / static_cast<double>(calls);
}

void bench_optim(const std::string& name, int threads, double seconds) {
  rl::set_compute_threads(threads);
  auto env = make_env(name);
  rl::NetworkOptions no;
  rl::PolicyNet net(env->spec().obs_dim(), env->spec().action_space, no, false);
  fmt::print("bench optim: default policy network for {} (hidden {}, {} layers), torch threads {}\n", name, no.hidden,
             no.layers, threads);
  fmt::print("  {:<18} {:>10} {:>10} {:>7} {:>10} {:>12} {:>7}\n", "parameter", "Muon ms", "AdamW ms", "ratio", "NS ms",
             "matmuls ms", "ratio");
  torch::NoGradGuard no_grad;
  for (const auto& p : net->named_parameters()) {
    if (p.value().dim() < 2) continue;
    const auto shape = p.value().sizes().vec();
    auto wm = torch::randn(shape).requires_grad_(true);
    auto wa = torch::randn(shape).requires_grad_(true);
    wm.mutable_grad() = torch::randn(shape);
    wa.mutable_grad() = torch::randn(shape);
    rl::optim::Muon muon({wm}, rl::optim::MuonOptions(1e-4));
    torch::optim::AdamW adamw({wa}, torch::optim::AdamWOptions(1e-4));
    const double muon_ms = time_per_call_ms([&] { muon.step(); }, seconds);
    const double adam_ms = time_per_call_ms([&] { adamw.step(); }, seconds);
    const auto g = torch::randn(shape);
    const auto& keller = rl::optim::ns_schedule("keller");
    const double ns_ms = time_per_call_ms([&] { (void)rl::optim::msign(g, keller, 5); }, seconds);
    // The matrix products msign consists of: per step X Xt, A A and (bA + cA^2) X on the small side.
    auto x = g.size(0) > g.size(1) ? g.t().contiguous() : g.clone();
    const double mm_ms = time_per_call_ms(
        [&] {
          for (int k = 0; k < 5; ++k) {
            const auto a = torch::mm(x, x.t());
            const auto b = torch::mm(a, a);
            (void)torch::mm(b, x);
          }
        },
        seconds);
    fmt::print("  {:<18} {:>10.3f} {:>10.3f} {:>6.1f}x {:>10.3f} {:>12.3f} {:>6.2f}x  [{}x{}]\n", p.key(), muon_ms,
               adam_ms, muon_ms / adam_ms, ns_ms, mm_ms, ns_ms / mm_ms, shape[0], shape[1]);
  }
}

void bench_train(const std::string& config, int updates) {
  for (int threads : {1, 2}) {
    ConfigTree tree = config.empty() ? ConfigTree() : ConfigTree::from_file(config);
    tree.apply_override("threads=" + std::to_string(threads));
    tree.apply_override("eval.every=0");
    tree.apply_override("total_steps=1000000000000");
    const std::string dir =
        (std::filesystem::temp_directory_path() / fmt::format("ludus-bench-train-{}-{}", ::getpid(), threads)).string();
    tree.apply_override("run_dir=" + dir);
    if (config.empty()) tree.apply_override("env=reach");  // the figures in BENCHMARKS.md: Reach 1v1
    apply_embedded_game_defaults(tree);
    auto trainer = rl::Trainer::create(bind_options<rl::TrainConfig>(tree));
    trainer->update();  // warm-up
    int64_t samples0 = trainer->samples_done();
    const auto t0 = Clock::now();
    double env_s = 0, rollout_s = 0, learn_s = 0, optim_s = 0;
    for (int u = 0; u < updates; ++u) {
      const auto s = trainer->update();
      env_s += s.env_s, rollout_s += s.rollout_s, learn_s += s.learn_s, optim_s += s.optim_s;
    }
    const double el = seconds_since(t0);
    fmt::print("  training ({} updates, collection + optimization): {} env thread(s), {} torch: {:.0f} agent-steps/s\n",
               updates, threads, torch::get_num_threads(),
               static_cast<double>(trainer->samples_done() - samples0) / el);
    const double sum = env_s + rollout_s + learn_s + optim_s;
    fmt::print(
        "    per update: {:.3f} s = games {:.0f}% + rollout forward {:.0f}% + loss fwd/bwd {:.0f}% + optimizer "
        "{:.0f}%\n",
        sum / updates, 100 * env_s / sum, 100 * rollout_s / sum, 100 * learn_s / sum, 100 * optim_s / sum);
    std::filesystem::remove_all(dir);
  }
}
#endif

}  // namespace

void add_bench_commands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "measure speed: env throughput, optimizer core, training");
  bench->require_subcommand(1);
  struct EnvArgs {
    std::string name;
    std::vector<std::string> sets;
    double seconds = 3;
    int envs = 16;
  };
  auto ea = std::make_shared<EnvArgs>();
  auto* env = bench->add_subcommand("env", "ticks per second of a game on 1 thread, and VecEnv at 1 and 2 threads");
  env->add_option("name", ea->name, "game")->required();
  env->add_option("--set", ea->sets, "game option key=value");
  env->add_option("--seconds", ea->seconds, "seconds per measurement")->check(CLI::PositiveNumber);
  env->add_option("--envs", ea->envs, "envs in the VecEnv")->check(CLI::PositiveNumber);
  env->callback([ea] {
    ConfigTree game;
    for (const auto& s : ea->sets) game.apply_override(s);
    bench_env(ea->name, game, ea->seconds, ea->envs);
  });
#ifdef LUDUS_HAVE_TORCH
  struct OptimArgs {
    std::string env = "reach", config;
    int threads = 2, updates = 10;
    double seconds = 1;
  };
  auto oa = std::make_shared<OptimArgs>();
  auto* optim = bench->add_subcommand("optim", "Muon vs AdamW step time, Newton-Schulz vs its matmuls, training SPS");
  optim->add_option("--env", oa->env, "game whose default policy shapes are measured");
  optim->add_option("--threads", oa->threads, "torch threads for the step timings")->check(CLI::PositiveNumber);
  optim->add_option("--seconds", oa->seconds, "seconds per timing")->check(CLI::PositiveNumber);
  optim
      ->add_option("--config", oa->config,
                   "training config for the SPS measurement (default: the embedded Reach 1v1 defaults)")
      ->check(CLI::ExistingFile);
  optim->add_option("--updates", oa->updates, "updates timed per thread count")->check(CLI::PositiveNumber);
  optim->callback([oa] {
    bench_optim(oa->env, oa->threads, oa->seconds);
    bench_train(oa->config, oa->updates);
  });
#endif
}

}  // namespace ludus::cli
