// GRPO and PPO arithmetic: group-relative advantages, GAE, the clipped surrogate, KL.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace ludus::rl {

// How a rollout's reward is compared with its group:
//   std:  (r - mean) / (std + 1e-6)   (DeepSeekMath GRPO; population std)
//   mean: r - mean                    (Dr. GRPO: keeps the reward's magnitude)
//   rloo: r - mean of the others      (leave-one-out)
enum class AdvantageKind { std_norm, mean, rloo };
AdvantageKind parse_advantage(const std::string& name);

// returns [R], group [R] (int64 group ids in [0, num_groups)). Returns advantages [R].
// If `keep` is given it receives a bool mask [R]: false for rollouts whose group has
// all-equal returns (they carry no signal; drop_degenerate uses it).
torch::Tensor group_advantages(const torch::Tensor& returns, const torch::Tensor& group, int64_t num_groups,
                               AdvantageKind kind, torch::Tensor* keep = nullptr);

// Per-step variant: return-to-go [T, R] and alive mask [T, R] (1 where row r still
// played at step t). The baseline at (t, r) is computed over the group's rows alive at t
// (rows alone at a step get advantage 0). Returns [T, R], zero where not alive.
torch::Tensor stepwise_group_advantages(const torch::Tensor& return_to_go, const torch::Tensor& alive,
                                        const torch::Tensor& group, int64_t num_groups, AdvantageKind kind);

// Return-to-go [T, R] of rewards [T, R] (undiscounted, masked by alive).
torch::Tensor returns_to_go(const torch::Tensor& rewards, const torch::Tensor& alive, double gamma = 1.0);

// Generalized advantage estimation. rewards, values, alive: [T, R]; `terminal` [T, R] is 1
// at a step after which the episode ended without bootstrap; bootstrap [T, R] holds V of
// the next state where the rollout was cut (truncated or out of ticks), else 0.
// Returns advantages [T, R] (zero where not alive).
torch::Tensor gae(const torch::Tensor& rewards, const torch::Tensor& values, const torch::Tensor& alive,
                  const torch::Tensor& terminal, const torch::Tensor& bootstrap, double gamma, double lambda);

// min(rho A, clip(rho, 1 - eps_low, 1 + eps_high) A) per sample, rho = exp(logp - old_logp).
torch::Tensor clipped_surrogate(const torch::Tensor& logp, const torch::Tensor& old_logp, const torch::Tensor& adv,
                                double eps_low, double eps_high);

// Unbiased per-sample estimate of KL(pi_theta || pi_ref): exp(ref - logp) - (ref - logp) - 1 (>= 0).
torch::Tensor kl_unbiased(const torch::Tensor& logp, const torch::Tensor& ref_logp);

}  // namespace ludus::rl
