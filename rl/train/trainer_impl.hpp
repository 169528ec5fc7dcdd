// Private to the trainer's parts (trainer, run_dir, league, rollouts, learner .cpp): the
// state that depends on the game and the device, and the structs passed between the parts
// of one update.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ludus/engine/agent.hpp"
#include "ludus/engine/rng.hpp"
#include "ludus/engine/vec_env.hpp"
#include "ludus/rl/dist.hpp"
#include "ludus/rl/optim/hybrid.hpp"
#include "ludus/train/tb_events.hpp"
#include "ludus/train/trainer.hpp"

namespace ludus::rl {

namespace trainer_detail {

constexpr double kEloK = 16.0;
constexpr double kEloStart = 1000.0;

inline void copy_parameters(PolicyNet& dst, const PolicyNet& src) {
  torch::NoGradGuard no_grad;
  const auto s = src->named_parameters();
  for (auto& p : dst->named_parameters()) p.value().copy_(*s.find(p.key()));
}

inline std::string checkpoint_name(int64_t update) { return fmt::format("ckpt_{:07d}.pt", update); }

// Checkpoint files in `dir`, newest first.
inline std::vector<std::filesystem::path> checkpoints_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("ckpt_", 0) == 0 && e.path().extension() == ".pt") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

}  // namespace trainer_detail

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
  int64_t baseline_groups = 0;  // number of groups in row_group_t (x seats with grpo.seat_baseline)
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
  // overlap: the network the collector thread plays with (the policy of the update before)
  // and the collection played during the last update, for the next one to learn from.
  PolicyNet actor{nullptr};
  std::unique_ptr<Collection> pending;
  double last_job_steps = 0;  // the last update's agent-steps (every rank's)

  // Every agent's current observation, [num_envs * num_agents, obs_dim], viewing the VecEnv's buffer.
  torch::Tensor obs_view() const {
    return torch::from_blob(const_cast<float*>(vec->obs()), {static_cast<int64_t>(num_envs) * spec.num_agents, obs_dim},
                            torch::TensorOptions().dtype(torch::kFloat));
  }

  double& rating(const std::string& name) {
    auto it = ratings.find(name);
    if (it == ratings.end()) it = ratings.emplace(name, trainer_detail::kEloStart).first;
    return it->second;
  }

  void record_match(const std::string& opponent, double score) {
    double& rl = rating("learner");
    double& ro = rating(opponent);
    const double expected = 1.0 / (1.0 + std::pow(10.0, (ro - rl) / 400.0));
    rl += trainer_detail::kEloK * (score - expected);
    ro -= trainer_detail::kEloK * (score - expected);
  }
};

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
  int64_t steps = 0;          // decisions played
  int64_t tick = 0;           // ticks played
  double env_s = 0;           // seconds spent stepping the games
};

// One update's games, from the league's draws to the played rollout.
struct Trainer::Collection {
  Seating seats;
  Rollout ro;
  double kick = 0;    // kickstart weight when it was prepared
  double wall_s = 0;  // seconds spent playing it
};

// The learner's samples: every decision with a weight, flattened, on the device.
struct Trainer::Batch {
  torch::Tensor obs, act, old_logp, ref_logp, adv, weight, ret, teach;
  // overlap: the games were played by the policy of the update before. The clip is taken
  // around the policy at the start of this update (prox_logp), and each sample is
  // reweighted by prox / behaviour (behaviour_w, truncated at 2): the decoupled objective
  // of Hilton et al. 2021 (batch size-invariance for policy optimization).
  torch::Tensor prox_logp, behaviour_w;
  int64_t size = 0;      // this rank's samples
  int64_t job_size = 0;  // every rank's
  double job_steps = 0;  // every rank's live decisions (agent-steps)
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
  double optim_s = 0;    // seconds in the optimizer's steps
  int with_samples = 0;  // steps in which this rank had samples
};

}  // namespace ludus::rl
