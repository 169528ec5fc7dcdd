// RunDir: the run directory: effective config, metrics.csv + TensorBoard rows from one
// list of metrics, checkpoints (save, restore, resume) and the games carried across updates.
#include "trainer_impl.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ludus/engine/config.hpp"
#include "ludus/engine/version.hpp"
#include "ludus/rl/checkpoint.hpp"
#include "ludus/train/metrics_csv.hpp"

namespace ludus::rl {

namespace fs = std::filesystem;

namespace {

// The one list of per-update metrics: metrics.csv's columns in order (with their format)
// and, where `tb` is set, the TensorBoard tag of the same number. Evaluation columns are
// empty in updates without an evaluation.
struct Metric {
  const char* csv;  // column name; nullptr: TensorBoard only
  const char* tb;   // TensorBoard tag; nullptr: CSV only
  const char* format;
  bool eval;  // only in updates with an evaluation
  double (*get)(const UpdateStats&);
};

double eval_share(const EvalResult& e, int n) {
  return static_cast<double>(n) / std::max(1, e.wins + e.draws + e.losses);
}

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

std::unique_ptr<Trainer> Trainer::create(const TrainConfig& config, std::shared_ptr<dist::Context> dist) {
  std::unique_ptr<Trainer> t(new Trainer(config, std::move(dist)));
  // Rank 0 writes the run directory; every rank learns whether that worked (a world of one
  // gets rank 0's own error).
  std::exception_ptr failed;
  std::string error;
  if (t->is_main()) {
    try {
      t->create_run_dir();
    } catch (const std::exception& e) {
      failed = std::current_exception();
      error = e.what();
    }
  }
  if (t->world_size() == 1 && failed) std::rethrow_exception(failed);
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
  for (const auto& ckpt : trainer_detail::checkpoints_in(fs::path(run_dir) / "checkpoints")) {
    try {
      t->restore(ckpt.string());
      if (!problems.empty() && t->is_main())
        fmt::print(stderr, "ludus: warning: skipped unreadable checkpoints:{}\n", problems);
      // Every rank reads the run directory itself: they must have found the same state.
      std::vector<double> v{static_cast<double>(t->update_), -static_cast<double>(t->update_)};
      t->dist_->all_reduce_max(v, "comparing the resumed checkpoints");
      if (v[0] != -v[1])
        throw dist::DistError(fmt::format(
            "rank {}: the ranks resumed from different checkpoints (updates {} to {}); every rank must see the "
            "same run directory {} (a shared filesystem, or a copy)",
            t->rank(), -v[1], v[0], run_dir));
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
  trainer_detail::copy_parameters(policy_, ckpt.net);
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
      im.rng.seed(
          (cfg_.seed * 0x9E3779B97F4A7C15ull + 17 + static_cast<uint64_t>(stream_rank()) * 0xD1B54A32D192ED03ull) ^
          (static_cast<uint64_t>(update_) * 0xA0761D6478BD642Full));
    }
  }
  if (cfg_.grpo.start == GroupStart::carry) restore_carry(extra, path);
  im.best_eval = ckpt.meta.best_eval;
  im.ratings.clear();
  for (const auto& [n, r] : ckpt.meta.ratings) im.ratings[n] = r;
  im.pool = ckpt.meta.pool;

  if (!is_main()) return;
  // Metrics after the checkpoint are recomputed: drop them (and lines that cannot be read).
  const auto metrics = fs::path(run_dir_) / "metrics.csv";
  std::string text;
  {
    std::ifstream in(metrics, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto kept = metrics_through_update(text, update_);
  if (!kept.unreadable.empty())
    fmt::print(stderr, "ludus: warning: {}: dropped {} line(s) with no update number (first: line {})\n",
               metrics.string(), kept.unreadable.size(), kept.unreadable.front());
  std::ofstream(metrics, std::ios::trunc | std::ios::binary) << kept.text;
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

}  // namespace ludus::rl
