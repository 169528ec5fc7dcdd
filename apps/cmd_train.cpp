// `ludus train` and `ludus eval`: the learner's command line.
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "commands.hpp"
#include "ludus/engine/match.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/replay.hpp"
#include "ludus/engine/version.hpp"
#include "ludus/rl/checkpoint.hpp"
#include "ludus/rl/dist.hpp"
#include "plot.hpp"
#include "ludus/rl/policy_agent.hpp"
#include "ludus/rl/threads.hpp"
#include "ludus/train/trainer.hpp"

namespace ludus::cli {
namespace {

constexpr const char* kReachQuickGame[] = {"game.team_size=1", "game.max_ticks=300", "game.target_score=3",
                                           "game.approach_reward=0.05"};
// The quickstart's Codeball 1v1 run (README, Codeball results): fast-mode training with
// dense shaping and a decision every 4 ticks, evaluated at the rules.
constexpr const char* kCodeballQuick[] = {"env=codeball",
                                          "game.team_size=1",
                                          "game.max_ticks=1200",
                                          "game.microticks=20",
                                          "game.decision_ticks=4",
                                          "game.action_mode=discrete",
                                          "game.observe_score_time=false",
                                          "game.goal_reward=3",
                                          "game.player_to_ball_reward=0.02",
                                          "game.ball_to_goal_reward=0.05",
                                          "game.touch_reward=0.05",
                                          "total_steps=2000000",
                                          "optim.lr=0.05",
                                          "optim.adam_lr=0.002",
                                          "grpo.groups=8",
                                          "grpo.group_size=4",
                                          "grpo.baseline=step",
                                          "grpo.gamma=0.95",
                                          "grpo.advantage=std",
                                          "opponents.bots=random",
                                          "eval.opponent=random",
                                          "eval.every=20",
                                          "eval.matches=10",
                                          "eval.set=microticks=100 decision_ticks=1 max_ticks=18000"};

std::string human_count(double n) {
  if (n >= 1e9) return fmt::format("{:.2f}G", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.2f}M", n / 1e6);
  if (n >= 1e3) return fmt::format("{:.1f}k", n / 1e3);
  return fmt::format("{:.0f}", n);
}

std::string human_time(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<int64_t>(s);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t / 60) % 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

std::string eval_text(const rl::EvalResult& e) {
  return fmt::format("{:.0f}% [{:.0f}-{:.0f}] ({}W {}D {}L)", 100 * e.win_rate(), 100 * e.low(), 100 * e.high(), e.wins,
                     e.draws, e.losses);
}

void run_training(rl::Trainer& trainer, bool quiet) {
  if (!trainer.is_main()) {
    // Other ranks train in step with rank 0, which alone prints and writes.
    trainer.train();
    return;
  }
  const auto& cfg = trainer.config();
  fmt::print("run dir: {}\n", trainer.run_dir());
  if (trainer.world_size() > 1)
    fmt::print("processes: {} (c10d/Gloo); each runs {} groups x {} rollouts, gradients averaged over all\n",
               trainer.world_size(), cfg.grpo.groups, cfg.grpo.group_size);
  fmt::print("game: {} | algo: {} | optimizer: {} | threads: {} env workers, {} torch intra-op\n", cfg.env,
             enum_name(cfg.algo, rl::kAlgoNames), enum_name(cfg.optim.optimizer, rl::kOptimizerNames), cfg.threads,
             cfg.torch_threads);
  fmt::print("parameter routing:\n{}", trainer.routing_table());
  const auto start_samples = trainer.samples_done();
  const auto wall0 = std::chrono::steady_clock::now();
  rl::UpdateStats last;
  trainer.train([&](const rl::UpdateStats& s) {
    last = s;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const double rate = wall > 0 ? static_cast<double>(s.samples - start_samples) / wall : 0;
    double eta = rate > 0 ? static_cast<double>(cfg.total_steps - s.samples) / rate : INFINITY;
    if (cfg.time_budget_minutes > 0) eta = std::min(eta, cfg.time_budget_minutes * 60 - s.elapsed_s);
    if (!quiet || s.evaluated)
      fmt::print(
          "[u {:>5}] steps {:>7}/{} | {:>6} sps | ETA {:>7} | return {:+.3f} | train win {:3.0f}% | elo {:.0f}{}{}{}\n",
          s.update, human_count(static_cast<double>(s.samples)), human_count(static_cast<double>(cfg.total_steps)),
          human_count(s.sps), human_time(std::max(0.0, eta)), s.mean_return, 100 * s.train_win, s.learner_elo,
          s.skipped ? fmt::format(" | skipped {}", s.skipped) : "",
          s.kickstart > 0 ? fmt::format(" | imitate x{:.2f} nll {:.3f}", s.kickstart, s.teacher_nll) : "",
          s.evaluated ? fmt::format(" | eval vs {} {}", cfg.eval.opponent, eval_text(s.eval)) : "");
    std::fflush(stdout);
    return true;
  });
  const auto curve = std::filesystem::path(trainer.run_dir()) / "learning_curves.png";
  try {
    write_learning_curves((std::filesystem::path(trainer.run_dir()) / "metrics.csv").string(), curve.string());
    fmt::print("learning curves: {}\n", curve.string());
  } catch (const std::exception& e) {
    fmt::print(stderr, "ludus: warning: no learning-curve plot: {}\n", e.what());
  }
  fmt::print("done: {} updates, {} steps; checkpoints in {}/checkpoints (best: {}/best.pt)\n", trainer.updates_done(),
             trainer.samples_done(), trainer.run_dir(), trainer.run_dir());
  std::vector<std::filesystem::path> replays;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(trainer.run_dir()) / "replays", ec))
    if (e.path().extension() == ".rpl") replays.push_back(e.path());
  std::sort(replays.begin(), replays.end());
  if (!replays.empty()) fmt::print("replay of the last evaluation match: {}\n", replays.back().string());
  if (last.evaluated) fmt::print("final evaluation vs {}: {}\n", cfg.eval.opponent, eval_text(last.eval));
}

}  // namespace

std::string apply_embedded_game_defaults(ConfigTree& tree) {
  if (tree.has("game")) return "";
  if (!tree.has("env")) {
    for (const char* kv : kCodeballQuick) {
      const std::string_view s(kv);
      const std::string_view key = s.substr(0, s.find('='));
      const auto dot = key.find('.');
      const bool set =
          dot == std::string_view::npos ? tree.has(key) : tree.child(key.substr(0, dot)).has(key.substr(dot + 1));
      if (!set) tree.apply_override(s);
    }
    return "codeball";
  }
  if (tree.get_string("env", "") != "reach") return "";
  // Reach 1v1 in short episodes with a little approach shaping: trains to beat the lazy
  // bot in about a minute on 2 cores.
  for (const char* kv : kReachQuickGame) tree.apply_override(kv);
  return "reach";
}

void add_train_commands(CLI::App& app) {
  struct TrainArgs {
    std::string config, resume;
    std::vector<std::string> sets;
    bool quiet = false, check = false;
    int nproc = 0;
  };
  auto ta = std::make_shared<TrainArgs>();
  auto* train = app.add_subcommand("train", "train a policy headlessly (GRPO on Muon by default, or PPO)");
  train->add_option("-c,--config", ta->config, "YAML training config (configs/*.yaml); omitted: embedded defaults")
      ->check(CLI::ExistingFile);
  train->add_option("--set", ta->sets, "override a key: key=value, dotted for sections (optim.lr=0.01)");
  train->add_option("--resume", ta->resume, "continue the run in this directory from its latest checkpoint")
      ->check(CLI::ExistingDirectory);
  train->add_flag("-q,--quiet", ta->quiet, "print only evaluation lines");
  train->add_flag("--check", ta->check,
                  "check the config (keys, game options, opponents, network, optimizer) and say what a run would "
                  "build, without training or writing anything");
  train
      ->add_option("--nproc", ta->nproc,
                   "train with this many processes on this machine (c10d/Gloo over loopback); a launcher's "
                   "RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT do the same across machines")
      ->check(CLI::Range(1, 1024));
  train->callback([ta] {
    if (!ta->resume.empty() && (!ta->config.empty() || !ta->sets.empty()))
      throw UsageError("--resume continues a run with its own config.yaml; drop --config/--set");
    // Launcher variables first: a malformed one is refused before anything starts.
    const auto launch = ta->nproc > 0 ? rl::dist::LaunchEnv{} : rl::dist::launch_env_from_environment();
    rl::TrainConfig cfg;
    ConfigTree tree;
    std::string embedded;
    if (!ta->resume.empty()) {
      cfg = rl::Trainer::run_config(ta->resume);
    } else {
      tree = ta->config.empty() ? ConfigTree() : ConfigTree::from_file(ta->config);
      for (const auto& s : ta->sets) tree.apply_override(s);
      embedded = apply_embedded_game_defaults(tree);
      cfg = bind_options<rl::TrainConfig>(tree);
    }

    if (ta->check) {
      fmt::print("config OK: {}", rl::Trainer::check(cfg));
      return;
    }
    if (ta->nproc > 0) {
      if (std::getenv("WORLD_SIZE") != nullptr)
        throw UsageError(
            "--nproc starts its own processes, but WORLD_SIZE is set (a launcher started this one); "
            "use one or the other");
      // Each rank is this command without --nproc; the launcher waits for all of them.
      std::vector<std::string> argv;
      const auto own = rl::dist::own_command_line();
      for (size_t i = 0; i < own.size(); ++i) {
        if (own[i] == "--nproc") {
          ++i;
          continue;
        }
        if (own[i].rfind("--nproc=", 0) == 0) continue;
        argv.push_back(own[i]);
      }
      const int rc = rl::dist::launch_local(argv, ta->nproc, cfg.dist.timeout_s + 10);
      if (rc != 0)
        throw std::runtime_error(fmt::format("--nproc {}: training failed (see the ranks' messages above)", ta->nproc));
      return;
    }

    if (!embedded.empty() && launch.rank == 0) {
      fmt::print("embedded defaults ({} 1v1):", embedded);
      if (embedded == "reach")
        for (const char* kv : kReachQuickGame) fmt::print(" {}", kv);
      else
        for (const char* kv : kCodeballQuick) fmt::print(" {}", kv);
      fmt::print(" (keys you set win)\n");
    }
    std::shared_ptr<rl::dist::Context> dist;
    if (launch.world_size > 1)
      dist = rl::dist::Context::create(launch, rl::dist::DistOptions{cfg.dist.timeout_s, cfg.dist.join_timeout_s});
    try {
      auto trainer = ta->resume.empty() ? rl::Trainer::create(cfg, dist) : rl::Trainer::resume(ta->resume, dist);
      run_training(*trainer, ta->quiet);
      if (dist) dist->finish();
    } catch (const std::exception& e) {
      if (!dist) throw;
      // The others learn why this rank stops; the message names the rank wherever it lands.
      const std::string what = e.what();
      dist->report_failure(what);
      throw std::runtime_error(what.rfind("rank ", 0) == 0 ? what : fmt::format("rank {}: {}", dist->rank(), what));
    }
  });

  struct EvalArgs {
    std::string checkpoint, opponent = "greedy", out;
    std::vector<std::string> sets;
    int matches = 200, replays = 3, threads = 2;
    uint64_t seed = 1000000;
    bool sample = false;
  };
  auto ea = std::make_shared<EvalArgs>();
  auto* eval = app.add_subcommand("eval", "play a checkpoint against an opponent: win/draw/loss with a 95% interval");
  eval->add_option("--checkpoint", ea->checkpoint, "checkpoint file (run_dir/best.pt or run_dir/checkpoints/...)")
      ->required()
      ->check(CLI::ExistingFile);
  eval->add_option("--opponent", ea->opponent, "opponent agent (a bot, or policy:OTHER.pt)");
  eval->add_option("-n,--matches", ea->matches, "matches (sides alternate)")->check(CLI::PositiveNumber);
  eval->add_option("--replays", ea->replays, "matches recorded as replays")->check(CLI::NonNegativeNumber);
  eval->add_option("--out", ea->out, "replay directory (default: next to the checkpoint)");
  eval->add_option("--seed", ea->seed, "seed of the first match");
  eval->add_option("--set", ea->sets,
                   "game option for the evaluation, key=value, over the checkpoint's training options "
                   "(e.g. --set microticks=100 --set decision_ticks=1); the policy keeps its training decision "
                   "interval");
  eval->add_option("--threads", ea->threads, "matches played in parallel (one torch thread each)")
      ->check(CLI::Range(1, 256));
  eval->add_flag("--sample", ea->sample, "sample actions instead of taking the most likely");
  eval->callback([ea] {
    auto ckpt = rl::load_checkpoint(ea->checkpoint);
    ConfigTree game = ConfigTree::from_string(ckpt.meta.game_yaml, ea->checkpoint + " (game options)");
    for (const auto& kv : ea->sets) game.apply_override(kv);
    const std::string game_yaml = EnvRegistry::global().get(ckpt.meta.env).effective_options(game, false);
    const int hold = trained_decision_interval(ckpt.meta);
    const EnvSpec spec = make_env(ckpt.meta.env, game)->spec();
    make_agent(ea->opponent, ckpt.meta.env);  // a bad opponent name fails here, before any thread starts
    const std::string out_dir =
        ea->out.empty() ? (std::filesystem::path(ea->checkpoint).parent_path() / "eval").string() : ea->out;
    if (ea->replays > 0) std::filesystem::create_directories(out_dir);
    const int threads = std::min(ea->threads, ea->matches);
    rl::set_compute_threads(1);  // matches run side by side on the threads, each on one core
    std::vector<int> outcome(static_cast<size_t>(ea->matches), 0);  // 1 win, 0 draw, -1 loss
    std::atomic<int> next{0};
    std::mutex error_mu;
    std::string error;
    auto worker = [&] {
      torch::set_num_threads(1);  // per thread: OpenMP's count does not carry over to new threads
      try {
        auto env = make_env(ckpt.meta.env, game);
        PolicyAgent learner(ckpt.net, !ea->sample, ea->checkpoint);
        learner.hold_ticks(hold);
        auto opp = make_agent(ea->opponent, ckpt.meta.env);
        for (int m = next++; m < ea->matches; m = next++) {
          const int side = m % spec.num_teams;
          std::vector<Agent*> agents(static_cast<size_t>(spec.num_teams), opp.get());
          agents[static_cast<size_t>(side)] = &learner;
          std::unique_ptr<ReplayWriter> writer;
          if (m < ea->replays) {
            ReplayHeader h;
            h.env_name = ckpt.meta.env;
            h.env_options_yaml = game_yaml;
            h.seed = ea->seed + static_cast<uint64_t>(m);
            for (int t = 0; t < spec.num_teams; ++t) h.agents.push_back(t == side ? "policy" : ea->opponent);
            h.ludus_version = version();
            h.created_utc = utc_now();
            h.tick_rate_hz = spec.tick_rate_hz;
            writer = std::make_unique<ReplayWriter>(
                (std::filesystem::path(out_dir) / fmt::format("match{}.rpl", m)).string(), h);
          }
          MatchOptions mo;
          mo.seed = ea->seed + static_cast<uint64_t>(m);
          mo.replay = writer.get();
          const MatchResult r = run_match(*env, agents, mo);
          outcome[static_cast<size_t>(m)] = r.winner == side ? 1 : r.winner < 0 ? 0 : -1;
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mu);
        if (error.empty()) error = e.what();
        next = ea->matches;
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (!error.empty()) throw std::runtime_error(error);
    for (int m = 0; m < std::min(ea->replays, ea->matches); ++m)
      fmt::print("replay: {}\n", (std::filesystem::path(out_dir) / fmt::format("match{}.rpl", m)).string());
    rl::EvalResult res;
    for (int o : outcome) {
      if (o > 0)
        ++res.wins;
      else if (o == 0)
        ++res.draws;
      else
        ++res.losses;
    }
    const int decided = res.wins + res.losses;
    fmt::print(
        "{} vs {} over {} matches: {} wins, {} draws, {} losses; win rate {:.1f}% (95% CI {:.1f}-{:.1f}%), "
        "{:.1f}% of decided\n",
        ea->checkpoint, ea->opponent, ea->matches, res.wins, res.draws, res.losses, 100 * res.win_rate(),
        100 * res.low(), 100 * res.high(), decided > 0 ? 100.0 * res.wins / decided : 0.0);
  });
}

}  // namespace ludus::cli
