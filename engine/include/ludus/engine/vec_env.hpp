// VecEnv: N envs stepped by a thread pool into one contiguous batch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "ludus/engine/env.hpp"
#include "ludus/engine/thread_pool.hpp"

namespace ludus {

// Batch layout (row-major, all contiguous):
//   actions    [num_envs, num_agents, action_dim]  (written by the caller)
//   obs        [num_envs, num_agents, obs_dim]
//   rewards    [num_envs, num_agents]
//   terminated [num_envs], truncated [num_envs]
//   final_obs  [num_envs, num_agents, obs_dim]: for an env that ended this step, the
//              last observation of the finished episode (obs already holds the new one).
//
// Auto-reset: an env that terminates or truncates is reset in the same step. Episode k
// (k = 0, 1, ...) of env i is seeded with seed + i + k * num_envs, so results do not
// depend on the thread count.
class VecEnv {
 public:
  VecEnv(std::vector<std::unique_ptr<Env>> envs, int num_threads);

  const EnvSpec& spec() const { return envs_.front()->spec(); }
  int num_envs() const { return static_cast<int>(envs_.size()); }
  int num_threads() const { return pool_.num_threads(); }
  Env& env(int i) { return *envs_[static_cast<size_t>(i)]; }

  void reset(uint64_t seed);
  // Resets env i with seeds[i] (e.g. a GRPO group shares one seed); later auto-resets of
  // env i use seeds[i] + k * num_envs.
  void reset_each(const std::vector<uint64_t>& seeds);
  void step();
  // Steps every env to its next decision tick (a multiple of the spec's decision_interval)
  // or the end of its episode, holding its actions: one task per env for all those ticks,
  // not one pool pass per tick. rewards() then holds each agent's reward summed over the
  // ticks; flags, final_obs and auto-reset are as in step(), and the trajectory is the one
  // step() gives with the same actions held. before_tick, when set, runs before each tick
  // of env i on that env's worker thread, with the tick's index in this call (0, 1, ...)
  // and env i's action row, e.g. for a scripted opponent to write its agents' actions.
  // Returns the ticks stepped over all envs. With decision_interval 1 it is step().
  using BeforeTick = std::function<void(int env, int tick_in_call, float* actions)>;
  int64_t step_to_decision(const BeforeTick& before_tick = {});
  // The same for a fixed count: every env steps `ticks` ticks (>= 1), or fewer when its
  // episode ends first. skip, when given, holds num_envs() flags: a flagged env is not
  // stepped (its rewards are 0 and its flags false), e.g. a rollout's finished games.
  int64_t step_ticks(int64_t ticks, const BeforeTick& before_tick = {}, const uint8_t* skip = nullptr);
  // Rewrites env i's rows of obs() from its current state (after env(i).load_state()).
  void observe(int i);

  float* actions() { return actions_.data(); }
  const float* obs() const { return obs_.data(); }
  const float* final_obs() const { return final_obs_.data(); }
  const float* rewards() const { return rewards_.data(); }
  const uint8_t* terminated() const { return terminated_.data(); }
  const uint8_t* truncated() const { return truncated_.data(); }
  // Episodes finished so far by env i.
  int64_t episodes(int i) const { return episode_[static_cast<size_t>(i)]; }
  // The result of env i's last finished episode (taken just before its auto-reset).
  const MatchResult& finished_result(int i) const { return finished_[static_cast<size_t>(i)]; }

 private:
  StepView view(size_t i, float* obs);
  // One tick of env u, its rewards and end flags written to `v`; auto-resets it when the
  // episode ends. Returns whether it ended.
  bool step_one(size_t u, const StepView& v);
  // Each env not skipped steps until its episode ends, `max_ticks` ticks have passed or
  // its tick is a multiple of `interval`; rewards summed. Returns the ticks stepped.
  int64_t step_many(int64_t max_ticks, int interval, const BeforeTick& before_tick, const uint8_t* skip);

  std::vector<std::unique_ptr<Env>> envs_;
  ThreadPool pool_;
  int64_t obs_stride_ = 0, act_stride_ = 0, agents_ = 0;
  std::vector<uint64_t> base_seed_;
  std::vector<float> actions_, obs_, final_obs_, rewards_;
  std::vector<uint8_t> terminated_, truncated_;
  std::vector<int64_t> episode_;
  std::vector<MatchResult> finished_;
  std::vector<float> reset_rewards_;
  std::vector<int64_t> ticks_;
  std::vector<uint8_t> reset_flags_;
};

}  // namespace ludus
