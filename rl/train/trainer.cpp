// Trainer: rollouts, GRPO/PPO updates, opponents, evaluation, checkpoints, metrics.
#include "ludus/train/trainer.hpp"

#include "ludus/train/tb_events.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <regex>
#include <sstream>

#include "ludus/agents/agent.hpp"
#include "ludus/agents/match.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/replay.hpp"
#include "ludus/engine/rng.hpp"
#include "ludus/engine/version.hpp"
#include "ludus/rl/checkpoint.hpp"
#include "ludus/rl/dist.hpp"
#include "ludus/rl/grpo.hpp"
#include "ludus/rl/optim/hybrid.hpp"
#include "ludus/policy/policy_agent.hpp"

namespace ludus::rl {

namespace fs = std::filesystem;

double EvalResult::win_rate() const {
  const int n = wins + draws + losses;
  return n > 0 ? static_cast<double>(wins) / n : 0.0;
}

double EvalResult::low() const {
  const double n = wins + draws + losses, z = 1.96;
  if (n == 0) return 0;
  const double p = win_rate(), d = 1 + z * z / n;
  // Exactly 0 at p = 0 (rounding would otherwise print "-0").
  return std::max(0.0, (p + z * z / (2 * n) - z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / d);
}

double EvalResult::high() const {
  const double n = wins + draws + losses, z = 1.96;
  if (n == 0) return 1;
  const double p = win_rate(), d = 1 + z * z / n;
  return std::min(1.0, (p + z * z / (2 * n) + z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / d);
}

namespace {

constexpr double kEloK = 16.0;
constexpr double kEloStart = 1000.0;

void copy_parameters(PolicyNet& dst, const PolicyNet& src) {
  torch::NoGradGuard no_grad;
  const auto s = src->named_parameters();
  for (auto& p : dst->named_parameters()) p.value().copy_(*s.find(p.key()));
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string checkpoint_name(int64_t update) { return fmt::format("ckpt_{:07d}.pt", update); }

// Checkpoint files in `dir`, newest first.
std::vector<fs::path> checkpoints_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("ckpt_", 0) == 0 && e.path().extension() == ".pt") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

// Uniform permutation of [0, n) from the run's generator (so resumes are exact).
std::vector<int64_t> permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.below(static_cast<uint32_t>(i + 1)));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

// The one list of per-update metrics: metrics.csv's columns in order (with their format)
// and, where `tb` is set, the TensorBoard tag of the same number. Evaluation columns are
// empty in updates without an evaluation.
struct Metric {
  const char* csv;  // column name; nullptr: TensorBoard only
  const char* tb;   // TensorBoard tag; nullptr: CSV only
  const char* format;
  bool eval;        // only in updates with an evaluation
  double (*get)(const UpdateStats&);
};

double eval_share(const EvalResult& e, int n) { return static_cast<double>(n) / std::max(1, e.wins + e.draws + e.losses); }

constexpr Metric kMetrics[] = {
    {"update", nullptr, "{:.0f}", false, [](const UpdateStats& s) { return static_cast<double>(s.update); }},
    {"samples", nullptr, "{:.0f}", false, [](const UpdateStats& s) { return static_cast<double>(s.samples); }},
    {"elapsed_s", nullptr, "{:.3f}", false, [](const UpdateStats& s) { return s.elapsed_s; }},
    {"sps", "perf/sps", "{:.1f}", false, [](const UpdateStats& s) { return s.sps; }},
    {"mean_return", "train/mean_return", "{:.6g}", false, [](const UpdateStats& s) { return s.mean_return; }},
    {"train_win", "train/win_rate", "{:.4f}", false, [](const UpdateStats& s) { return s.train_win; }},
    {"train_draw", "train/draw_rate", "{:.4f}", false, [](const UpdateStats& s) { return s.train_draw; }},
    {"loss", "loss/total", "{:.6g}", false, [](const UpdateStats& s) { return s.loss; }},
    {"entropy", "loss/entropy", "{:.6g}", false, [](const UpdateStats& s) { return s.entropy; }},
    {"kl", "loss/kl", "{:.6g}", false, [](const UpdateStats& s) { return s.kl; }},
    {"clip_frac", "loss/clip_frac", "{:.4f}", false, [](const UpdateStats& s) { return s.clip_frac; }},
    {"grad_norm", "optim/grad_norm", "{:.6g}", false, [](const UpdateStats& s) { return s.grad_norm; }},
    {"skipped", "optim/skipped", "{:.0f}", false, [](const UpdateStats& s) { return static_cast<double>(s.skipped); }},
    {"learner_elo", "train/elo", "{:.1f}", false, [](const UpdateStats& s) { return s.learner_elo; }},
    {"eval_win", "eval/win_rate", "{:.4f}", true, [](const UpdateStats& s) { return s.eval.win_rate(); }},
    {"eval_draw", nullptr, "{:.4f}", true, [](const UpdateStats& s) { return eval_share(s.eval, s.eval.draws); }},
    {"eval_loss", nullptr, "{:.4f}", true, [](const UpdateStats& s) { return eval_share(s.eval, s.eval.losses); }},
    {"eval_low", "eval/win_rate_low95", "{:.4f}", true, [](const UpdateStats& s) { return s.eval.low(); }},
    {"eval_high", "eval/win_rate_high95", "{:.4f}", true, [](const UpdateStats& s) { return s.eval.high(); }},
    {nullptr, "kickstart/weight", "", false, [](const UpdateStats& s) { return s.kickstart; }},
    {nullptr, "kickstart/teacher_nll", "", false, [](const UpdateStats& s) { return s.teacher_nll; }},
    {nullptr, "perf/games_s", "", false, [](const UpdateStats& s) { return s.env_s; }},
    {nullptr, "perf/rollout_forward_s", "", false, [](const UpdateStats& s) { return s.rollout_s; }},
    {nullptr, "perf/learn_s", "", false, [](const UpdateStats& s) { return s.learn_s; }},
    {nullptr, "perf/optimizer_s", "", false, [](const UpdateStats& s) { return s.optim_s; }},
};

std::string metrics_header() {
  std::string h;
  for (const auto& m : kMetrics) {
    if (!m.csv) continue;
    if (!h.empty()) h += ',';
    h += m.csv;
  }
  return h + '\n';
}

}  // namespace

// Everything that depends on the game and the device.
struct Trainer::Impl {
  torch::Device device{torch::kCPU};
  std::unique_ptr<VecEnv> vec;
  EnvSpec spec;
  std::string game_yaml;
  ConfigTree eval_game;  // the game options with eval.set applied
  std::string eval_game_yaml;
  int num_envs = 0;
  int64_t obs_dim = 0, adim = 0;
  // Learner rows (env * num_agents + agent) and their group and env.
  std::vector<int64_t> learner_rows;
  torch::Tensor learner_rows_t, row_group_t;
  std::vector<int> row_env;
  std::vector<int> group_side;
  std::unique_ptr<optim::HybridOptimizer> opt;
  PolicyNet ref{nullptr};
  Rng rng;
  std::map<std::string, double> ratings;
  std::vector<std::string> pool;  // self-play snapshot files, oldest first
  std::map<std::string, PolicyNet> snapshot_cache;
  double best_eval = -1;
  int consecutive_bad = 0;
  std::vector<std::array<uint64_t, 4>> rank_rngs;  // multi-process: every rank's generator, for a checkpoint
  std::vector<std::vector<uint8_t>> carry;  // grpo.start carry: per group, the state to go on from (empty: reset)
  std::chrono::steady_clock::time_point start;
  std::unique_ptr<TensorBoardWriter> tb;  // run_dir/tb, opened at the first metrics row

  // Every agent's current observation, [num_envs * num_agents, obs_dim], viewing the VecEnv's buffer.
  torch::Tensor obs_view() const {
    return torch::from_blob(const_cast<float*>(vec->obs()), {static_cast<int64_t>(num_envs) * spec.num_agents, obs_dim},
                            torch::TensorOptions().dtype(torch::kFloat));
  }

  double& rating(const std::string& name) {
    auto it = ratings.find(name);
    if (it == ratings.end()) it = ratings.emplace(name, kEloStart).first;
    return it->second;
  }

  void record_match(const std::string& opponent, double score) {
    double& rl = rating("learner");
    double& ro = rating(opponent);
    const double expected = 1.0 / (1.0 + std::pow(10.0, (ro - rl) / 400.0));
    rl += kEloK * (score - expected);
    ro -= kEloK * (score - expected);
  }
};

Trainer::Trainer(const TrainConfig& config, std::shared_ptr<dist::Context> dist)
    : cfg_(config), dist_(std::move(dist)), impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  torch::set_num_threads(cfg_.torch_threads);
  torch::manual_seed(cfg_.seed);
  if (cfg_.device == DeviceChoice::cuda && !torch::cuda::is_available())
    throw TrainingError("device: cuda was asked for, but this libtorch sees no CUDA device");
  im.device = (cfg_.device == DeviceChoice::cuda || (cfg_.device == DeviceChoice::auto_ && torch::cuda::is_available()))
                  ? torch::Device(torch::kCUDA)
                  : torch::Device(torch::kCPU);
  if (im.device.is_cuda() && distributed()) {
    // One GPU per local rank (as torchrun jobs do), wrapping around when there are fewer.
    const int gpus = std::max<int>(1, static_cast<int>(torch::cuda::device_count()));
    im.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist_->local_rank() % gpus));
  }
  if (cfg_.run_dir.empty())
    cfg_.run_dir = fmt::format("runs/{}-{}-{}-seed{}", cfg_.env, enum_name(cfg_.algo, kAlgoNames), enum_name(cfg_.optim.optimizer, kOptimizerNames), cfg_.seed);
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
    throw ConfigError("grpo.start: carry continues each group's game across updates in pieces of rollout_ticks; set "
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
  if (!cfg_.init_checkpoint.empty()) init_from(cfg_.init_checkpoint);
  policy_->to(im.device);
  // Every rank starts from rank 0's parameters (the same seed gives the same ones; the
  // broadcast makes sure of it).
  if (distributed()) dist_->broadcast(policy_->parameters(), "broadcast of the initial parameters");
  im.ref = PolicyNet(im.obs_dim, im.spec.action_space, cfg_.network, cfg_.algo == Algo::ppo);
  copy_parameters(im.ref, policy_);
  im.ref->to(im.device);
  im.ref->eval();

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
  std::vector<int64_t> groups;
  for (int g = 0; g < cfg_.grpo.groups; ++g) {
    const int side = g % im.spec.num_teams;
    im.group_side.push_back(side);
    for (int k = 0; k < cfg_.grpo.group_size; ++k) {
      const int e = g * cfg_.grpo.group_size + k;
      for (int a : im.spec.team_agents(side)) {
        im.learner_rows.push_back(static_cast<int64_t>(e) * A + a);
        im.row_env.push_back(e);
        groups.push_back(g);
      }
    }
  }
  im.learner_rows_t = torch::tensor(im.learner_rows, torch::kLong);
  im.row_group_t = torch::tensor(groups, torch::kLong);
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
  ho.rules.push_back({".*", "adamw", cfg_.optim.optimizer == OptimizerChoice::muon ? "not a hidden matrix" : "optimizer: adamw"});
  im.opt = std::make_unique<optim::HybridOptimizer>(policy_->named_parameters(), ho);
}

void Trainer::init_from(const std::string& path) {
  LoadedCheckpoint ck;
  try {
    ck = load_checkpoint(path);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("init_checkpoint: {}", e.what()));
  }
  if (ck.meta.env != cfg_.env)
    throw ConfigError(fmt::format("init_checkpoint: '{}' was trained on '{}', this run is '{}'", path, ck.meta.env, cfg_.env));
  if (ck.meta.obs_dim != impl_->obs_dim)
    throw ConfigError(fmt::format("init_checkpoint: '{}' takes observations of {} floats, this game gives {} (other game "
                                  "options?)", path, ck.meta.obs_dim, impl_->obs_dim));
  // Every parameter comes from the checkpoint, with its shape; only a value head the
  // checkpoint lacks (a GRPO policy fine-tuned with PPO) starts fresh.
  torch::NoGradGuard no_grad;
  const auto src = ck.net->named_parameters();
  for (auto& p : policy_->named_parameters()) {
    const auto* q = src.find(p.key());
    if (!q) {
      if (p.key().rfind("value", 0) == 0) continue;
      throw ConfigError(fmt::format("init_checkpoint: '{}' has no parameter '{}' (another network: its network is "
                                    "{} x {} {})", path, p.key(), ck.meta.network.layers, ck.meta.network.hidden,
                                    ck.meta.network.arch));
    }
    if (!q->sizes().equals(p.value().sizes()))
      throw ConfigError(fmt::format("init_checkpoint: parameter '{}' is {} in '{}' but {} here (another network or "
                                    "action space)", p.key(), fmt::join(q->sizes(), "x"), path, fmt::join(p.value().sizes(), "x")));
    p.value().copy_(*q);
  }
}

int64_t Trainer::decision_every() const {
  return std::lcm<int64_t>(std::max(1, impl_->spec.decision_interval), std::max(1, cfg_.hold_ticks));
}

int Trainer::rank() const { return dist_ ? dist_->rank() : 0; }
int Trainer::world_size() const { return dist_ ? dist_->world_size() : 1; }
bool Trainer::distributed() const { return dist_ && dist_->world_size() > 1; }
int Trainer::stream_rank() const { return cfg_.dist.same_games ? 0 : rank(); }

std::string Trainer::routing_table() const { return impl_->opt->routing_table(); }

std::string Trainer::check(const TrainConfig& config) {
  std::unique_ptr<Trainer> t(new Trainer(config, nullptr));
  const auto& im = *t->impl_;
  return fmt::format("{}: {} envs of {} agents ({} per learner team), obs {}, decisions every {} ticks, {} on {}\n{}",
                     config.env, im.num_envs, im.spec.num_agents, im.spec.team_agents(0).size(), im.obs_dim,
                     t->decision_every(), enum_name(config.algo, kAlgoNames), im.device.str(), t->routing_table());
}

std::unique_ptr<Trainer> Trainer::create(const TrainConfig& config, std::shared_ptr<dist::Context> dist) {
  std::unique_ptr<Trainer> t(new Trainer(config, std::move(dist)));
  if (!t->distributed()) {
    t->create_run_dir();
    return t;
  }
  // Rank 0 writes the run directory; every rank learns whether that worked.
  std::string error;
  if (t->is_main()) {
    try {
      t->create_run_dir();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  t->dist_->agree("creating the run directory", error);
  return t;
}

// Rank 0 (or the only process): a new run directory with the effective config.
void Trainer::create_run_dir() const {
  if (fs::exists(fs::path(run_dir_) / "config.yaml"))
    throw TrainingError(run_dir_ + " already holds a run; continue it with --resume " + run_dir_ +
                        ", or pick another run_dir");
  fs::create_directories(fs::path(run_dir_) / "checkpoints");
  const auto cfg_path = fs::path(run_dir_) / "config.yaml";
  TrainConfig copy = cfg_;
  std::ofstream(cfg_path) << "# ludus " << version() << " training config (effective)\n"
                          << to_yaml([&](OptionVisitor& v) { copy.visit(v); }, true);
  std::ofstream(fs::path(run_dir_) / "metrics.csv", std::ios::trunc) << metrics_header();
}

TrainConfig Trainer::run_config(const std::string& run_dir) {
  const auto cfg_path = fs::path(run_dir) / "config.yaml";
  if (!fs::exists(cfg_path)) throw TrainingError(run_dir + ": not a run directory (no config.yaml)");
  auto cfg = bind_options<TrainConfig>(ConfigTree::from_file(cfg_path.string()));
  cfg.run_dir = run_dir;
  return cfg;
}

std::unique_ptr<Trainer> Trainer::resume(const std::string& run_dir, std::shared_ptr<dist::Context> dist) {
  std::unique_ptr<Trainer> t(new Trainer(run_config(run_dir), std::move(dist)));
  std::string problems;
  for (const auto& ckpt : checkpoints_in(fs::path(run_dir) / "checkpoints")) {
    try {
      t->restore(ckpt.string());
      if (!problems.empty() && t->is_main())
        fmt::print(stderr, "ludus: warning: skipped unreadable checkpoints:{}\n", problems);
      if (t->distributed()) {
        // Every rank reads the run directory itself: they must have found the same state.
        std::vector<double> v{static_cast<double>(t->update_), -static_cast<double>(t->update_)};
        t->dist_->all_reduce_max(v, "comparing the resumed checkpoints");
        if (v[0] != -v[1])
          throw dist::DistError(fmt::format(
              "rank {}: the ranks resumed from different checkpoints (updates {} to {}); every rank must see the "
              "same run directory {} (a shared filesystem, or a copy)",
              t->rank(), -v[1], v[0], run_dir));
      }
      return t;
    } catch (const std::exception& e) {
      problems += std::string("\n  ") + e.what();
    }
  }
  throw TrainingError(run_dir + ": no readable checkpoint to resume from" + problems);
}

void Trainer::restore(const std::string& path) {
  auto& im = *impl_;
  auto ckpt = load_checkpoint(path);
  if (ckpt.meta.env != cfg_.env || ckpt.meta.obs_dim != im.obs_dim)
    throw CheckpointError(path + ": checkpoint is for another game or game options");
  copy_parameters(policy_, ckpt.net);
  torch::serialize::InputArchive extra, opt_archive, ref_archive;
  ckpt.archive->read("extra", extra);
  extra.read("optim", opt_archive);
  im.opt->load(opt_archive);
  extra.read("ref", ref_archive);
  im.ref->load(ref_archive);
  im.ref->to(im.device);
  update_ = ckpt.meta.update;
  samples_ = ckpt.meta.samples;
  elapsed_before_s_ = ckpt.meta.elapsed_s;
  im.rng.set_state(ckpt.meta.rng);
  if (rank() > 0) {
    // Rank r continues its own stream when the checkpoint has one (same or larger world
    // size before); a rank new to the run starts a stream of its own.
    torch::Tensor rngs;
    if (extra.try_read("rank_rngs", rngs) && rngs.dim() == 2 && rngs.size(0) > rank() && rngs.size(1) == 4) {
      std::array<uint64_t, 4> st{};
      std::memcpy(st.data(), rngs.contiguous().data_ptr<int64_t>() + 4 * rank(), sizeof st);
      im.rng.set_state(st);
    } else {
      im.rng.seed((cfg_.seed * 0x9E3779B97F4A7C15ull + 17 + static_cast<uint64_t>(stream_rank()) * 0xD1B54A32D192ED03ull) ^
                  (static_cast<uint64_t>(update_) * 0xA0761D6478BD642Full));
    }
  }
  if (cfg_.grpo.start == GroupStart::carry) restore_carry(extra, path);
  im.best_eval = ckpt.meta.best_eval;
  im.ratings.clear();
  for (const auto& [n, r] : ckpt.meta.ratings) im.ratings[n] = r;
  im.pool = ckpt.meta.pool;

  if (!is_main()) return;
  // Metrics after the checkpoint are recomputed: drop them.
  const auto metrics = fs::path(run_dir_) / "metrics.csv";
  std::ifstream in(metrics);
  std::string line, kept;
  bool header = true;
  while (std::getline(in, line)) {
    if (header || std::stoll(line.substr(0, line.find(','))) <= update_) kept += line + "\n";
    header = false;
  }
  in.close();
  std::ofstream(metrics, std::ios::trunc) << kept;
  fmt::print("resumed {} at update {} ({} steps)\n", path, update_, samples_);
}

void Trainer::restore_carry(torch::serialize::InputArchive& extra, const std::string& path) {
  auto& im = *impl_;
  for (auto& c : im.carry) c.clear();
  torch::Tensor lens, bytes;
  if (rank() > 0 || !extra.try_read("carry_lengths", lens) || !extra.try_read("carry_bytes", bytes)) return;
  if (lens.dim() != 1 || lens.size(0) != static_cast<int64_t>(im.carry.size()) || bytes.dim() != 1 ||
      bytes.scalar_type() != torch::kUInt8 || lens.scalar_type() != torch::kLong)
    throw CheckpointError(path + ": the saved games in progress (grpo.start carry) do not match grpo.groups");
  const auto* len = lens.contiguous().data_ptr<int64_t>();
  const auto data = bytes.contiguous();
  int64_t at = 0;
  for (size_t g = 0; g < im.carry.size(); ++g) {
    if (len[g] < 0 || at + len[g] > data.size(0))
      throw CheckpointError(path + ": the saved games in progress (grpo.start carry) are truncated");
    im.carry[g].assign(data.data_ptr<uint8_t>() + at, data.data_ptr<uint8_t>() + at + len[g]);
    at += len[g];
    if (im.carry[g].empty()) continue;
    try {
      im.vec->env(0).load_state(im.carry[g]);  // refused here, not mid-update; reset before the next rollout
    } catch (const std::exception& e) {
      throw CheckpointError(fmt::format("{}: saved game in progress {} (grpo.start carry): {}", path, g, e.what()));
    }
  }
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
    for (auto& g : a->param_groups())
      static_cast<torch::optim::AdamWOptions&>(g.options()).lr(cfg_.optim.adam_lr * f);
}

CheckpointMeta Trainer::policy_meta() const {
  CheckpointMeta m;
  m.env = cfg_.env;
  m.game_yaml = impl_->game_yaml;
  m.algo = enum_name(cfg_.algo, kAlgoNames);
  m.obs_dim = impl_->obs_dim;
  m.action_space = impl_->spec.action_space;
  m.network = cfg_.network;
  m.value_head = cfg_.algo == Algo::ppo;
  m.update = update_;
  TrainConfig copy = cfg_;
  m.config_yaml = to_yaml([&](OptionVisitor& v) { copy.visit(v); }, false);
  return m;
}

void Trainer::save(const std::string& path) {
  auto& im = *impl_;
  CheckpointMeta m = policy_meta();
  m.samples = samples_;
  m.elapsed_s = elapsed_before_s_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - im.start).count();
  m.rng = im.rng.state();
  m.best_eval = im.best_eval;
  for (const auto& [n, r] : im.ratings) m.ratings.emplace_back(n, r);
  m.pool = im.pool;
  save_checkpoint(path, m, policy_, [&](torch::serialize::OutputArchive& extra) {
    torch::serialize::OutputArchive opt_archive, ref_archive;
    im.opt->save(opt_archive);
    extra.write("optim", opt_archive);
    im.ref->save(ref_archive);
    extra.write("ref", ref_archive);
    if (!im.rank_rngs.empty()) {
      auto rngs = torch::zeros({static_cast<int64_t>(im.rank_rngs.size()), 4}, torch::kLong);
      std::memcpy(rngs.data_ptr<int64_t>(), im.rank_rngs.data(), im.rank_rngs.size() * sizeof im.rank_rngs[0]);
      extra.write("rank_rngs", rngs);
    }
    if (cfg_.grpo.start == GroupStart::carry) {
      // This process's games in progress (per group: byte count, then the bytes).
      std::vector<int64_t> lens;
      int64_t total = 0;
      for (const auto& c : im.carry) total += static_cast<int64_t>(lens.emplace_back(static_cast<int64_t>(c.size())));
      auto bytes = torch::zeros({total}, torch::kUInt8);
      int64_t at = 0;
      for (const auto& c : im.carry) {
        if (!c.empty()) std::memcpy(bytes.data_ptr<uint8_t>() + at, c.data(), c.size());
        at += static_cast<int64_t>(c.size());
      }
      extra.write("carry_lengths", torch::tensor(lens, torch::kLong));
      extra.write("carry_bytes", bytes);
    }
  });
}

// ---- one update: opponents, games, rollouts, advantages, optimizer steps, league ----------

// The opponents (and kickstart teachers) seated at this update's envs.
struct Trainer::Seating {
  std::vector<std::string> group_opponent;             // per group: a bot, "snapshot:PATH" or "self"
  std::vector<std::unique_ptr<Agent>> env_bot;         // per env: its scripted opponent, if any
  std::vector<std::vector<int>> opp_ids;               // per env: the opponent's agent ids
  std::map<std::string, std::vector<int>> net_groups;  // opponent network -> the envs it plays
  std::map<std::string, PolicyNet> nets;
  std::vector<std::unique_ptr<Agent>> teacher;  // kickstart: per env, on the learner's side
  std::vector<std::vector<int>> learner_ids;    // kickstart: per env, the learner's agent ids
};

// One update's rollouts: a row per learner agent, a step per decision ([T, R] tensors).
struct Trainer::Rollout {
  torch::Tensor obs, act, logp, ref, rew, alive, term, boot, val, teach;
  std::vector<uint8_t> done;  // per env: its game has finished
  std::vector<int> outcome;   // per env: 1 win, 0 draw, -1 loss, 2 unfinished
  std::vector<float> acts, env_acts, teach_acts;
  torch::Tensor log_std_cpu;  // the policy's log-std on the CPU, for sampling (continuous heads)
  int64_t steps = 0;  // decisions played
  int64_t tick = 0;   // ticks played
  double env_s = 0;   // seconds spent stepping the games
};

// The learner's samples: every decision with a weight, flattened, on the device.
struct Trainer::Batch {
  torch::Tensor obs, act, old_logp, ref_logp, adv, weight, ret, teach;
  int64_t size = 0;        // this rank's samples
  int64_t job_size = 0;    // every rank's
  double job_steps = 0;    // every rank's live decisions (agent-steps)
};

// The finished games of an update: returns per learner row and outcomes.
struct Trainer::Scores {
  torch::Tensor returns;  // [R]
  int wins = 0, draws = 0, finished = 0;
};

// One minibatch's per-sample terms, kept for the update's statistics.
struct Trainer::MinibatchTerms {
  torch::Tensor logp, old, ent, kl, nll;
};

// What the optimizer steps of an update did.
struct Trainer::Steps {
  double optim_s = 0;   // seconds in the optimizer's steps
  int with_samples = 0; // steps in which this rank had samples
};

// Per group: a scripted bot, a self-play snapshot, or the policy itself.
std::vector<std::string> Trainer::choose_opponents() {
  auto& im = *impl_;
  const auto bots = split_agent_list(cfg_.opponents.bots);
  std::vector<std::string> group_opponent(static_cast<size_t>(cfg_.grpo.groups));
  for (auto& opp : group_opponent) {
    const bool snapshot = cfg_.opponents.enabled && !im.pool.empty() && im.rng.uniform() >= cfg_.opponents.bot_prob;
    if (snapshot) {
      opp = "snapshot:" + im.pool[im.rng.below(static_cast<uint32_t>(im.pool.size()))];
    } else if (!bots.empty()) {
      opp = bots[im.rng.below(static_cast<uint32_t>(bots.size()))];
    } else {
      opp = "self";
    }
  }
  return group_opponent;
}

// Every env of a group starts from the group's seed, then (grpo.start) from a shared
// random-action prefix or from where the group's game stopped last update.
std::vector<uint64_t> Trainer::start_games() {
  auto& im = *impl_;
  const int G = cfg_.grpo.groups, K = cfg_.grpo.group_size;
  std::vector<uint64_t> seeds(static_cast<size_t>(im.num_envs));
  for (int g = 0; g < G; ++g) {
    const uint64_t s = im.rng.next_u64() >> 1;
    for (int k = 0; k < K; ++k) seeds[static_cast<size_t>(g * K + k)] = s;
  }
  im.vec->reset_each(seeds);
  if (cfg_.grpo.start == GroupStart::branch) {
    for (int g = 0; g < G; ++g) branch_group(g, seeds[static_cast<size_t>(g * K)]);
  } else if (cfg_.grpo.start == GroupStart::carry) {
    // Every member of a group goes on from the state the group's first rollout stopped in.
    for (int g = 0; g < G; ++g) {
      const auto& snap = im.carry[static_cast<size_t>(g)];
      if (snap.empty()) continue;
      for (int k = 0; k < K; ++k) {
        im.vec->env(g * K + k).load_state(snap);
        im.vec->observe(g * K + k);
      }
    }
  }
  return seeds;
}

// grpo.start branch: a random-action prefix on the group's first env, then every member
// restored from it.
void Trainer::branch_group(int g, uint64_t seed) {
  auto& im = *impl_;
  const int K = cfg_.grpo.group_size, A = im.spec.num_agents;
  const int64_t D = im.obs_dim, AD = im.adim, every = decision_every();
  std::vector<float> obs(static_cast<size_t>(A * D)), rew(static_cast<size_t>(A)), act(static_cast<size_t>(A * AD));
  std::vector<uint8_t> snap;
  Env& lead = im.vec->env(g * K);
  uint8_t te = 0, tr = 0;
  // A whole number of decision intervals, so the members start at a decision tick.
  const auto prefix =
      im.rng.below(static_cast<uint32_t>(cfg_.grpo.branch_max_ticks / every + 1)) * static_cast<uint32_t>(every);
  for (uint32_t t = 0; t < prefix; ++t) {
    for (int a = 0; a < A; ++a) im.spec.action_space.sample(im.rng, act.data() + a * AD);
    lead.step(act.data(), StepView{obs.data(), rew.data(), &te, &tr});
    if (te || tr) {
      lead.reset(seed, StepView{obs.data(), rew.data(), &te, &tr});
      break;
    }
  }
  lead.save_state(snap);
  for (int k = 0; k < K; ++k) {
    Env& member = im.vec->env(g * K + k);
    if (k > 0) member.load_state(snap);
    im.vec->observe(g * K + k);
  }
}

// Scripted bots per env, opponent networks per name (snapshots cached), kickstart teachers.
Trainer::Seating Trainer::seat_opponents(std::vector<std::string> group_opponent, const std::vector<uint64_t>& seeds,
                                         double kick) {
  auto& im = *impl_;
  const int N = im.num_envs, K = cfg_.grpo.group_size;
  Seating seats;
  seats.group_opponent = std::move(group_opponent);
  seats.env_bot.resize(static_cast<size_t>(N));
  seats.opp_ids.resize(static_cast<size_t>(N));
  for (int e = 0; e < N; ++e) {
    const int g = e / K, side = im.group_side[static_cast<size_t>(g)];
    for (int team = 0; team < im.spec.num_teams; ++team)
      if (team != side)
        for (int a : im.spec.team_agents(team)) seats.opp_ids[static_cast<size_t>(e)].push_back(a);
    const std::string& opp = seats.group_opponent[static_cast<size_t>(g)];
    if (opp.rfind("snapshot:", 0) == 0 || opp == "self") {
      seats.net_groups[opp].push_back(e);
    } else {
      auto& bot = seats.env_bot[static_cast<size_t>(e)];
      bot = make_agent(opp, cfg_.env);
      bot->reset(im.vec->env(e), 1 - side, seeds[static_cast<size_t>(e)] + static_cast<uint64_t>(e));
    }
  }
  // Kickstarting: a teacher per env, playing the learner's side, asked at every decision.
  if (kick > 0) {
    seats.teacher.resize(static_cast<size_t>(N));
    seats.learner_ids.resize(static_cast<size_t>(N));
    for (size_t e = 0; e < seats.teacher.size(); ++e) {
      const int side = im.group_side[e / static_cast<size_t>(K)];
      for (int a : im.spec.team_agents(side)) seats.learner_ids[e].push_back(a);
      seats.teacher[e] = make_agent(cfg_.kickstart.teacher, cfg_.env);
      seats.teacher[e]->reset(im.vec->env(static_cast<int>(e)), side, seeds[e] + 7919 * (e + 1));
    }
  }
  for (const auto& [name, envs] : seats.net_groups) {
    if (name == "self") {
      seats.nets.insert_or_assign(name, policy_);
      continue;
    }
    const std::string path = name.substr(9);
    auto it = im.snapshot_cache.find(path);
    if (it == im.snapshot_cache.end()) {
      auto ck = load_checkpoint(path);
      ck.net->to(im.device);
      ck.net->eval();
      it = im.snapshot_cache.emplace(path, ck.net).first;
    }
    seats.nets.insert_or_assign(name, it->second);
  }
  return seats;
}

// Plays the update's games: the learner decides at its decision ticks (a row per
// learner agent), opponents act, and each decision's ticks are stepped on the env workers.
Trainer::Rollout Trainer::collect(Seating& seats, double kick) {
  auto& im = *impl_;
  const int N = im.num_envs;
  const int64_t R = static_cast<int64_t>(im.learner_rows.size()), AD = im.adim;
  // Rows of the rollout buffers are decisions: the policy acts at ticks that are multiples
  // of the game's decision interval; the ticks between hold the action and add their
  // rewards to that decision.
  const int64_t ticks = cfg_.rollout_ticks > 0 ? cfg_.rollout_ticks : im.spec.max_ticks;
  const int64_t every = decision_every();
  const int64_t T = (ticks + every - 1) / every;
  const bool ppo = cfg_.algo == Algo::ppo;
  auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  Rollout ro;
  ro.obs = torch::zeros({T, R, im.obs_dim}, f32), ro.act = torch::zeros({T, R, AD}, f32);
  ro.logp = torch::zeros({T, R}, f32), ro.ref = torch::zeros({T, R}, f32);
  ro.rew = torch::zeros({T, R}, f32), ro.alive = torch::zeros({T, R}, f32);
  ro.term = torch::zeros({T, R}, f32), ro.boot = torch::zeros({T, R}, f32), ro.val = torch::zeros({T, R}, f32);
  if (kick > 0) ro.teach = torch::zeros({T, R, AD}, f32);
  ro.teach_acts.resize(kick > 0 ? static_cast<size_t>(N * im.spec.num_agents * AD) : 0);
  ro.done.assign(static_cast<size_t>(N), 0);
  ro.outcome.assign(static_cast<size_t>(N), 2);
  ro.acts.resize(static_cast<size_t>(R * AD)), ro.env_acts.resize(static_cast<size_t>(R * AD));
  {
    torch::NoGradGuard no_grad;
    policy_->eval();
    const auto log_std = policy_->log_std();
    if (log_std.defined()) ro.log_std_cpu = log_std.detach().to(torch::kCPU);
    for (int64_t t = 0; t < T; ++t) {
      if (std::all_of(ro.done.begin(), ro.done.end(), [](uint8_t d) { return d != 0; })) break;
      ro.steps = t + 1;
      act_learner(t, ro, seats, kick);
      act_opponent_nets(seats);
      play_decision(t, std::min(every, ticks - ro.tick), ro, seats);
    }
    // Rollouts cut by rollout_ticks bootstrap from the state they stopped in.
    if (ppo && ro.steps > 0) {
      const auto v_last = policy_->value(im.obs_view().index_select(0, im.learner_rows_t).to(im.device)).to(torch::kCPU);
      for (int64_t r = 0; r < R; ++r)
        if (!ro.done[static_cast<size_t>(im.row_env[static_cast<size_t>(r)])]) ro.boot[ro.steps - 1][r] = v_last[r];
    }
    policy_->train();
  }
  for (auto* buf : {&ro.obs, &ro.act, &ro.logp, &ro.ref, &ro.rew, &ro.alive, &ro.term, &ro.boot, &ro.val, &ro.teach})
    if (buf->defined()) *buf = buf->narrow(0, 0, ro.steps);
  return ro;
}

// Decision t of the learner: observations, the teacher's actions, sampled actions and
// their log-probabilities (and the reference's and the value for KL and PPO).
void Trainer::act_learner(int64_t t, Rollout& ro, Seating& seats, double kick) {
  auto& im = *impl_;
  const int N = im.num_envs, A = im.spec.num_agents;
  const int64_t R = static_cast<int64_t>(im.learner_rows.size()), D = im.obs_dim, AD = im.adim;
  auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  const auto& head = policy_->head();
  const auto log_std_dev = policy_->log_std();
  const auto x = im.obs_view().index_select(0, im.learner_rows_t);
  ro.obs[t].copy_(x);
  for (int64_t r = 0; r < R; ++r)
    ro.alive[t][r] = ro.done[static_cast<size_t>(im.row_env[static_cast<size_t>(r)])] ? 0.0f : 1.0f;
  if (kick > 0) {
    // What the teacher would do for the learner's agents in this state.
    for (int e = 0; e < N; ++e) {
      if (ro.done[static_cast<size_t>(e)]) continue;
      seats.teacher[static_cast<size_t>(e)]->act(im.vec->env(e), im.vec->obs() + e * A * D,
                                                 seats.learner_ids[static_cast<size_t>(e)],
                                                 ro.teach_acts.data() + static_cast<size_t>(e * A * AD));
    }
    float* tb = ro.teach.data_ptr<float>() + t * R * AD;
    for (int64_t r = 0; r < R; ++r)
      std::copy_n(ro.teach_acts.data() + im.learner_rows[static_cast<size_t>(r)] * AD, AD, tb + r * AD);
  }
  const auto xd = x.to(im.device);
  const auto out = policy_->forward(xd);
  head.sample(out.to(torch::kCPU), ro.log_std_cpu, im.rng, /*greedy=*/false, ro.acts.data(), ro.env_acts.data());
  const auto act_t = torch::from_blob(ro.acts.data(), {R, AD}, f32).clone();
  ro.act[t].copy_(act_t);
  const auto act_d = act_t.to(im.device);
  ro.logp[t].copy_(head.log_prob(out, log_std_dev, act_d).to(torch::kCPU));
  if (cfg_.grpo.kl_coef > 0 && cfg_.algo != Algo::ppo)
    ro.ref[t].copy_(head.log_prob(im.ref->forward(xd), im.ref->log_std(), act_d).to(torch::kCPU));
  if (cfg_.algo == Algo::ppo) ro.val[t].copy_(policy_->value(xd).to(torch::kCPU));
  float* vec_act = im.vec->actions();
  for (int64_t r = 0; r < R; ++r)
    std::copy_n(ro.env_acts.data() + r * AD, AD, vec_act + im.learner_rows[static_cast<size_t>(r)] * AD);
}

// Opponent networks act at decisions too (batched); their actions are held.
void Trainer::act_opponent_nets(Seating& seats) {
  auto& im = *impl_;
  const int A = im.spec.num_agents;
  const int64_t AD = im.adim;
  const auto& head = policy_->head();
  const auto all_obs = im.obs_view();
  float* vec_act = im.vec->actions();
  for (const auto& [name, envs] : seats.net_groups) {
    std::vector<int64_t> rows;
    for (int e : envs)
      for (int a : seats.opp_ids[static_cast<size_t>(e)]) rows.push_back(static_cast<int64_t>(e) * A + a);
    const auto rt = torch::tensor(rows, torch::kLong);
    auto& net = seats.nets.at(name);
    const auto o = net->forward(all_obs.index_select(0, rt).to(im.device)).to(torch::kCPU);
    std::vector<float> oa(rows.size() * static_cast<size_t>(AD)), oe(oa.size());
    const auto ls = net->log_std().defined() ? net->log_std().detach().to(torch::kCPU) : torch::Tensor();
    head.sample(o, ls, im.rng, /*greedy=*/false, oa.data(), oe.data());
    for (size_t k = 0; k < rows.size(); ++k) std::copy_n(oe.data() + k * AD, AD, vec_act + rows[k] * AD);
  }
}

// The n ticks of decision t: one pool task per env steps it through them, its scripted
// bot asked every tick, as in a match (each reads its own env, on that env's worker).
// Finished games are not stepped: their rows are dead for the rest of the rollout.
void Trainer::play_decision(int64_t t, int64_t n, Rollout& ro, Seating& seats) {
  auto& im = *impl_;
  const int N = im.num_envs, A = im.spec.num_agents, K = cfg_.grpo.group_size;
  const int64_t R = static_cast<int64_t>(im.learner_rows.size()), D = im.obs_dim;
  float* rew_t = ro.rew.data_ptr<float>() + t * R;
  float* term_t = ro.term.data_ptr<float>() + t * R;
  float* boot_t = ro.boot.data_ptr<float>() + t * R;
  ro.tick += n;
  const auto te = std::chrono::steady_clock::now();
  im.vec->step_ticks(
      n,
      [&](int e, int, float* env_actions) {
        if (auto& bot = seats.env_bot[static_cast<size_t>(e)])
          bot->act(im.vec->env(e), im.vec->obs() + e * A * D, seats.opp_ids[static_cast<size_t>(e)], env_actions);
      },
      ro.done.data());
  ro.env_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count();
  const float* rew_all = im.vec->rewards();
  for (int64_t r = 0; r < R; ++r) {
    const int e = im.row_env[static_cast<size_t>(r)];
    if (ro.done[static_cast<size_t>(e)]) continue;
    rew_t[r] += rew_all[im.learner_rows[static_cast<size_t>(r)]];
    if (im.vec->terminated()[e] != 0) term_t[r] = 1.0f;
    if (im.vec->truncated()[e] != 0 && cfg_.algo == Algo::ppo) {
      const auto fo = torch::from_blob(const_cast<float*>(im.vec->final_obs()) + im.learner_rows[static_cast<size_t>(r)] * D,
                                       {1, D}, torch::TensorOptions().dtype(torch::kFloat));
      boot_t[r] = policy_->value(fo.to(im.device)).to(torch::kCPU)[0].item<float>();
    }
  }
  for (int e = 0; e < N; ++e) {
    if (ro.done[static_cast<size_t>(e)] || !(im.vec->terminated()[e] || im.vec->truncated()[e])) continue;
    ro.done[static_cast<size_t>(e)] = 1;
    const int winner = im.vec->finished_result(e).winner, side = im.group_side[static_cast<size_t>(e / K)];
    const int o = winner < 0 ? 0 : (winner == side ? 1 : -1);
    ro.outcome[static_cast<size_t>(e)] = o;
    const auto& bonus = cfg_.outcome_reward;
    const double add = o > 0 ? bonus.win : (o == 0 ? bonus.draw : bonus.loss);
    if (add != 0)
      for (int64_t r = 0; r < R; ++r)
        if (im.row_env[static_cast<size_t>(r)] == e) rew_t[r] += static_cast<float>(add);
  }
}

// A non-finite observation or reward stops training before the update changes anything,
// naming the first bad value: which tensor, env, agent, decision and tick.
void Trainer::check_rollout(const Rollout& ro) const {
  const auto& im = *impl_;
  for (const auto* buf : {&ro.obs, &ro.rew}) {
    if (torch::isfinite(*buf).all().item<bool>()) continue;
    const auto bad = (~torch::isfinite(buf->dim() == 3 ? buf->sum(2) : *buf)).nonzero();
    const int64_t t = bad.size(0) ? bad[0][0].item<int64_t>() : 0, r = bad.size(0) ? bad[0][1].item<int64_t>() : 0;
    const auto row = static_cast<size_t>(r);
    throw TrainingError(fmt::format(
        "game '{}' produced a non-finite {} (env {}, agent {}, decision {} = tick {} of the rollout) during update "
        "{}; training stopped before this update changed anything: the run's checkpoints are intact",
        cfg_.env, buf == &ro.obs ? "observation" : "reward", im.row_env[row], im.learner_rows[row] % im.spec.num_agents,
        t, t * decision_every(), update_ + 1));
  }
}

// A policy whose outputs are not finite (weights gone NaN/inf) cannot be optimized from
// its own samples: the update is skipped (on every rank), and too many in a row stop training.
bool Trainer::policy_outputs_finite(const Rollout& ro) {
  auto& im = *impl_;
  bool finite = torch::isfinite(ro.logp).all().item<bool>();
  std::vector<double> bad{finite ? 0.0 : 1.0};
  dist_all_reduce(bad, "agreeing on finite policy outputs");
  finite = bad[0] == 0;
  if (!finite) {
    if (is_main())
      fmt::print(stderr, "ludus: warning: update {}: the policy produced non-finite log-probabilities; update skipped\n",
                 update_ + 1);
    if (++im.consecutive_bad >= cfg_.max_bad_updates) throw_bad_updates();
  }
  return finite;
}

void Trainer::throw_bad_updates() const {
  throw TrainingError(fmt::format(
      "{} consecutive updates had non-finite policy outputs, losses or gradients (last: update {}); training "
      "stopped. Lower optim.lr / optim.adam_lr, or check the game's rewards and observations",
      impl_->consecutive_bad, update_ + 1));
}

void Trainer::dist_all_reduce(std::vector<double>& v, const char* what) {
  if (distributed()) dist_->all_reduce_sum(v, what);
}

// Mean return and outcomes of the finished games; each result moves the league's ratings.
Trainer::Scores Trainer::score_games(const Rollout& ro, const Seating& seats, UpdateStats& st) {
  auto& im = *impl_;
  Scores sc;
  sc.returns = (ro.rew * ro.alive).sum(0);
  st.mean_return = sc.returns.mean().item<double>();
  for (int e = 0; e < im.num_envs; ++e) {
    const int o = ro.outcome[static_cast<size_t>(e)];
    if (o == 2) continue;
    ++sc.finished;
    sc.wins += o == 1;
    sc.draws += o == 0;
    im.record_match(seats.group_opponent[static_cast<size_t>(e / cfg_.grpo.group_size)],
                    o == 1 ? 1.0 : o == 0 ? 0.5 : 0.0);
  }
  st.train_win = sc.finished ? static_cast<double>(sc.wins) / sc.finished : 0;
  st.train_draw = sc.finished ? static_cast<double>(sc.draws) / sc.finished : 0;
  return sc;
}

// Advantages (GAE for PPO; group-relative for GRPO) and per-sample weights, before the
// loss normalization. PPO also gets its value targets.
void Trainer::advantages(const Rollout& ro, const torch::Tensor& returns, double kick, torch::Tensor& adv,
                         torch::Tensor& weight, torch::Tensor& ret_target) {
  const auto& im = *impl_;
  weight = ro.alive.clone();
  if (cfg_.algo == Algo::ppo) {
    adv = gae(ro.rew, ro.val, ro.alive, ro.term, ro.boot, cfg_.ppo.gamma, cfg_.ppo.lambda);
    ret_target = adv + ro.val;
    const auto a = adv.masked_select(ro.alive > 0);
    if (distributed()) {
      // Normalized with the mean and standard deviation over every rank's samples.
      std::vector<double> m{a.sum().item<double>(), a.square().sum().item<double>(), static_cast<double>(a.numel())};
      dist_->all_reduce_sum(m, "PPO advantage statistics");
      const double n = std::max(1.0, m[2]), mean = m[0] / n;
      const double sd = std::sqrt(std::max(0.0, (m[1] - n * mean * mean) / std::max(1.0, n - 1)));
      adv = (adv - mean) / (sd + 1e-8) * ro.alive;
    } else {
      adv = (adv - a.mean()) / (a.std() + 1e-8) * ro.alive;
    }
    return;
  }
  const int G = cfg_.grpo.groups;
  const auto kind = parse_advantage(cfg_.grpo.advantage);
  torch::Tensor keep;
  const auto row_adv = group_advantages(returns, im.row_group_t, G, kind, &keep);
  if (cfg_.grpo.baseline == Baseline::step) {
    adv = stepwise_group_advantages(returns_to_go(ro.rew, ro.alive, cfg_.grpo.gamma), ro.alive, im.row_group_t, G, kind);
  } else {
    adv = row_adv.unsqueeze(0).expand({ro.steps, static_cast<int64_t>(im.learner_rows.size())}) * ro.alive;
  }
  if (cfg_.grpo.drop_degenerate) {
    // Kickstarting keeps those samples for the imitation loss, with no advantage.
    const auto kept = keep.to(torch::kFloat).unsqueeze(0);
    if (kick > 0) adv = adv * kept;
    else weight = weight * kept;
  }
  if (cfg_.grpo.batch_scale) {
    // One scale for the whole batch (every rank's): the advantages' RMS becomes 1, their
    // relative sizes across groups and steps stay (unlike per-group std normalization).
    std::vector<double> m{(adv * adv * ro.alive).sum().item<double>(), ro.alive.sum().item<double>()};
    dist_all_reduce(m, "GRPO advantage scale");
    const double rms = std::sqrt(m[0] / std::max(1.0, m[1]));
    if (rms > 1e-8) adv = adv / rms;
  }
}

// The loss is a weighted sum over samples: weights make it a mean over every rank's
// samples (or kept rollouts, with GRPO's length_norm); the kept samples are flattened.
Trainer::Batch Trainer::make_batch(const Rollout& ro, const torch::Tensor& returns, bool policy_finite, double kick) {
  auto& im = *impl_;
  const bool ppo = cfg_.algo == Algo::ppo;
  torch::Tensor adv, weight, ret_target;
  advantages(ro, returns, kick, adv, weight, ret_target);
  const auto lengths = ro.alive.sum(0);  // [R]
  if (distributed()) {
    // Each rank divides by the job's total over W, and the all-reduce averages the W gradients.
    const bool per_rollout = !ppo && cfg_.grpo.length_norm;
    std::vector<double> total{per_rollout ? (weight.sum(0) > 0).to(torch::kFloat).sum().item<double>()
                                          : weight.sum().item<double>()};
    dist_->all_reduce_sum(total, "loss normalization");
    const double denom = std::max(1.0, total[0]) / world_size();
    weight = per_rollout ? weight / lengths.clamp_min(1).unsqueeze(0) / denom : weight / denom;
  } else if (!ppo && cfg_.grpo.length_norm) {
    const auto kept_rows = (weight.sum(0) > 0).to(torch::kFloat);
    const double n_rows = std::max(1.0, kept_rows.sum().item<double>());
    weight = weight / lengths.clamp_min(1).unsqueeze(0) / n_rows;
  } else {
    weight = weight / std::max(1.0, weight.sum().item<double>());
  }
  if (!policy_finite) weight.zero_();
  const auto flat_w = weight.reshape({-1});
  const auto idx = (flat_w > 0).nonzero().squeeze(1);
  Batch b;
  b.size = idx.size(0);
  // Every rank takes the same number of optimizer steps: minibatches follow the job's
  // sample count, and a rank with none in a minibatch adds a zero gradient.
  std::vector<double> job{static_cast<double>(b.size), ro.alive.sum().item<double>()};
  dist_all_reduce(job, "counting samples");
  b.job_size = static_cast<int64_t>(job[0]);
  b.job_steps = job[1];
  const auto pick = [&](const torch::Tensor& t, int64_t width) {
    return (width ? t.reshape({-1, width}) : t.reshape({-1})).index_select(0, idx).to(im.device);
  };
  b.obs = pick(ro.obs, im.obs_dim);
  b.act = pick(ro.act, im.adim);
  b.old_logp = pick(ro.logp, 0);
  b.ref_logp = pick(ro.ref, 0);
  b.adv = pick(adv, 0);
  b.weight = flat_w.index_select(0, idx).to(im.device);
  if (ppo) b.ret = pick(ret_target, 0);
  if (kick > 0) b.teach = pick(ro.teach, im.adim);
  return b;
}

// The per-sample loss of one minibatch: clipped surrogate, entropy bonus, KL to the
// reference, PPO's value loss and the kickstart imitation term.
torch::Tensor Trainer::minibatch_loss(const Batch& b, const torch::Tensor& sel, double kick, MinibatchTerms& m) {
  const auto& head = policy_->head();
  const bool ppo = cfg_.algo == Algo::ppo;
  const double eps_low = ppo ? cfg_.ppo.clip : cfg_.grpo.clip_low, eps_high = ppo ? cfg_.ppo.clip : cfg_.grpo.clip_high;
  const auto o = b.obs.index_select(0, sel);
  const auto out = policy_->forward(o);
  m.logp = head.log_prob(out, policy_->log_std(), b.act.index_select(0, sel));
  m.old = b.old_logp.index_select(0, sel);
  const auto surr = clipped_surrogate(m.logp, m.old, b.adv.index_select(0, sel), eps_low, eps_high);
  m.ent = head.entropy(out, policy_->log_std());
  auto per_sample = -surr - cfg_.entropy_coef * m.ent;
  if (cfg_.grpo.kl_coef > 0 && !ppo) {
    m.kl = kl_unbiased(m.logp, b.ref_logp.index_select(0, sel));
    per_sample = per_sample + cfg_.grpo.kl_coef * m.kl;
  }
  if (ppo) per_sample = per_sample + cfg_.ppo.value_coef * (policy_->value(o) - b.ret.index_select(0, sel)).pow(2);
  if (kick > 0) {
    m.nll = -head.log_prob(out, policy_->log_std(), b.teach.index_select(0, sel));
    per_sample = per_sample + kick * m.nll;
  }
  return (b.weight.index_select(0, sel) * per_sample).sum();
}

// Epochs x minibatches of optimizer steps over the batch; non-finite steps are skipped
// and named, and updates without a step count towards max_bad_updates.
Trainer::Steps Trainer::optimize(const Batch& b, bool policy_finite, double kick, UpdateStats& st) {
  auto& im = *impl_;
  const bool multi = distributed();
  const double eps_low = cfg_.algo == Algo::ppo ? cfg_.ppo.clip : cfg_.grpo.clip_low;
  const int MB = std::max<int64_t>(1, std::min<int64_t>(cfg_.minibatches, b.job_size));
  double loss_sum = 0, ent_sum = 0, kl_sum = 0, clip_sum = 0, gn_sum = 0, nll_sum = 0;
  Steps done;
  int steps_taken = 0;
  std::vector<torch::Tensor> params;
  for (auto& p : policy_->parameters()) params.push_back(p);
  for (int epoch = 0; epoch < cfg_.epochs && b.job_size > 0; ++epoch) {
    const auto perm_v = permutation(b.size, im.rng);
    const auto perm = torch::tensor(perm_v, torch::kLong).to(im.device);
    for (int mb = 0; mb < MB; ++mb) {
      const int64_t lo = b.size * mb / MB, hi = b.size * (mb + 1) / MB;
      if (hi <= lo && !multi) continue;
      MinibatchTerms m;
      double lv = 0;
      im.opt->zero_grad();
      if (hi > lo) {
        const auto loss = minibatch_loss(b, perm.narrow(0, lo, hi - lo), kick, m) * MB;
        loss.backward();
        lv = loss.item<double>();
      }
      if (multi) {
        // Averaged gradients and loss: every rank sees the same numbers from here on, so
        // clipping, the finiteness check and the step agree.
        std::vector<double> extra{lv, static_cast<double>(hi - lo)};
        dist_->average_gradients(params, extra);
        lv = extra[0] / world_size();
        if (extra[1] == 0) continue;  // no rank had samples for this minibatch
      }
      const double max_norm = cfg_.optim.max_grad_norm > 0 ? cfg_.optim.max_grad_norm : INFINITY;
      const double gn = torch::nn::utils::clip_grad_norm_(params, max_norm);
      if (!std::isfinite(lv) || !std::isfinite(gn)) {
        ++st.skipped;
        if (is_main()) warn_non_finite_step(epoch, mb, lv, gn);
        im.opt->zero_grad();
        continue;
      }
      const auto to = std::chrono::steady_clock::now();
      im.opt->step();
      done.optim_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - to).count();
      ++steps_taken;
      loss_sum += lv;
      gn_sum += gn;
      if (hi > lo) {
        torch::NoGradGuard ng;
        ++done.with_samples;
        ent_sum += m.ent.mean().item<double>();
        if (m.kl.defined()) kl_sum += m.kl.mean().item<double>();
        if (m.nll.defined()) nll_sum += m.nll.mean().item<double>();
        clip_sum += ((torch::exp(m.logp - m.old) - 1).abs() > eps_low).to(torch::kFloat).mean().item<double>();
      }
    }
  }
  if (b.job_size > 0 && steps_taken == 0) {
    if (++im.consecutive_bad >= cfg_.max_bad_updates) throw_bad_updates();
  } else if (policy_finite) {
    im.consecutive_bad = 0;
  }
  if (steps_taken > 0) {
    const int n = done.with_samples;
    st.loss = loss_sum / steps_taken;
    st.entropy = n ? ent_sum / n : 0;
    st.kl = n ? kl_sum / n : 0;
    st.clip_frac = n ? clip_sum / n : 0;
    st.grad_norm = gn_sum / steps_taken;
    st.teacher_nll = n ? nll_sum / n : 0;
  }
  return done;
}

// Which parameters' gradients went bad (clipping keeps non-finite entries non-finite).
void Trainer::warn_non_finite_step(int epoch, int mb, double loss, double grad_norm) const {
  std::string where;
  for (const auto& p : policy_->named_parameters())
    if (p.value().grad().defined() && !torch::isfinite(p.value().grad()).all().item<bool>())
      where += (where.empty() ? " in " : ", ") + p.key();
  fmt::print(stderr, "ludus: warning: update {} epoch {} minibatch {}: non-finite {} ({}){}; step skipped\n",
             update_ + 1, epoch, mb, std::isfinite(loss) ? "gradient" : "loss", std::isfinite(loss) ? grad_norm : loss,
             std::isfinite(loss) ? where : "");
}

// Rank 0's log describes the whole job: returns, outcomes and sample statistics over
// every rank (learner Elo stays rank 0's: it follows rank 0's matches only).
void Trainer::gather_stats(const Scores& sc, const Steps& steps, UpdateStats& st) {
  if (!distributed()) return;
  const double taken = steps.with_samples;
  std::vector<double> v{sc.returns.sum().item<double>(), static_cast<double>(sc.returns.size(0)),
                        static_cast<double>(sc.wins), static_cast<double>(sc.draws), static_cast<double>(sc.finished),
                        st.entropy * taken, st.kl * taken, st.clip_frac * taken, taken};
  dist_->all_reduce_sum(v, "gathering update statistics");
  st.mean_return = v[0] / std::max(1.0, v[1]);
  st.train_win = v[4] > 0 ? v[2] / v[4] : 0;
  st.train_draw = v[4] > 0 ? v[3] / v[4] : 0;
  st.entropy = v[8] > 0 ? v[5] / v[8] : 0;
  st.kl = v[8] > 0 ? v[6] / v[8] : 0;
  st.clip_frac = v[8] > 0 ? v[7] / v[8] : 0;
}

// After an update: the KL reference's refresh and the self-play pool's newest snapshot.
void Trainer::update_league() {
  auto& im = *impl_;
  if (cfg_.grpo.kl_coef > 0 && cfg_.algo != Algo::ppo && cfg_.grpo.ref_every > 0 && update_ % cfg_.grpo.ref_every == 0)
    copy_parameters(im.ref, policy_);
  if (!cfg_.opponents.enabled || update_ % cfg_.opponents.snapshot_every != 0) return;
  const auto path = (fs::path(run_dir_) / "pool" / fmt::format("snap_{:07d}.pt", update_)).string();
  if (is_main()) save_checkpoint(path, policy_meta(), policy_);
  if (distributed()) {
    // Ranks need not share rank 0's filesystem: each keeps the snapshot in memory.
    PolicyNet snap(im.obs_dim, im.spec.action_space, cfg_.network, cfg_.algo == Algo::ppo);
    copy_parameters(snap, policy_);
    snap->to(im.device);
    snap->eval();
    im.snapshot_cache.insert_or_assign(path, snap);
  }
  im.pool.push_back(path);
  while (static_cast<int>(im.pool.size()) > cfg_.opponents.pool_size) {
    im.snapshot_cache.erase(im.pool.front());
    std::error_code ec;
    if (is_main()) fs::remove(im.pool.front(), ec);
    im.pool.erase(im.pool.begin());
  }
}

UpdateStats Trainer::update() {
  auto& im = *impl_;
  const auto t0 = std::chrono::steady_clock::now();
  const auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  const double kick = cfg_.kickstart.weight(samples_);
  auto opponents = choose_opponents();
  const auto seeds = start_games();
  Seating seats = seat_opponents(std::move(opponents), seeds, kick);
  const Rollout ro = collect(seats, kick);
  const double collect_s = since(t0);
  if (cfg_.grpo.start == GroupStart::carry)
    for (int g = 0; g < cfg_.grpo.groups; ++g) {
      auto& snap = im.carry[static_cast<size_t>(g)];
      snap.clear();
      if (!ro.done[static_cast<size_t>(g * cfg_.grpo.group_size)]) im.vec->env(g * cfg_.grpo.group_size).save_state(snap);
    }
  check_rollout(ro);

  UpdateStats st;
  const bool finite = policy_outputs_finite(ro);
  const Scores sc = score_games(ro, seats, st);
  const Batch batch = make_batch(ro, sc.returns, finite, kick);
  if (cfg_.optim.anneal == Anneal::linear) set_learning_rates();  // from the steps before this update
  samples_ += static_cast<int64_t>(batch.job_steps);
  const Steps steps = optimize(batch, finite, kick, st);
  gather_stats(sc, steps, st);
  st.kickstart = kick;

  ++update_;
  update_league();
  st.update = update_;
  st.samples = samples_;
  st.learner_elo = im.rating("learner");
  const double secs = since(t0);
  st.sps = secs > 0 ? batch.job_steps / secs : 0;
  st.env_s = ro.env_s;
  st.rollout_s = collect_s - ro.env_s;
  st.optim_s = steps.optim_s;
  st.learn_s = secs - collect_s - steps.optim_s;
  st.elapsed_s = elapsed_before_s_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - im.start).count();
  return st;
}

EvalResult Trainer::evaluate(int matches, const std::string& opponent, int replays, const std::string& replay_prefix) {
  auto& im = *impl_;
  EvalResult res;
  auto env = make_env(cfg_.env, im.eval_game);
  PolicyAgent learner(policy_, /*greedy=*/true, "learner");
  learner.hold_ticks(static_cast<int>(decision_every()));  // decide as in training, also in a rules game
  auto opp = make_agent(opponent, cfg_.env);
  torch::NoGradGuard no_grad;
  policy_->eval();
  // Several ranks split the matches (same seeds and sides as one process would play);
  // rank 0 plays the first ones and records their replays.
  const int first = static_cast<int>(static_cast<int64_t>(matches) * rank() / world_size());
  const int last = static_cast<int>(static_cast<int64_t>(matches) * (rank() + 1) / world_size());
  for (int m = first; m < last; ++m) {
    const int side = m % std::max(1, im.spec.num_teams);
    std::vector<Agent*> agents(static_cast<size_t>(im.spec.num_teams), opp.get());
    agents[static_cast<size_t>(side)] = &learner;
    std::unique_ptr<ReplayWriter> writer;
    if (m < replays && !replay_prefix.empty() && is_main()) {
      ReplayHeader h;
      h.env_name = cfg_.env;
      h.env_options_yaml = im.eval_game_yaml;
      h.seed = 1000000 + static_cast<uint64_t>(m);
      for (int t = 0; t < im.spec.num_teams; ++t) h.agents.push_back(t == side ? "learner" : opponent);
      h.ludus_version = version();
      h.created_utc = utc_now();
      h.tick_rate_hz = im.spec.tick_rate_hz;
      const auto path = fmt::format("{}_m{}.rpl", replay_prefix, m);
      fs::create_directories(fs::path(path).parent_path());
      writer = std::make_unique<ReplayWriter>(path, h);
    }
    MatchOptions mo;
    mo.seed = 1000000 + static_cast<uint64_t>(m);  // fixed evaluation seeds, distinct from training
    mo.replay = writer.get();
    const MatchResult r = run_match(*env, agents, mo);
    if (r.winner == side) ++res.wins;
    else if (r.winner < 0) ++res.draws;
    else ++res.losses;
  }
  policy_->train();
  if (distributed()) {
    std::vector<double> v{static_cast<double>(res.wins), static_cast<double>(res.draws), static_cast<double>(res.losses)};
    dist_->all_reduce_sum(v, "gathering evaluation results");
    res.wins = static_cast<int>(v[0]);
    res.draws = static_cast<int>(v[1]);
    res.losses = static_cast<int>(v[2]);
  }
  return res;
}

void Trainer::write_metrics(const UpdateStats& s) {
  // metrics.csv and TensorBoard (`tensorboard --logdir RUN_DIR/tb`, x axis = agent-steps)
  // from the one list, kMetrics.
  std::string row;
  bool first = true;
  std::vector<std::pair<std::string, float>> tb;
  for (const auto& m : kMetrics) {
    const bool have = !m.eval || s.evaluated;
    const double x = have ? m.get(s) : 0.0;
    if (m.csv) {
      if (!first) row += ',';
      first = false;
      if (have) row += fmt::format(fmt::runtime(m.format), x);
    }
    if (m.tb && have) tb.emplace_back(m.tb, static_cast<float>(x));
  }
  std::ofstream(fs::path(run_dir_) / "metrics.csv", std::ios::app) << row << "\n";
  auto& im = *impl_;
  if (!im.tb) im.tb = std::make_unique<TensorBoardWriter>((fs::path(run_dir_) / "tb").string());
  im.tb->scalars(s.samples, tb);
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
    if (distributed()) im.rank_rngs = dist_->all_gather(im.rng.state(), "gathering random states for a checkpoint");
    if (!is_main()) return;
    save((ckpt_dir / checkpoint_name(update_)).string());
    auto all = checkpoints_in(ckpt_dir);
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
    if (distributed()) {
      // Ranks stop together: the time budget follows the slowest rank's clock.
      std::vector<double> e{s.elapsed_s};
      dist_->all_reduce_max(e, "agreeing on the elapsed time");
      s.elapsed_s = e[0];
    }
    const bool final_update = !budget_left(s);
    if ((cfg_.eval.every > 0 && s.update % cfg_.eval.every == 0) || final_update) {
      s.eval = evaluate(cfg_.eval.matches, cfg_.eval.opponent, cfg_.eval.replays,
                        (fs::path(run_dir_) / "replays" / fmt::format("eval_u{:07d}", s.update)).string());
      s.evaluated = true;
    }
    if (is_main()) write_metrics(s);
    if (s.update % cfg_.checkpoint_every == 0 || final_update) checkpoint(s);
    last = s;
    bool stop = on_update && !on_update(s);
    if (distributed()) {
      std::vector<double> v{stop ? 1.0 : 0.0};
      dist_->all_reduce_max(v, "agreeing whether to stop");
      stop = v[0] > 0;
    }
    if (stop) {
      checkpoint(s);
      break;
    }
  }
}

}  // namespace ludus::rl
