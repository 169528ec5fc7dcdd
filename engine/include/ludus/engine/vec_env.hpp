// VecEnv: N envs stepped by a thread pool into one contiguous batch.
#pragma once

#include <cstdint>
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

  std::vector<std::unique_ptr<Env>> envs_;
  ThreadPool pool_;
  int64_t obs_stride_ = 0, act_stride_ = 0, agents_ = 0;
  std::vector<uint64_t> base_seed_;
  std::vector<float> actions_, obs_, final_obs_, rewards_;
  std::vector<uint8_t> terminated_, truncated_;
  std::vector<int64_t> episode_;
  std::vector<MatchResult> finished_;
  std::vector<float> reset_rewards_;
  std::vector<uint8_t> reset_flags_;
};

}  // namespace ludus
