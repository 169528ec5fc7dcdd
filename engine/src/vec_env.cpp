// VecEnv stepping and auto-reset.
#include "ludus/engine/vec_env.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>
#include <string>

namespace ludus {

VecEnv::VecEnv(std::vector<std::unique_ptr<Env>> envs, int num_threads) : envs_(std::move(envs)), pool_(num_threads) {
  if (envs_.empty()) throw std::invalid_argument("VecEnv needs at least one env");
  const EnvSpec& s = envs_.front()->spec();
  for (const auto& e : envs_)
    if (e->spec().name != s.name || e->spec().obs_dim() != s.obs_dim() || e->spec().num_agents != s.num_agents ||
        e->spec().action_dim() != s.action_dim())
      throw std::invalid_argument("VecEnv envs must share one spec");
  agents_ = s.num_agents;
  obs_stride_ = agents_ * s.obs_dim();
  act_stride_ = agents_ * s.action_dim();
  const auto n = envs_.size();
  actions_.assign(n * static_cast<size_t>(act_stride_), 0.0f);
  obs_.assign(n * static_cast<size_t>(obs_stride_), 0.0f);
  final_obs_.assign(obs_.size(), 0.0f);
  rewards_.assign(n * static_cast<size_t>(agents_), 0.0f);
  terminated_.assign(n, 0);
  truncated_.assign(n, 0);
  episode_.assign(n, 0);
  finished_.assign(n, MatchResult{});
  base_seed_.assign(n, 0);
  reset_rewards_.assign(rewards_.size(), 0.0f);
  ticks_.assign(n, 0);
  reset_flags_.assign(2 * n, 0);
}

StepView VecEnv::view(size_t i, float* obs) {
  return StepView{obs, rewards_.data() + i * static_cast<size_t>(agents_), &terminated_[i], &truncated_[i]};
}

void VecEnv::reset(uint64_t seed) {
  std::vector<uint64_t> seeds(envs_.size());
  for (size_t i = 0; i < seeds.size(); ++i) seeds[i] = seed + i;
  reset_each(seeds);
}

void VecEnv::reset_each(const std::vector<uint64_t>& seeds) {
  if (seeds.size() != envs_.size())
    throw std::invalid_argument("reset_each needs one seed per env: got " + std::to_string(seeds.size()) + " for " +
                                std::to_string(envs_.size()) + " envs");
  base_seed_ = seeds;
  std::fill(episode_.begin(), episode_.end(), 0);
  pool_.parallel_for(num_envs(), [&](int64_t i) {
    const auto u = static_cast<size_t>(i);
    envs_[u]->reset(seeds[u], view(u, obs_.data() + u * static_cast<size_t>(obs_stride_)));
  });
}

void VecEnv::observe(int i) {
  const auto u = static_cast<size_t>(i);
  envs_[u]->observe(obs_.data() + u * static_cast<size_t>(obs_stride_));
}

bool VecEnv::step_one(size_t u, const StepView& v) {
  float* obs = v.obs;
  envs_[u]->step(actions_.data() + u * static_cast<size_t>(act_stride_), v);
  if (!*v.terminated && !*v.truncated) return false;
  std::copy(obs, obs + obs_stride_, final_obs_.data() + u * static_cast<size_t>(obs_stride_));
  const int64_t k = ++episode_[u];
  finished_[u] = envs_[u]->result();
  // The reset writes its (zero) rewards and flags to scratch: the caller must still
  // see the finished step's rewards and end flags.
  StepView fresh{obs, reset_rewards_.data() + u * static_cast<size_t>(agents_), &reset_flags_[2 * u],
                 &reset_flags_[2 * u + 1]};
  envs_[u]->reset(base_seed_[u] + static_cast<uint64_t>(k) * envs_.size(), fresh);
  return true;
}

void VecEnv::step() {
  pool_.parallel_for(num_envs(), [&](int64_t i) {
    const auto u = static_cast<size_t>(i);
    step_one(u, view(u, obs_.data() + u * static_cast<size_t>(obs_stride_)));
  });
}

int64_t VecEnv::step_to_decision(const BeforeTick& before_tick) {
  return step_many(std::numeric_limits<int64_t>::max(), std::max(1, spec().decision_interval), before_tick, nullptr);
}

int64_t VecEnv::step_ticks(int64_t ticks, const BeforeTick& before_tick, const uint8_t* skip) {
  if (ticks < 1)
    throw std::invalid_argument("VecEnv::step_ticks: ticks must be at least 1, got " + std::to_string(ticks));
  return step_many(ticks, 0, before_tick, skip);
}

int64_t VecEnv::step_many(int64_t max_ticks, int interval, const BeforeTick& before_tick, const uint8_t* skip) {
  pool_.parallel_for(num_envs(), [&](int64_t i) {
    const auto u = static_cast<size_t>(i);
    float* shared = rewards_.data() + u * static_cast<size_t>(agents_);
    if (skip && skip[u]) {
      std::fill(shared, shared + agents_, 0.0f);
      terminated_[u] = truncated_[u] = 0;
      ticks_[u] = 0;
      return;
    }
    // The env writes each tick's rewards and end flags to this thread's stack, and the
    // shared arrays get the sums and the last flags once, at the end: neighbouring envs'
    // slots share cache lines, and a write per tick from both threads sent those lines back
    // and forth between the cores. The scratch starts as the shared slots stand, so an env
    // sees exactly what it saw when it wrote there.
    constexpr int64_t kOnStack = 32;
    std::array<float, 2 * kOnStack> stack{};
    std::vector<float> heap;
    float* reward = agents_ <= kOnStack ? stack.data() : (heap.resize(2 * static_cast<size_t>(agents_)), heap.data());
    float* sum = reward + agents_;
    std::copy(shared, shared + agents_, reward);
    std::fill(sum, sum + agents_, 0.0f);
    uint8_t terminated = terminated_[u], truncated = truncated_[u];
    const StepView v{obs_.data() + u * static_cast<size_t>(obs_stride_), reward, &terminated, &truncated};
    int64_t t = 0;
    for (;;) {
      if (before_tick)
        before_tick(static_cast<int>(i), static_cast<int>(t), actions_.data() + u * static_cast<size_t>(act_stride_));
      const bool ended = step_one(u, v);
      ++t;
      for (int64_t a = 0; a < agents_; ++a) sum[a] += reward[a];
      if (ended || t >= max_ticks || (interval > 0 && envs_[u]->tick() % interval == 0)) break;
    }
    std::copy(sum, sum + agents_, shared);
    terminated_[u] = terminated;
    truncated_[u] = truncated;
    ticks_[u] = t;
  });
  int64_t total = 0;
  for (int64_t t : ticks_) total += t;
  return total;
}

}  // namespace ludus
