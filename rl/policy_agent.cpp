// PolicyAgent and its registration as "policy:CHECKPOINT" (argmax) and
// "policy-sample:CHECKPOINT" (sampled actions).
#include "ludus/rl/policy_agent.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "ludus/engine/registry.hpp"
#include "ludus/rl/checkpoint.hpp"

namespace ludus {

int trained_decision_interval(const rl::CheckpointMeta& meta) {
  int game = 1, hold = 1;
  try {
    if (!meta.game_yaml.empty())
      game = make_env(meta.env, ConfigTree::from_string(meta.game_yaml, "checkpoint game options"))
                 ->spec()
                 .decision_interval;
  } catch (const std::exception&) {
    // the game is not registered here (yet): the caller's game check reports that
  }
  try {
    // The trainer's hold_ticks (checkpoints from before it was a key have none: 1).
    if (!meta.config_yaml.empty())
      hold = std::stoi(ConfigTree::from_string(meta.config_yaml, "checkpoint config").get_string("hold_ticks", "1"));
  } catch (const std::exception&) {
    hold = 1;
  }
  return std::lcm(std::max(1, game), std::max(1, hold));
}

PolicyAgent::PolicyAgent(rl::PolicyNet net, bool greedy, std::string label)
    : net_(std::move(net)), greedy_(greedy), label_(std::move(label)) {}

std::unique_ptr<PolicyAgent> PolicyAgent::from_checkpoint(const std::string& path, const std::string& env_name,
                                                          bool greedy) {
  if (path.empty()) throw std::invalid_argument("policy agent needs a checkpoint: policy:PATH");
  auto ckpt = rl::load_checkpoint(path);
  if (ckpt.meta.env != env_name)
    throw std::invalid_argument(path + ": checkpoint was trained on '" + ckpt.meta.env + "', not '" + env_name + "'");
  ckpt.net->eval();
  auto agent = std::make_unique<PolicyAgent>(ckpt.net, greedy, path);
  agent->hold_ticks(trained_decision_interval(ckpt.meta));
  return agent;
}

void PolicyAgent::reset(const Env& env, int, uint64_t seed) {
  rng_.seed(seed);
  calls_ = 0;
  const EnvSpec& s = env.spec();
  const auto& head = net_->head();
  if (s.obs_dim() != net_->obs_dim() || s.action_dim() != head.action_dim() || s.action_space.kind != head.kind)
    throw std::invalid_argument(label_ + ": network expects observations of " + std::to_string(net_->obs_dim()) +
                                " and " + std::to_string(head.action_dim()) + " action values, game '" + s.name +
                                "' has " + std::to_string(s.obs_dim()) + " and " + std::to_string(s.action_dim()) +
                                " (was it trained with other game options?)");
}

void PolicyAgent::act(const Env& env, const float* obs, std::span<const int> agent_ids, float* actions) {
  const EnvSpec& s = env.spec();
  const int64_t d = s.obs_dim(), n = static_cast<int64_t>(agent_ids.size()), adim = s.action_dim();
  const int every = std::lcm(std::max(1, s.decision_interval), hold_ticks_);
  const bool decide = calls_++ % every == 0 || held_.size() != static_cast<size_t>(n * adim);
  if (!decide) {
    for (int64_t k = 0; k < n; ++k)
      std::copy_n(held_.data() + k * adim, adim, actions + agent_ids[static_cast<size_t>(k)] * adim);
    return;
  }
  rows_.resize(static_cast<size_t>(n * d));
  for (int64_t k = 0; k < n; ++k) std::copy_n(obs + agent_ids[static_cast<size_t>(k)] * d, d, rows_.data() + k * d);
  torch::NoGradGuard no_grad;
  const auto device = net_->parameters().front().device();
  const auto x = torch::from_blob(rows_.data(), {n, d}, torch::kFloat).to(device);
  const auto out = net_->forward(x).to(torch::kCPU);
  const auto log_std = net_->log_std().defined() ? net_->log_std().detach().to(torch::kCPU) : torch::Tensor();
  sampled_.resize(static_cast<size_t>(n * adim));
  std::vector<float> env_actions(static_cast<size_t>(n * adim));
  net_->head().sample(out, log_std, rng_, greedy_, sampled_.data(), env_actions.data());
  held_ = env_actions;
  for (int64_t k = 0; k < n; ++k)
    std::copy_n(env_actions.data() + k * adim, adim, actions + agent_ids[static_cast<size_t>(k)] * adim);
}

}  // namespace ludus

LUDUS_REGISTER_AGENT("policy", {}, "a trained network, argmax actions: policy:CHECKPOINT",
                     [](const ludus::AgentArgs& a) -> std::unique_ptr<ludus::Agent> {
                       return ludus::PolicyAgent::from_checkpoint(a.param, a.env_name, /*greedy=*/true);
                     });
LUDUS_REGISTER_AGENT("policy-sample", {}, "a trained network, sampled actions: policy-sample:CHECKPOINT",
                     [](const ludus::AgentArgs& a) -> std::unique_ptr<ludus::Agent> {
                       return ludus::PolicyAgent::from_checkpoint(a.param, a.env_name, /*greedy=*/false);
                     });
