// Group-relative advantages, GAE and the policy-gradient loss terms.
#include "ludus/rl/grpo.hpp"

#include <stdexcept>

namespace ludus::rl {

AdvantageKind parse_advantage(const std::string& name) {
  if (name == "std") return AdvantageKind::std_norm;
  if (name == "mean") return AdvantageKind::mean;
  if (name == "rloo") return AdvantageKind::rloo;
  throw std::invalid_argument("unknown advantage '" + name + "' (expected std, mean or rloo)");
}

namespace {

// Per-group sums of `values` over rows where `mask` is 1: returns (sum [G], count [G]).
std::pair<torch::Tensor, torch::Tensor> group_sums(const torch::Tensor& values, const torch::Tensor& mask,
                                                   const torch::Tensor& group, int64_t num_groups) {
  auto sum = torch::zeros({num_groups}, values.options()).index_add_(0, group, values * mask);
  auto count = torch::zeros({num_groups}, values.options()).index_add_(0, group, mask);
  return {sum, count};
}

torch::Tensor relative(const torch::Tensor& r, const torch::Tensor& mask, const torch::Tensor& group,
                       int64_t num_groups, AdvantageKind kind) {
  auto [sum, count] = group_sums(r, mask, group, num_groups);
  const auto safe = count.clamp_min(1);
  const auto mean = (sum / safe).index_select(0, group);
  const auto n = count.index_select(0, group);
  torch::Tensor adv;
  switch (kind) {
    case AdvantageKind::mean:
      adv = r - mean;
      break;
    case AdvantageKind::rloo:
      // r - (sum - r) / (n - 1) = n / (n - 1) * (r - mean); zero for a lone row.
      adv = torch::where(n > 1, (r - mean) * n / (n - 1).clamp_min(1), torch::zeros_like(r));
      break;
    case AdvantageKind::std_norm: {
      auto [sq, unused] = group_sums((r - mean).pow(2), mask, group, num_groups);
      (void)unused;
      const auto stdev = (sq / safe).sqrt().index_select(0, group);
      adv = (r - mean) / (stdev + 1e-6);
      break;
    }
  }
  return adv * mask;
}

}  // namespace

torch::Tensor group_advantages(const torch::Tensor& returns, const torch::Tensor& group, int64_t num_groups,
                               AdvantageKind kind, torch::Tensor* keep) {
  TORCH_CHECK(returns.dim() == 1 && group.dim() == 1 && returns.size(0) == group.size(0),
              "group_advantages: returns and group must be [R], got ", returns.sizes(), " and ", group.sizes());
  const auto r = returns.to(torch::kFloat);
  const auto ones = torch::ones_like(r);
  const auto adv = relative(r, ones, group, num_groups, kind);
  if (keep) {
    // A group whose returns are all equal has zero spread around its mean.
    auto [sum, count] = group_sums(r, ones, group, num_groups);
    const auto mean = (sum / count.clamp_min(1)).index_select(0, group);
    auto [spread, unused] = group_sums((r - mean).abs(), ones, group, num_groups);
    (void)unused;
    *keep = (spread > 1e-6 * (1 + sum.abs())).index_select(0, group);
  }
  return adv;
}

torch::Tensor stepwise_group_advantages(const torch::Tensor& return_to_go, const torch::Tensor& alive,
                                        const torch::Tensor& group, int64_t num_groups, AdvantageKind kind) {
  TORCH_CHECK(return_to_go.sizes() == alive.sizes() && return_to_go.dim() == 2,
              "stepwise_group_advantages: return_to_go and alive must be the same [T, R]");
  std::vector<torch::Tensor> rows;
  for (int64_t t = 0; t < return_to_go.size(0); ++t)
    rows.push_back(relative(return_to_go[t].to(torch::kFloat), alive[t].to(torch::kFloat), group, num_groups, kind));
  return torch::stack(rows);
}

torch::Tensor returns_to_go(const torch::Tensor& rewards, const torch::Tensor& alive, double gamma) {
  const auto masked = (rewards * alive).to(torch::kFloat);
  if (gamma == 1.0) return masked.flip({0}).cumsum(0).flip({0}) * alive;
  // G_t = r_t + gamma * G_{t+1}, from the last row back.
  auto out = torch::zeros_like(masked);
  auto running = torch::zeros_like(masked[0]);
  for (int64_t t = masked.size(0) - 1; t >= 0; --t) {
    running = masked[t] + gamma * running;
    out[t] = running;
  }
  return out * alive;
}

torch::Tensor gae(const torch::Tensor& rewards, const torch::Tensor& values, const torch::Tensor& alive,
                  const torch::Tensor& terminal, const torch::Tensor& bootstrap, double gamma, double lambda) {
  const int64_t T = rewards.size(0);
  auto adv = torch::zeros_like(rewards);
  auto running = torch::zeros_like(rewards[0]);
  for (int64_t t = T - 1; t >= 0; --t) {
    // Next value: V(s_{t+1}) while the episode goes on, the bootstrap where it was cut,
    // zero at a true terminal.
    const auto cont = (t + 1 < T) ? alive[t + 1] : torch::zeros_like(alive[t]);
    const auto next_v = (t + 1 < T ? values[t + 1] : torch::zeros_like(values[t])) * cont + bootstrap[t];
    const auto not_terminal = 1 - terminal[t];
    const auto delta = rewards[t] + gamma * next_v * not_terminal - values[t];
    running = delta + gamma * lambda * cont * running;
    adv[t] = running * alive[t];
    running = running * alive[t];
  }
  return adv;
}

torch::Tensor clipped_surrogate(const torch::Tensor& logp, const torch::Tensor& old_logp, const torch::Tensor& adv,
                                double eps_low, double eps_high) {
  const auto ratio = torch::exp(logp - old_logp);
  return torch::min(ratio * adv, ratio.clamp(1 - eps_low, 1 + eps_high) * adv);
}

torch::Tensor kl_unbiased(const torch::Tensor& logp, const torch::Tensor& ref_logp) {
  const auto d = ref_logp - logp;
  return torch::exp(d) - d - 1;
}

}  // namespace ludus::rl
