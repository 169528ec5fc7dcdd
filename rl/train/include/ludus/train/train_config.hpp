// The training configuration: every knob of `ludus train`, with defaults and ranges.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "ludus/engine/config.hpp"
#include "ludus/rl/network_options.hpp"

namespace ludus::rl {

// The config's choices as enums (names[i] is enumerator i; enum_name() gives it back).
enum class Algo { grpo, ppo };
inline constexpr std::string_view kAlgoNames[] = {"grpo", "ppo"};
enum class DeviceChoice { auto_, cpu, cuda };
inline constexpr std::string_view kDeviceNames[] = {"auto", "cpu", "cuda"};
enum class OptimizerChoice { muon, adamw };
inline constexpr std::string_view kOptimizerNames[] = {"muon", "adamw"};
enum class Anneal { none, linear };
inline constexpr std::string_view kAnnealNames[] = {"none", "linear"};
enum class GroupStart { reset, branch, carry };
inline constexpr std::string_view kGroupStartNames[] = {"reset", "branch", "carry"};
enum class Baseline { rollout, step };
inline constexpr std::string_view kBaselineNames[] = {"rollout", "step"};

struct OptimConfig {
  OptimizerChoice optimizer =
      OptimizerChoice::muon;  // muon: Muon on hidden matrices + AdamW on the rest; adamw: AdamW on all
  double lr = 0.02;           // Muon's learning rate
  double adam_lr = 3e-4;      // AdamW's learning rate
  double weight_decay = 0.0;
  double momentum = 0.95;
  std::string schedule = "keller";
  std::string scaling = "original";
  double max_grad_norm = 1.0;
  Anneal anneal = Anneal::none;  // linear: both learning rates fall linearly with agent-steps
  double anneal_to = 0.0;        // linear: the fraction of the learning rates left at total_steps

  void visit(OptionVisitor& v) {
    static constexpr std::string_view kSched[] = {"keller", "quintic5", "polar_express", "you6"};
    static constexpr std::string_view kScale[] = {"original", "moonlight", "none"};
    v.value("optimizer", optimizer, kOptimizerNames,
            "muon (hidden matrices; AdamW for the rest) or adamw (everything)");
    v.value("lr", lr, 1e-6, 10.0, "Muon learning rate");
    v.value("adam_lr", adam_lr, 1e-7, 1.0, "AdamW learning rate");
    v.value("weight_decay", weight_decay, 0.0, 1.0, "decoupled weight decay");
    v.value("momentum", momentum, 0.0, 0.9999, "Muon momentum");
    v.value("schedule", schedule, kSched, "Newton-Schulz coefficient schedule");
    v.value("scaling", scaling, kScale, "Muon update scaling");
    v.value("max_grad_norm", max_grad_norm, 0.0, 1e6, "gradient clipping (0: off)");
    v.value("anneal", anneal, kAnnealNames,
            "learning-rate schedule over agent-steps: none, or linear from lr / adam_lr at step 0 to anneal_to x "
            "them at total_steps (by steps, not time, so a run and its resume take the same steps)");
    v.value("anneal_to", anneal_to, 0.0, 1.0, "linear: fraction of the learning rates left at total_steps");
  }
};

struct GrpoConfig {
  int groups = 8;                        // groups per update
  int group_size = 8;                    // rollouts per group (same start state)
  GroupStart start = GroupStart::reset;  // reset: same reset seed; branch: restored from one mid-game state;
                                         // carry: every member continues where the group's first rollout stopped
  int branch_max_ticks = 200;            // branch: the shared prefix is 0..this many random-action ticks
  std::string advantage = "std";
  Baseline baseline = Baseline::rollout;  // rollout: one advantage per rollout; step: group return-to-go per step
  double gamma = 1.0;                     // step baseline: discount of the return-to-go, per decision
  bool seat_baseline = false;             // team games: one baseline per group and seat (robot 0, 1, ...)
  bool batch_scale = false;               // divide the advantages by their RMS over the batch
  bool length_norm = false;               // true: GRPO's per-rollout 1/|o_i|; false: per-sample mean (Dr. GRPO / DAPO)
  bool drop_degenerate = true;            // drop groups whose rollouts all got the same return
  double clip_low = 0.2, clip_high = 0.28;
  double kl_coef = 0.0;
  int ref_every = 0;  // refresh the KL reference policy every N updates (0: the initial policy)

  void visit(OptionVisitor& v) {
    static constexpr std::string_view kAdv[] = {"std", "mean", "rloo"};
    v.value("groups", groups, 1, 4096, "groups per update");
    v.value("group_size", group_size, 2, 1024, "rollouts per group, sharing one start state");
    v.value("start", start, kGroupStartNames,
            "group start: reset (the same reset seed), branch (restored from a state after a random-action "
            "prefix) or carry (restored from where the group's first rollout stopped in the last update: groups "
            "branch off on-policy mid-game states and play the game on in rollout_ticks pieces; needs rollout_ticks)");
    v.value("branch_max_ticks", branch_max_ticks, 0, 1000000, "branch: longest random-action prefix");
    v.value("advantage", advantage, kAdv, "std (GRPO), mean (Dr. GRPO), rloo (leave-one-out)");
    v.value("baseline", baseline, kBaselineNames,
            "rollout: per-rollout advantage; step: group mean return-to-go per step");
    v.value(
        "gamma", gamma, 0.0, 1.0,
        "baseline step: discount per decision of the return-to-go (1: undiscounted; 0.98 looks ~50 decisions ahead)");
    v.value("seat_baseline", seat_baseline,
            "team games: each seat of the learner's team (its first agent, second, ...) gets its own group "
            "baseline, so the seats' different starts and roles are not taken for good or bad actions");
    v.value("batch_scale", batch_scale,
            "divide advantages by their RMS over the whole batch (one scale per update; keeps relative sizes)");
    v.value("length_norm", length_norm, "average per rollout first (GRPO) instead of per sample");
    v.value("drop_degenerate", drop_degenerate, "skip groups whose returns are all equal");
    v.value("clip_low", clip_low, 0.0, 1.0, "ratio clip below 1");
    v.value("clip_high", clip_high, 0.0, 10.0, "ratio clip above 1 (DAPO: higher)");
    v.value("kl_coef", kl_coef, 0.0, 100.0, "weight of KL(policy || reference)");
    v.value("ref_every", ref_every, 0, 1000000, "refresh the reference every N updates (0: initial policy)");
  }
};

struct PpoConfig {
  double gamma = 0.99, lambda = 0.95, value_coef = 0.5, clip = 0.2;
  void visit(OptionVisitor& v) {
    v.value("gamma", gamma, 0.0, 1.0, "discount");
    v.value("lambda", lambda, 0.0, 1.0, "GAE lambda");
    v.value("value_coef", value_coef, 0.0, 100.0, "value loss weight");
    v.value("clip", clip, 0.0, 1.0, "ratio clip");
  }
};

struct SelfPlayConfig {
  bool enabled = false;
  std::string bots = "random,lazy,greedy";  // scripted opponents (comma-separated)
  double bot_prob = 0.5;                    // with self-play on: chance a group faces a bot instead of a snapshot
  int pool_size = 8;
  int snapshot_every = 10;
  void visit(OptionVisitor& v) {
    v.value("enabled", enabled, "draw opponents from past snapshots of the policy as well as bots");
    v.value("bots", bots, {}, "scripted training opponents, comma-separated (ludus envs lists them)");
    v.value("bot_prob", bot_prob, 0.0, 1.0, "self-play: probability a group faces a bot");
    v.value("pool_size", pool_size, 1, 1000, "self-play: snapshots kept");
    v.value("snapshot_every", snapshot_every, 1, 1000000, "self-play: updates between snapshots");
  }
};

struct EvalConfig {
  int every = 10;
  int matches = 40;
  std::string opponent = "lazy";
  int replays = 1;
  // Game options changed for evaluation only, "key=value" separated by spaces, e.g.
  // "microticks=100 decision_ticks=1 max_ticks=18000" to evaluate at a game's rules
  // after training in a fast mode. The policy keeps its training decision interval.
  std::string set;
  void visit(OptionVisitor& v) {
    v.value("every", every, 0, 1000000, "updates between evaluations (0: only at the end)");
    v.value("matches", matches, 1, 100000, "evaluation matches (sides alternate)");
    v.value("opponent", opponent, {}, "evaluation opponent (a bot name)");
    v.value("replays", replays, 0, 100, "evaluation matches recorded as replays");
    v.value("set", set, {}, "game options for evaluation only: key=value, separated by spaces");
  }
};

// Training-only reward for how a game ended, added to the learner's last decision of
// each finished game (wins and draws as the game's rules decide them, at the end of the
// game or at its tick limit). Zero by default: the game's own reward alone.
struct OutcomeRewardConfig {
  double win = 0, draw = 0, loss = 0;
  void visit(OptionVisitor& v) {
    v.value("win", win, -1e6, 1e6, "added to the learner's reward when it wins a game");
    v.value("draw", draw, -1e6, 1e6, "added when a game is drawn (negative: make waiting out the clock cost)");
    v.value("loss", loss, -1e6, 1e6, "added when it loses a game");
  }
};

// Kickstarting (Schmitt et al. 2018): a scripted teacher is asked what it would do at
// every learner decision of the learner's own rollouts, and the loss gains
// coef x -log pi(teacher's action), falling linearly to zero over `steps` agent-steps.
// The policy starts by imitating the teacher and the game's reward takes over from there.
struct KickstartConfig {
  std::string teacher;  // a scripted agent of the game (empty: off)
  double coef = 1.0;
  int64_t steps = 0;  // agent-steps until the weight reaches zero (0: constant)
  void visit(OptionVisitor& v) {
    v.value("teacher", teacher, {},
            "scripted agent whose actions the policy imitates on its own rollouts (empty: off)");
    v.value("coef", coef, 0.0, 1e6, "weight of the imitation loss -log pi(teacher action) at step 0");
    v.value("steps", steps, 0, INT64_MAX / 4, "agent-steps over which the weight falls linearly to 0 (0: constant)");
  }
  // The weight after `samples` agent-steps.
  double weight(int64_t samples) const {
    if (teacher.empty()) return 0;
    if (steps <= 0) return coef;
    return coef * std::max(0.0, 1.0 - static_cast<double>(samples) / static_cast<double>(steps));
  }
};

// Multi-process runs (WORLD_SIZE > 1 or --nproc); ignored by a single process.
struct DistConfig {
  double timeout_s = 60;        // a rank waits this long for the others in a collective
  double join_timeout_s = 300;  // every rank must have started within this long
  bool same_games = false;      // a check: every rank samples rank 0's games
  void visit(OptionVisitor& v) {
    v.value("timeout_s", timeout_s, 0.1, 86400.0,
            "multi-process: longest wait for another rank (a dead or hung rank fails the job after this)");
    v.value("join_timeout_s", join_timeout_s, 0.1, 86400.0, "multi-process: longest wait for every rank to start");
    v.value("same_games", same_games,
            "multi-process check: every rank plays rank 0's games, so the job trains exactly like one process");
  }
};

struct TrainConfig {
  std::string env = "reach";
  ConfigTree game;
  uint64_t seed = 1;
  Algo algo = Algo::grpo;
  DeviceChoice device = DeviceChoice::auto_;
  int threads = 2;                // env worker threads (the games and their scripted bots)
  int torch_threads = 1;          // torch intra-op threads (learner and rollout forward passes)
  bool overlap = false;           // collect the next update's games while the learner trains on this one's
  int64_t total_steps = 3000000;  // learner agent-steps
  double time_budget_minutes = 0;
  int rollout_ticks = 0;  // 0: whole episodes
  int hold_ticks = 1;     // the learner decides every this many ticks (with the game's interval: their lcm)
  int epochs = 2;
  int minibatches = 4;
  double entropy_coef = 0.01;
  int checkpoint_every = 10;
  int keep_checkpoints = 3;
  int max_bad_updates = 5;
  std::string run_dir;
  std::string init_checkpoint;  // start from this checkpoint's weights (fresh optimizer state)
  std::string init_new_inputs;  // observation columns the init checkpoint lacks ("21-28,37-44"): zero weights
  NetworkOptions network;
  OptimConfig optim;
  GrpoConfig grpo;
  PpoConfig ppo;
  SelfPlayConfig opponents;
  OutcomeRewardConfig outcome_reward;
  KickstartConfig kickstart;
  EvalConfig eval;
  DistConfig dist;

  void visit(OptionVisitor& v) {
    v.value("env", env, {}, "registered game (ludus envs)");
    v.subtree("game", game, "the game's options");
    v.value("seed", seed, "run seed");
    v.value("algo", algo, kAlgoNames, "grpo, or ppo (GAE + value head) as the baseline");
    v.value("device", device, kDeviceNames, "learner device: auto picks cuda when available");
    v.value("threads", threads, 1, 256, "env worker threads: the games and their scripted bots");
    v.value("torch_threads", torch_threads, 1, 256,
            "torch intra-op threads; 1 is measured fastest for the default networks (BENCHMARKS.md)");
    v.value("overlap", overlap,
            "collect the next update's games on a second thread while the learner trains on this update's "
            "(they are played by the policy of one update before; the loss clips around the current policy and "
            "reweights each sample by current / playing policy); checkpoint updates do not overlap, so --resume "
            "stays exact. Fastest with threads: 2 (BENCHMARKS.md)");
    v.value("total_steps", total_steps, 1, INT64_MAX / 4, "learner agent-steps to train for");
    v.value("time_budget_minutes", time_budget_minutes, 0.0, 1e6, "stop after this long (0: no limit)");
    v.value("rollout_ticks", rollout_ticks, 0, 10000000, "ticks per rollout (0: whole episodes)");
    v.value("hold_ticks", hold_ticks, 1, 10000,
            "the learner (and snapshot opponents) decide every this many ticks and hold the action, while the "
            "game and scripted bots go on every tick; decisions fall on multiples of both this and the game's "
            "decision_interval. The checkpoint keeps it: a policy agent plays with the same rhythm");
    v.value("epochs", epochs, 1, 100, "passes over each batch");
    v.value("minibatches", minibatches, 1, 4096, "minibatches per epoch");
    v.value("entropy_coef", entropy_coef, 0.0, 10.0, "entropy bonus");
    v.value("checkpoint_every", checkpoint_every, 1, 1000000, "updates between checkpoints");
    v.value("keep_checkpoints", keep_checkpoints, 1, 1000, "latest checkpoints kept (the best is kept too)");
    v.value("max_bad_updates", max_bad_updates, 1, 1000, "consecutive non-finite updates before stopping");
    v.value("run_dir", run_dir, {}, "output directory (default runs/<env>-<algo>-<optimizer>-seed<seed>)");
    v.value("init_checkpoint", init_checkpoint, {},
            "start from this checkpoint's weights (same game, observation size, actions and network; the optimizer "
            "starts fresh): fine-tune another run's policy");
    v.value("init_new_inputs", init_new_inputs, {},
            "observation columns (0-based, inclusive ranges, e.g. \"21-28,37-44\") that init_checkpoint's network "
            "did not see: its input layers get zero weights for them, so the policy starts as the checkpoint's and "
            "learns to use the new inputs (a 1v1 policy given its teammate's and second opponent's slots)");
    v.section(
        "network", [&](OptionVisitor& s) { network.visit(s); }, "policy network");
    v.section(
        "optim", [&](OptionVisitor& s) { optim.visit(s); }, "optimizer core");
    v.section(
        "grpo", [&](OptionVisitor& s) { grpo.visit(s); }, "GRPO");
    v.section(
        "ppo", [&](OptionVisitor& s) { ppo.visit(s); }, "PPO baseline (algo: ppo)");
    v.section(
        "opponents", [&](OptionVisitor& s) { opponents.visit(s); }, "training opponents and self-play");
    v.section(
        "outcome_reward", [&](OptionVisitor& s) { outcome_reward.visit(s); },
        "training-only reward for a game's result (win, draw, loss)");
    v.section(
        "kickstart", [&](OptionVisitor& s) { kickstart.visit(s); },
        "imitate a scripted teacher on the learner's own rollouts, fading out (kickstarting)");
    v.section(
        "eval", [&](OptionVisitor& s) { eval.visit(s); }, "evaluation against a fixed opponent");
    v.section(
        "dist", [&](OptionVisitor& s) { dist.visit(s); }, "multi-process training (c10d/Gloo)");
  }
};

}  // namespace ludus::rl
