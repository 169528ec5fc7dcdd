// Policy networks (MLP and entity encoder) with discrete, multi-discrete and Gaussian heads.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "ludus/engine/rng.hpp"
#include "ludus/engine/spec.hpp"
#include "ludus/rl/network_options.hpp"

namespace ludus::rl {

// The action distribution an output parameterizes. Discrete and multi-discrete heads
// emit concatenated logits (sum of nvec); box heads emit the Gaussian mean and use a
// state-independent log standard deviation.
struct ActionHead {
  SpaceKind kind = SpaceKind::discrete;
  std::vector<int64_t> nvec;  // discrete kinds
  int64_t box_dim = 0;
  std::vector<float> low, high;

  explicit ActionHead(const ActionSpace& space = ActionSpace::discrete(1));
  int64_t out_dim() const;
  int64_t action_dim() const;
  // Log-probability of `actions` [B, action_dim] under the head output [B, out_dim].
  torch::Tensor log_prob(const torch::Tensor& out, const torch::Tensor& log_std, const torch::Tensor& actions) const;
  torch::Tensor entropy(const torch::Tensor& out, const torch::Tensor& log_std) const;
  // Samples on the CPU with `rng` (so runs and resumes are exact), or takes the mode.
  // Returns [B, action_dim] float actions; box samples are clamped to the bounds in
  // `env_actions` only, so log-probabilities stay those of the drawn sample.
  void sample(const torch::Tensor& out_cpu, const torch::Tensor& log_std_cpu, Rng& rng, bool greedy, float* actions,
              float* env_actions) const;
};

// The networks' activation module: ludus::rl::tanh (rl/tanh.hpp) in a Sequential.
class TanhImpl : public torch::nn::Cloneable<TanhImpl> {
 public:
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override { stream << "ludus::rl::Tanh()"; }
};
TORCH_MODULE(Tanh);

class PolicyNetImpl : public torch::nn::Module {
 public:
  PolicyNetImpl(int64_t obs_dim, const ActionSpace& space, const NetworkOptions& options, bool value_head);

  // Head output [B, out_dim] for observations [B, obs_dim].
  torch::Tensor forward(const torch::Tensor& obs);
  // State value [B] (value_head only).
  torch::Tensor value(const torch::Tensor& obs);
  bool has_value() const { return !value_layers_.is_empty(); }

  // Full names (as in named_parameters()) of the hidden-to-hidden weight matrices: what
  // Muon is for. Input and output layers, entity encoders, biases and log_std are not in
  // it. The network says this itself, so a new layout cannot silently change the routing.
  const std::vector<std::string>& hidden_matrices() const { return hidden_matrices_; }
  const ActionHead& head() const { return head_; }
  torch::Tensor log_std() const { return log_std_; }
  int64_t obs_dim() const { return obs_dim_; }

 private:
  torch::Tensor encode(const torch::Tensor& obs, torch::nn::Sequential& entity_encoder);

  int64_t obs_dim_;
  NetworkOptions options_;
  ActionHead head_;
  torch::nn::Sequential entity_encoder_{nullptr}, value_entity_encoder_{nullptr};
  torch::nn::Sequential policy_layers_{nullptr}, value_layers_{nullptr};
  torch::Tensor log_std_;
  std::vector<std::string> hidden_matrices_;
};
TORCH_MODULE(PolicyNet);

}  // namespace ludus::rl
