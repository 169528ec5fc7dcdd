// Trainer: the run's set-up (games, learner seats, network, optimizer), one update() in
// order of its parts, and the training loop (evaluations, checkpoints, the budget).
#include "trainer_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <numeric>
#include <sstream>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "ludus/engine/agent.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/rl/checkpoint.hpp"
#include "ludus/rl/threads.hpp"

namespace ludus::rl {

namespace fs = std::filesystem;

namespace {

// Each update allocates its rollout batch and the loss passes' tensors, megabytes each,
// and frees them; the heap keeps the freed pages, and as games get longer the resident
// size ratchets up to the largest update seen (the soak). Handing the free pages back
// after every update keeps the resident size at what the next update needs, for 0.5-1.6%
// of the training throughput (BENCHMARKS.md).
void return_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// Within an update glibc's defaults hand memory back and fault it in again: tensors above
// the mmap threshold (128 KiB until a freed one raises it) are mapped and unmapped one by
// one, and the heap's top is trimmed as soon as 2x that threshold lies free, so the next
// loss pass's megabyte buffers come back as fresh pages (page faults were 10% of the
// learner's time in a Codeball 1v1 profile). Setting both thresholds above what an update
// allocates keeps them in the heap during the update; return_free_memory() still hands
// the free pages back once per update. Setting either alone is slower than neither (it
// freezes the other at its default). Process-wide, and only with glibc; the environment's
// MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ / GLIBC_TUNABLES, if set, win.
void keep_update_memory() {
#if defined(__GLIBC__)
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
      (tunables && std::strstr(tunables, "glibc.malloc.")))
    return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest value every 64-bit glibc accepts
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace

Trainer::Trainer(const TrainConfig& config, std::shared_ptr<dist::Context> dist)
    : cfg_(config), dist_(dist ? std::move(dist) : dist::Context::create({}, {})), impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  keep_update_memory();
  set_compute_threads(cfg_.torch_threads);
  torch::manual_seed(cfg_.seed);
  if (cfg_.device == DeviceChoice::cuda && !torch::cuda::is_available())
    throw TrainingError("device: cuda was asked for, but this libtorch sees no CUDA device");
  im.device = (cfg_.device == DeviceChoice::cuda || (cfg_.device == DeviceChoice::auto_ && torch::cuda::is_available()))
                  ? torch::Device(torch::kCUDA)
                  : torch::Device(torch::kCPU);
  if (im.device.is_cuda()) {
    // One GPU per local rank (as torchrun jobs do), wrapping around when there are fewer.
    const int gpus = std::max<int>(1, static_cast<int>(torch::cuda::device_count()));
    im.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist_->local_rank() % gpus));
  }
  if (cfg_.run_dir.empty())
    cfg_.run_dir = fmt::format("runs/{}-{}-{}-seed{}", cfg_.env, enum_name(cfg_.algo, kAlgoNames),
                               enum_name(cfg_.optim.optimizer, kOptimizerNames), cfg_.seed);
  run_dir_ = cfg_.run_dir;

  const EnvEntry& entry = EnvRegistry::global().get(cfg_.env);
  im.game_yaml = entry.effective_options(cfg_.game, false);
  im.eval_game = cfg_.game;
  try {
    std::istringstream sets(cfg_.eval.set);
    for (std::string kv; sets >> kv;) im.eval_game.apply_override(kv);
    im.eval_game_yaml = entry.effective_options(im.eval_game, false);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("eval.set: ") + e.what());
  }
  if (cfg_.grpo.start == GroupStart::carry && cfg_.rollout_ticks == 0)
    throw ConfigError(
        "grpo.start: carry continues each group's game across updates in pieces of rollout_ticks; set "
        "rollout_ticks > 0 (e.g. 256)");
  // Opponent names are checked now, before a run directory exists: a typo fails here, not
  // at the first update or the first evaluation.
  const auto check_agent = [&](const char* key, const std::string& name) {
    try {
      (void)make_agent(name, cfg_.env);
    } catch (const std::exception& e) {
      throw ConfigError(fmt::format("{}: {}", key, e.what()));
    }
  };
  for (const auto& bot : split_agent_list(cfg_.opponents.bots)) check_agent("opponents.bots", bot);
  check_agent("eval.opponent", cfg_.eval.opponent);
  if (!cfg_.kickstart.teacher.empty()) check_agent("kickstart.teacher", cfg_.kickstart.teacher);
  im.num_envs = cfg_.grpo.groups * cfg_.grpo.group_size;
  im.carry.resize(static_cast<size_t>(cfg_.grpo.groups));
  std::vector<std::unique_ptr<Env>> envs;
  for (int i = 0; i < im.num_envs; ++i) envs.push_back(entry.create(cfg_.game));
  im.spec = envs.front()->spec();
  im.vec = std::make_unique<VecEnv>(std::move(envs), cfg_.threads);
  im.obs_dim = im.spec.obs_dim();
  im.adim = im.spec.action_dim();

  seat_learners();
  policy_ = PolicyNet(im.obs_dim, im.spec.action_space, cfg_.network, cfg_.algo == Algo::ppo);
  if (!cfg_.init_new_inputs.empty() && cfg_.init_checkpoint.empty())
    throw ConfigError("init_new_inputs: names the inputs init_checkpoint lacks, but no init_checkpoint is set");
  if (!cfg_.init_checkpoint.empty()) init_from(cfg_.init_checkpoint);
  policy_->to(im.device);
  // Every rank starts from rank 0's parameters (the same seed gives the same ones; the
  // broadcast makes sure of it).
  dist_->broadcast(policy_->parameters(), "broadcast of the initial parameters");
  im.ref = PolicyNet(im.obs_dim, im.spec.action_space, cfg_.network, cfg_.algo == Algo::ppo);
  trainer_detail::copy_parameters(im.ref, policy_);
  im.ref->to(im.device);
  im.ref->eval();
  if (cfg_.overlap) {
    im.actor = PolicyNet(im.obs_dim, im.spec.action_space, cfg_.network, cfg_.algo == Algo::ppo);
    im.actor->to(im.device);
  }

  make_optimizer();
  // Rank r's envs and samples come from its own stream (rank 0's is the single-process one).
  im.rng.seed(cfg_.seed * 0x9E3779B97F4A7C15ull + 17 + static_cast<uint64_t>(stream_rank()) * 0xD1B54A32D192ED03ull);
  im.start = std::chrono::steady_clock::now();
}

Trainer::~Trainer() = default;

// The learner's rows (env * num_agents + agent): groups alternate sides, so the policy
// learns both.
void Trainer::seat_learners() {
  auto& im = *impl_;
  const int A = im.spec.num_agents;
  // seat_baseline: the rows of group g's k-th learner agent (seat k) form baseline group
  // g x seats + k.
  int seats = 1;
  for (int t = 0; t < im.spec.num_teams; ++t) seats = std::max(seats, static_cast<int>(im.spec.team_agents(t).size()));
  std::vector<int64_t> groups;
  for (int g = 0; g < cfg_.grpo.groups; ++g) {
    const int side = g % im.spec.num_teams;
    im.group_side.push_back(side);
    for (int k = 0; k < cfg_.grpo.group_size; ++k) {
      const int e = g * cfg_.grpo.group_size + k;
      int seat = 0;
      for (int a : im.spec.team_agents(side)) {
        im.learner_rows.push_back(static_cast<int64_t>(e) * A + a);
        im.row_env.push_back(e);
        groups.push_back(cfg_.grpo.seat_baseline ? static_cast<int64_t>(g) * seats + seat++ : g);
      }
    }
  }
  im.learner_rows_t = torch::tensor(im.learner_rows, torch::kLong);
  im.row_group_t = torch::tensor(groups, torch::kLong);
  im.baseline_groups = *std::max_element(groups.begin(), groups.end()) + 1;
}

// Muon gets exactly the matrices the network names as hidden; everything else is AdamW's.
void Trainer::make_optimizer() {
  auto& im = *impl_;
  optim::HybridOptions ho;
  ho.muon = optim::MuonOptions(cfg_.optim.lr);
  ho.muon.momentum(cfg_.optim.momentum).weight_decay(cfg_.optim.weight_decay);
  ho.muon.schedule(optim::ns_schedule(cfg_.optim.schedule));
  ho.muon.scaling(optim::parse_muon_scaling(cfg_.optim.scaling));
  ho.adamw = torch::optim::AdamWOptions(cfg_.optim.adam_lr).weight_decay(cfg_.optim.weight_decay);
  if (cfg_.optim.optimizer == OptimizerChoice::muon) {
    for (const auto& name : policy_->hidden_matrices()) {
      std::string pattern = "^";
      for (char c : name) {
        if (c == '.') pattern += '\\';
        pattern += c;
      }
      ho.rules.push_back({pattern + "$", "muon", "hidden matrix (the network's list)"});
    }
  }
  ho.rules.push_back(
      {".*", "adamw", cfg_.optim.optimizer == OptimizerChoice::muon ? "not a hidden matrix" : "optimizer: adamw"});
  im.opt = std::make_unique<optim::HybridOptimizer>(policy_->named_parameters(), ho);
}

namespace {

// "21-28,37" -> {21..28, 37}, sorted and checked against the observation size.
std::vector<int64_t> parse_columns(const std::string& text, int64_t dim) {
  std::vector<int64_t> cols;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t end = std::min(text.find(',', at), text.size());
    const std::string part = text.substr(at, end - at);
    const size_t dash = part.find('-');
    auto number = [](std::string_view t, int64_t& v) {
      while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
      while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
      const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
      return !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size();
    };
    int64_t lo = -1, hi = -1;
    const std::string_view whole(part);
    const bool ok = dash == std::string::npos ? number(whole, lo) && number(whole, hi)
                                              : number(whole.substr(0, dash), lo) && number(whole.substr(dash + 1), hi);
    if (!ok || lo < 0 || hi < lo || hi >= dim)
      throw ConfigError(
          fmt::format("init_new_inputs: '{}' is not a column range within the observation's {} floats "
                      "(expected e.g. \"21-28,37-44\", 0-based, inclusive)",
                      part, dim));
    for (int64_t c = lo; c <= hi; ++c) cols.push_back(c);
    at = end + 1;
  }
  std::sort(cols.begin(), cols.end());
  if (std::adjacent_find(cols.begin(), cols.end()) != cols.end())
    throw ConfigError(fmt::format("init_new_inputs: '{}' names a column twice", text));
  if (static_cast<int64_t>(cols.size()) >= dim)
    throw ConfigError(fmt::format("init_new_inputs: '{}' leaves no column the checkpoint saw", text));
  return cols;
}

}  // namespace

void Trainer::init_from(const std::string& path) {
  LoadedCheckpoint ck;
  try {
    ck = load_checkpoint(path);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("init_checkpoint: {}", e.what()));
  }
  if (ck.meta.env != cfg_.env)
    throw ConfigError(
        fmt::format("init_checkpoint: '{}' was trained on '{}', this run is '{}'", path, ck.meta.env, cfg_.env));
  const int64_t D = impl_->obs_dim;
  // Which of this game's observation columns the checkpoint saw (init_new_inputs: not these).
  std::vector<int64_t> old_cols;
  if (!cfg_.init_new_inputs.empty()) {
    if (cfg_.network.arch != "mlp")
      throw ConfigError("init_new_inputs: needs network.arch mlp (the entity encoder reads fixed-size entities)");
    const auto fresh = parse_columns(cfg_.init_new_inputs, D);
    for (int64_t c = 0; c < D; ++c)
      if (!std::binary_search(fresh.begin(), fresh.end(), c)) old_cols.push_back(c);
  }
  const int64_t seen = old_cols.empty() ? D : static_cast<int64_t>(old_cols.size());
  if (ck.meta.obs_dim != seen)
    throw ConfigError(fmt::format(
        "init_checkpoint: '{}' takes observations of {} floats, this game gives {}{} (other game options?{})", path,
        ck.meta.obs_dim, D, old_cols.empty() ? "" : fmt::format(", {} of them not in init_new_inputs", seen),
        old_cols.empty() ? " init_new_inputs names the columns the checkpoint lacks" : ""));
  // Every parameter comes from the checkpoint, with its shape; only a value head the
  // checkpoint lacks (a GRPO policy fine-tuned with PPO) starts fresh.
  torch::NoGradGuard no_grad;
  const auto src = ck.net->named_parameters();
  for (auto& p : policy_->named_parameters()) {
    const auto* q = src.find(p.key());
    if (!q) {
      if (p.key().rfind("value", 0) == 0) continue;
      throw ConfigError(
          fmt::format("init_checkpoint: '{}' has no parameter '{}' (another network: its network is "
                      "{} x {} {})",
                      path, p.key(), ck.meta.network.layers, ck.meta.network.hidden, ck.meta.network.arch));
    }
    if (!old_cols.empty() && q->dim() == 2 && p.value().dim() == 2 && q->size(0) == p.value().size(0) &&
        q->size(1) == seen && p.value().size(1) == D) {
      // An input layer: the checkpoint's columns where they were, zeros for the new inputs.
      p.value().zero_();
      p.value().index_copy_(1, torch::tensor(old_cols, torch::kLong).to(p.value().device()), q->to(p.value().device()));
      continue;
    }
    if (!q->sizes().equals(p.value().sizes()))
      throw ConfigError(
          fmt::format("init_checkpoint: parameter '{}' is {} in '{}' but {} here (another network or "
                      "action space)",
                      p.key(), fmt::join(q->sizes(), "x"), path, fmt::join(p.value().sizes(), "x")));
    p.value().copy_(*q);
  }
}

int64_t Trainer::decision_every() const {
  return std::lcm<int64_t>(std::max(1, impl_->spec.decision_interval), std::max(1, cfg_.hold_ticks));
}

std::vector<int64_t> Trainer::learner_rows() const { return impl_->learner_rows; }
std::vector<int64_t> Trainer::baseline_groups() const {
  const auto& t = impl_->row_group_t;
  return {t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel()};
}

int Trainer::rank() const { return dist_->rank(); }
int Trainer::world_size() const { return dist_->world_size(); }
int Trainer::stream_rank() const { return cfg_.dist.same_games ? 0 : rank(); }
std::string Trainer::routing_table() const { return impl_->opt->routing_table(); }

std::string Trainer::check(const TrainConfig& config) {
  std::unique_ptr<Trainer> t(new Trainer(config, nullptr));
  const auto& im = *t->impl_;
  return fmt::format("{}: {} envs of {} agents ({} per learner team), obs {}, decisions every {} ticks, {} on {}\n{}",
                     config.env, im.num_envs, im.spec.num_agents, im.spec.team_agents(0).size(), im.obs_dim,
                     t->decision_every(), enum_name(config.algo, kAlgoNames), im.device.str(), t->routing_table());
}

std::pair<double, double> Trainer::learning_rates() const {
  double m = 0, a = 0;
  if (auto* mu = impl_->opt->muon()) m = static_cast<optim::MuonOptions&>(mu->param_groups().front().options()).lr();
  if (auto* ad = impl_->opt->adamw())
    a = static_cast<torch::optim::AdamWOptions&>(ad->param_groups().front().options()).lr();
  return {m, a};
}

void Trainer::set_learning_rates() {
  // Linear in the agent-steps done before this update (the same on every rank and after a
  // resume): lr x (1 - (1 - anneal_to) x progress).
  const double progress = std::clamp(static_cast<double>(samples_) / static_cast<double>(cfg_.total_steps), 0.0, 1.0);
  const double f = 1.0 - (1.0 - cfg_.optim.anneal_to) * progress;
  if (auto* m = impl_->opt->muon())
    for (auto& g : m->param_groups()) static_cast<optim::MuonOptions&>(g.options()).lr(cfg_.optim.lr * f);
  if (auto* a = impl_->opt->adamw())
    for (auto& g : a->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(cfg_.optim.adam_lr * f);
}

UpdateStats Trainer::update() {
  auto& im = *impl_;
  const auto t0 = std::chrono::steady_clock::now();
  const auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  // This update learns from `cur`. Without overlap it is played now, by the policy itself.
  // With overlap it was played during the last update (by the policy before it), or now
  // after a checkpoint update; and unless this update writes a checkpoint, the next
  // update's games are played on a second thread while this one learns. Only that thread
  // touches the games, the actor network and its own generator (drawn from the trainer's).
  Collection cur;
  Collection next;
  std::thread collector;
  std::exception_ptr collector_error;
  Rng collector_rng;
  if (!cfg_.overlap) {
    cur = prepare_collection();
    run_collection(cur, policy_, im.rng);
  } else {
    trainer_detail::copy_parameters(im.actor, policy_);  // the policy before this update's learning
    if (im.pending) {
      cur = std::move(*im.pending);
      im.pending.reset();
    } else {
      cur = prepare_collection();
      Rng rng(im.rng.next_u64());
      run_collection(cur, im.actor, rng);
    }
    // Not on a checkpoint update, nor when this update should reach total_steps (judged by
    // the last update's size): its games would go unused.
    const bool last = im.last_job_steps > 0 && samples_ + im.last_job_steps >= static_cast<double>(cfg_.total_steps);
    if ((update_ + 1) % cfg_.checkpoint_every != 0 && !last) {
      next = prepare_collection();
      collector_rng.seed(im.rng.next_u64());
      collector = std::thread([&] {
        // OpenMP's thread count is per thread: a new thread would run torch ops on every core.
        // (OpenBLAS's pool is process-wide, set once in the constructor.)
        torch::set_num_threads(cfg_.torch_threads);
        try {
          run_collection(next, im.actor, collector_rng);
        } catch (...) {
          collector_error = std::current_exception();
        }
      });
    }
  }
  // The collector is joined on every way out of this update, a thrown error included.
  struct Join {
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join{collector};
  const double collect_s = cfg_.overlap ? 0.0 : since(t0);
  const auto tl = std::chrono::steady_clock::now();
  const Rollout& ro = cur.ro;
  check_rollout(ro);

  UpdateStats st;
  const bool finite = policy_outputs_finite(ro);
  const Scores sc = score_games(ro, cur.seats, st);
  const Batch batch = make_batch(ro, sc.returns, finite, cur.kick);
  if (cfg_.optim.anneal == Anneal::linear) set_learning_rates();  // from the steps before this update
  samples_ += static_cast<int64_t>(batch.job_steps);
  im.last_job_steps = batch.job_steps;
  const Steps steps = optimize(batch, finite, cur.kick, st);
  gather_stats(sc, steps, st);
  st.kickstart = cur.kick;
  const double learned_s = since(tl);
  if (collector.joinable()) {
    collector.join();
    if (collector_error) std::rethrow_exception(collector_error);
    im.pending = std::make_unique<Collection>(std::move(next));
  }

  ++update_;
  update_league();
  st.update = update_;
  st.samples = samples_;
  st.learner_elo = im.rating("learner");
  const double secs = since(t0);
  st.sps = secs > 0 ? batch.job_steps / secs : 0;
  st.env_s = ro.env_s;
  st.rollout_s = cur.wall_s - ro.env_s;
  st.optim_s = steps.optim_s;
  // Without overlap: the rest of the update; with it, the learner's own time (the games it
  // learned from were played during the last update, beside the learner).
  st.learn_s = (cfg_.overlap ? learned_s : secs - collect_s) - steps.optim_s;
  st.elapsed_s = elapsed_before_s_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - im.start).count();
  return st;
}

void Trainer::train(const std::function<bool(const UpdateStats&)>& on_update) {
  auto& im = *impl_;
  const auto ckpt_dir = fs::path(run_dir_) / "checkpoints";
  if (is_main()) fs::create_directories(ckpt_dir);
  auto budget_left = [&](const UpdateStats& s) {
    if (samples_ >= cfg_.total_steps) return false;
    return cfg_.time_budget_minutes <= 0 || s.elapsed_s < cfg_.time_budget_minutes * 60;
  };
  auto checkpoint = [&](const UpdateStats& s) {
    im.rank_rngs = dist_->all_gather(im.rng.state(), "gathering random states for a checkpoint");
    if (!is_main()) return;
    save((ckpt_dir / trainer_detail::checkpoint_name(update_)).string());
    auto all = trainer_detail::checkpoints_in(ckpt_dir);
    for (size_t i = static_cast<size_t>(cfg_.keep_checkpoints); i < all.size(); ++i) fs::remove(all[i]);
    if (s.evaluated && s.eval.win_rate() > im.best_eval) {
      im.best_eval = s.eval.win_rate();
      save((fs::path(run_dir_) / "best.pt").string());
    }
  };
  UpdateStats last;
  last.elapsed_s = elapsed_before_s_;
  while (budget_left(last)) {
    UpdateStats s = update();
    // Ranks stop together: the time budget follows the slowest rank's clock.
    std::vector<double> elapsed{s.elapsed_s};
    dist_->all_reduce_max(elapsed, "agreeing on the elapsed time");
    s.elapsed_s = elapsed[0];
    const bool final_update = !budget_left(s);
    if ((cfg_.eval.every > 0 && s.update % cfg_.eval.every == 0) || final_update) {
      s.eval = evaluate(cfg_.eval.matches, cfg_.eval.opponent, cfg_.eval.replays,
                        (fs::path(run_dir_) / "replays" / fmt::format("eval_u{:07d}", s.update)).string());
      s.evaluated = true;
    }
    if (is_main()) write_metrics(s);
    if (s.update % cfg_.checkpoint_every == 0 || final_update) checkpoint(s);
    last = s;
    return_free_memory();
    std::vector<double> stop{on_update && !on_update(s) ? 1.0 : 0.0};
    dist_->all_reduce_max(stop, "agreeing whether to stop");
    if (stop[0] > 0) {
      checkpoint(s);
      break;
    }
  }
}

}  // namespace ludus::rl
