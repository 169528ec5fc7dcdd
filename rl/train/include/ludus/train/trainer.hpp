// The trainer: batched rollouts on a VecEnv, GRPO (or PPO) updates on the optimizer core,
// opponents from bots and self-play snapshots, evaluation, checkpoints and metrics.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ludus/engine/vec_env.hpp"
#include "ludus/rl/policy.hpp"
#include "ludus/train/train_config.hpp"

namespace ludus {
class Rng;
}

namespace ludus::rl {

struct CheckpointMeta;
namespace dist {
class Context;
}

// Training cannot go on (repeated non-finite updates, a game that breaks its contract).
class TrainingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct EvalResult {
  int wins = 0, draws = 0, losses = 0;
  double win_rate() const;
  // Wilson 95% interval of the win rate.
  double low() const;
  double high() const;
};

struct UpdateStats {
  int64_t update = 0;
  int64_t samples = 0;  // learner agent-steps so far
  double elapsed_s = 0;
  double sps = 0;  // learner agent-steps per second in this update
  double mean_return = 0;
  double train_win = 0, train_draw = 0;
  double loss = 0, entropy = 0, kl = 0, clip_frac = 0, grad_norm = 0;
  int skipped = 0;  // minibatches skipped for a non-finite loss or gradient
  double learner_elo = 0;
  // Kickstarting: the imitation weight of this update and the mean -log pi(teacher action).
  double kickstart = 0, teacher_nll = 0;
  // Where this update's wall time went, in seconds: stepping the games (scripted bots
  // included), the rollout's policy forward passes and bookkeeping, the learner's loss
  // forward and backward passes (advantages included), and the optimizer steps. With
  // `overlap`, env_s and rollout_s are of the games this update learned from, played beside
  // the learner during the update before, and learn_s is the learner's own time.
  double env_s = 0, rollout_s = 0, learn_s = 0, optim_s = 0;
  bool evaluated = false;
  EvalResult eval;
};

// With a multi-process `dist` context (world size > 1), every rank constructs a Trainer
// and calls the same methods in the same order: each rank runs grpo.groups groups of its
// own envs (seeds offset by rank), gradients are averaged over all ranks before every
// optimizer step, so parameters and optimizer state stay identical on every rank.
// Rank 0 alone writes the run directory (config, metrics, checkpoints, replays,
// self-play snapshots); evaluation matches are split over the ranks.
class Trainer {
 public:
  // A fresh run: creates the run directory and writes its effective config.
  static std::unique_ptr<Trainer> create(const TrainConfig& config, std::shared_ptr<dist::Context> dist = nullptr);
  // Continues the run in `run_dir` from its latest readable checkpoint (any world size;
  // every rank reads run_dir).
  static std::unique_ptr<Trainer> resume(const std::string& run_dir, std::shared_ptr<dist::Context> dist = nullptr);
  // Builds everything a run needs (envs, opponents, network, optimizer) without a run
  // directory and says what it built; throws the error a run would (ConfigError, ...).
  static std::string check(const TrainConfig& config);
  // The effective config of the run in `run_dir`.
  static TrainConfig run_config(const std::string& run_dir);
  ~Trainer();

  // Trains until total_steps or the time budget; `on_update` (optional) sees each update
  // and may return false to stop early. Writes checkpoints, metrics and a final evaluation.
  void train(const std::function<bool(const UpdateStats&)>& on_update = {});
  // One collection + optimization step (no checkpoint, no evaluation).
  UpdateStats update();
  EvalResult evaluate(int matches, const std::string& opponent, int replays, const std::string& replay_prefix);
  void save(const std::string& path);

  const std::string& run_dir() const { return run_dir_; }
  const TrainConfig& config() const { return cfg_; }
  PolicyNet policy() const { return policy_; }
  int64_t updates_done() const { return update_; }
  int64_t samples_done() const { return samples_; }  // over all ranks
  // Ticks between the learner's decisions: lcm of the game's decision_interval and hold_ticks.
  int64_t decision_every() const;
  // The learner's rows (env x num_agents + agent, group by group) and the GRPO baseline
  // group of each: its group, or with grpo.seat_baseline its group and seat.
  std::vector<int64_t> learner_rows() const;
  std::vector<int64_t> baseline_groups() const;
  int rank() const;
  int world_size() const;
  bool is_main() const { return rank() == 0; }
  // The learning rates the last optimizer step used: {Muon's, AdamW's} (0 when that
  // optimizer holds no parameter).
  std::pair<double, double> learning_rates() const;
  // Routing of parameters to Muon/AdamW, as a table.
  std::string routing_table() const;

 private:
  struct Impl;
  Trainer(const TrainConfig& config, std::shared_ptr<dist::Context> dist);
  // Whose sampler stream this rank follows: its own, or rank 0's (dist.same_games).
  int stream_rank() const;
  void create_run_dir() const;
  void seat_learners();
  void make_optimizer();
  void restore(const std::string& checkpoint_path);
  // init_checkpoint: the policy's weights from another run's checkpoint (checked to fit).
  void init_from(const std::string& checkpoint_path);
  // grpo.start carry: the games in progress at the checkpoint (rank 0's; other ranks start afresh).
  void restore_carry(torch::serialize::InputArchive& extra, const std::string& path);
  // optim.anneal linear: both learning rates for the current agent-step count.
  void set_learning_rates();
  void write_metrics(const UpdateStats& s);

  // The parts of update(), in order (trainer.cpp describes each).
  struct Seating;
  struct Rollout;
  struct Scores;
  struct Batch;
  struct MinibatchTerms;
  struct Steps;
  std::vector<std::string> choose_opponents();
  std::vector<uint64_t> start_games();
  void branch_group(int group, uint64_t seed);
  Seating seat_opponents(std::vector<std::string> group_opponent, const std::vector<uint64_t>& seeds, double kick);
  struct Collection;
  // The league's draws and the games' starts of one collection (the trainer's thread).
  Collection prepare_collection();
  // Plays a prepared collection with `net` and `rng` (on the collector thread with `overlap`).
  void run_collection(Collection& c, PolicyNet& net, Rng& rng);
  Rollout collect(Seating& seats, double kick, PolicyNet& net, Rng& rng);
  void act_learner(int64_t t, Rollout& ro, Seating& seats, double kick, PolicyNet& net, Rng& rng);
  void act_opponent_nets(Seating& seats, const PolicyNet& net, Rng& rng);
  void play_decision(int64_t t, int64_t ticks, Rollout& ro, Seating& seats, PolicyNet& net);
  void check_rollout(const Rollout& ro) const;
  bool policy_outputs_finite(const Rollout& ro);
  Scores score_games(const Rollout& ro, const Seating& seats, UpdateStats& st);
  void advantages(const Rollout& ro, const torch::Tensor& returns, double kick, torch::Tensor& adv,
                  torch::Tensor& weight, torch::Tensor& ret_target);
  Batch make_batch(const Rollout& ro, const torch::Tensor& returns, bool policy_finite, double kick);
  torch::Tensor minibatch_loss(const Batch& b, const torch::Tensor& sel, double kick, MinibatchTerms& m);
  Steps optimize(const Batch& b, bool policy_finite, double kick, UpdateStats& st);
  void warn_non_finite_step(int epoch, int minibatch, double loss, double grad_norm) const;
  void gather_stats(const Scores& sc, const Steps& steps, UpdateStats& st);
  void update_league();
  [[noreturn]] void throw_bad_updates() const;
  // What a checkpoint of the current policy says about it (game, shapes, network).
  CheckpointMeta policy_meta() const;

  TrainConfig cfg_;
  std::shared_ptr<dist::Context> dist_;  // never null: a world of one (collectives are no-ops) without a job
  std::string run_dir_;
  PolicyNet policy_{nullptr};
  int64_t update_ = 0, samples_ = 0;
  double elapsed_before_s_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ludus::rl
