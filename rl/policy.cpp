// Policy networks and the action distributions their heads parameterize.
#include "ludus/rl/policy.hpp"

#include <ATen/Parallel.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "ludus/rl/tanh.hpp"

namespace ludus::rl {

namespace {

// y = tanh(x) for a contiguous CPU float tensor, split over torch's intra-op threads.
torch::Tensor cpu_tanh(const torch::Tensor& x) {
  auto y = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  const float* in = x.data_ptr<float>();
  float* out = y.data_ptr<float>();
  at::parallel_for(0, x.numel(), 1 << 15,
                   [&](int64_t begin, int64_t end) { tanh_f32(in + begin, out + begin, end - begin); });
  return y;
}

struct TanhFunction : torch::autograd::Function<TanhFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    auto y = cpu_tanh(x);
    ctx->save_for_backward({y});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto y = ctx->get_saved_variables()[0];
    return {at::tanh_backward(grad[0], y)};
  }
};

}  // namespace

torch::Tensor tanh(const torch::Tensor& x) {
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat || !x.is_contiguous()) return torch::tanh(x);
  if (torch::GradMode::is_enabled() && x.requires_grad()) return TanhFunction::apply(x);
  return cpu_tanh(x);
}

torch::Tensor TanhImpl::forward(const torch::Tensor& x) { return rl::tanh(x); }

ActionHead::ActionHead(const ActionSpace& space) : kind(space.kind) {
  if (kind == SpaceKind::box) {
    box_dim = static_cast<int64_t>(space.low.size());
    low = space.low;
    high = space.high;
  } else {
    for (int32_t n : space.nvec) nvec.push_back(n);
  }
}

int64_t ActionHead::out_dim() const {
  if (kind == SpaceKind::box) return box_dim;
  int64_t total = 0;
  for (int64_t n : nvec) total += n;
  return total;
}

int64_t ActionHead::action_dim() const { return kind == SpaceKind::box ? box_dim : static_cast<int64_t>(nvec.size()); }

torch::Tensor ActionHead::log_prob(const torch::Tensor& out, const torch::Tensor& log_std,
                                   const torch::Tensor& actions) const {
  if (kind == SpaceKind::box) {
    const auto var = torch::exp(2 * log_std);
    const auto lp = -(actions - out).pow(2) / (2 * var) - log_std - 0.5 * std::log(2 * std::numbers::pi);
    return lp.sum(/*dim=*/1);
  }
  torch::Tensor total;
  int64_t offset = 0;
  for (size_t d = 0; d < nvec.size(); ++d) {
    const auto logits = out.narrow(/*dim=*/1, offset, nvec[d]);
    const auto idx = actions.select(/*dim=*/1, static_cast<int64_t>(d)).to(torch::kLong).unsqueeze(1);
    const auto lp = torch::log_softmax(logits, /*dim=*/1).gather(/*dim=*/1, idx).squeeze(1);
    total = d == 0 ? lp : total + lp;
    offset += nvec[d];
  }
  return total;
}

torch::Tensor ActionHead::entropy(const torch::Tensor& out, const torch::Tensor& log_std) const {
  if (kind == SpaceKind::box) {
    const double per_dim = 0.5 + 0.5 * std::log(2 * std::numbers::pi);
    return (log_std + per_dim).sum().expand({out.size(0)});
  }
  torch::Tensor total;
  int64_t offset = 0;
  for (size_t d = 0; d < nvec.size(); ++d) {
    const auto logp = torch::log_softmax(out.narrow(/*dim=*/1, offset, nvec[d]), /*dim=*/1);
    const auto h = -(logp.exp() * logp).sum(/*dim=*/1);
    total = d == 0 ? h : total + h;
    offset += nvec[d];
  }
  return total;
}

void ActionHead::sample(const torch::Tensor& out_cpu, const torch::Tensor& log_std_cpu, Rng& rng, bool greedy,
                        float* actions, float* env_actions) const {
  const auto out = out_cpu.contiguous();
  const int64_t rows = out.size(0), width = out.size(1), adim = action_dim();
  const float* o = out.data_ptr<float>();
  if (kind == SpaceKind::box) {
    const float* ls = log_std_cpu.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t d = 0; d < adim; ++d) {
        double x = o[r * width + d];
        if (!greedy) {
          // Box-Muller from two uniforms of the run's generator.
          const double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
          x +=
              std::exp(static_cast<double>(ls[d])) * std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
        }
        actions[r * adim + d] = static_cast<float>(x);
        env_actions[r * adim + d] =
            std::clamp(static_cast<float>(x), low[static_cast<size_t>(d)], high[static_cast<size_t>(d)]);
      }
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    int64_t offset = 0;
    for (int64_t d = 0; d < adim; ++d) {
      const int64_t n = nvec[static_cast<size_t>(d)];
      const float* logits = o + r * width + offset;
      int64_t choice = 0;
      if (greedy) {
        for (int64_t k = 1; k < n; ++k)
          if (logits[k] > logits[choice]) choice = k;
      } else {
        float mx = logits[0];
        for (int64_t k = 1; k < n; ++k) mx = std::max(mx, logits[k]);
        double z = 0;
        for (int64_t k = 0; k < n; ++k) z += std::exp(static_cast<double>(logits[k] - mx));
        double u = rng.uniform() * z;
        choice = n - 1;
        for (int64_t k = 0; k < n; ++k) {
          u -= std::exp(static_cast<double>(logits[k] - mx));
          if (u < 0) {
            choice = k;
            break;
          }
        }
      }
      actions[r * adim + d] = static_cast<float>(choice);
      env_actions[r * adim + d] = static_cast<float>(choice);
      offset += n;
    }
  }
}

namespace {

torch::nn::Sequential mlp(int64_t in, int64_t hidden, int layers, int64_t out) {
  torch::nn::Sequential seq;
  int64_t width = in;
  for (int l = 0; l < layers; ++l) {
    seq->push_back(torch::nn::Linear(width, hidden));
    seq->push_back(Tanh());
    width = hidden;
  }
  if (out > 0) seq->push_back(torch::nn::Linear(width, out));
  return seq;
}

// The weights of mlp()'s hidden-to-hidden layers, named as register_module(prefix, ...)
// makes them: the Linear at index 2l (l = 1..layers-1) of the Sequential.
void add_hidden_weight_names(std::vector<std::string>& out, const std::string& prefix, int layers) {
  for (int l = 1; l < layers; ++l) out.push_back(prefix + "." + std::to_string(2 * l) + ".weight");
}

// Orthogonal init (gain sqrt 2 for hidden layers, small for the output) as PPO
// implementations use; the output layer starts near-uniform.
void init_layers(torch::nn::Sequential& seq, double out_gain) {
  torch::NoGradGuard no_grad;
  const size_t n = seq->size();
  for (size_t i = 0; i < n; ++i) {
    if (auto* lin = seq[i]->as<torch::nn::Linear>()) {
      const bool last = i + 1 == n;
      torch::nn::init::orthogonal_(lin->weight, last ? out_gain : std::sqrt(2.0));
      torch::nn::init::zeros_(lin->bias);
    }
  }
}

}  // namespace

PolicyNetImpl::PolicyNetImpl(int64_t obs_dim, const ActionSpace& space, const NetworkOptions& options, bool value_head)
    : obs_dim_(obs_dim), options_(options), head_(space) {
  int64_t trunk_in = obs_dim;
  if (options_.arch == "entity") {
    const int64_t listed = static_cast<int64_t>(options_.entity_count) * options_.entity_features;
    if (options_.entity_count < 1 || options_.entity_features < 1 || listed > obs_dim)
      throw std::invalid_argument("entity network: entity_count x entity_features (" + std::to_string(listed) +
                                  ") must be positive and fit in the observation (" + std::to_string(obs_dim) + ")");
    const int64_t global = obs_dim - listed;
    entity_encoder_ = register_module("encoder", mlp(options_.entity_features, options_.hidden, 1, 0));
    init_layers(entity_encoder_, std::sqrt(2.0));
    trunk_in = global + 2 * options_.hidden;
    if (value_head) {
      value_entity_encoder_ = register_module("value_encoder", mlp(options_.entity_features, options_.hidden, 1, 0));
      init_layers(value_entity_encoder_, std::sqrt(2.0));
    }
  } else if (options_.arch != "mlp") {
    throw std::invalid_argument("unknown network arch '" + options_.arch + "' (expected mlp or entity)");
  }
  policy_layers_ = register_module("policy", mlp(trunk_in, options_.hidden, options_.layers, head_.out_dim()));
  init_layers(policy_layers_, 0.01);
  add_hidden_weight_names(hidden_matrices_, "policy", options_.layers);
  if (head_.kind == SpaceKind::box) log_std_ = register_parameter("log_std", torch::full({head_.box_dim}, -0.5));
  if (value_head) {
    value_layers_ = register_module("value", mlp(trunk_in, options_.hidden, options_.layers, 1));
    init_layers(value_layers_, 1.0);
    add_hidden_weight_names(hidden_matrices_, "value", options_.layers);
  }
}

torch::Tensor PolicyNetImpl::encode(const torch::Tensor& obs, torch::nn::Sequential& entity_encoder) {
  if (options_.arch != "entity") return obs;
  const int64_t listed = static_cast<int64_t>(options_.entity_count) * options_.entity_features;
  const auto global = obs.narrow(/*dim=*/1, 0, obs.size(1) - listed);
  const auto entities = obs.narrow(/*dim=*/1, obs.size(1) - listed, listed)
                            .reshape({obs.size(0), options_.entity_count, options_.entity_features});
  const auto enc = entity_encoder->forward(entities);
  return torch::cat({global, enc.mean(/*dim=*/1), std::get<0>(enc.max(/*dim=*/1))}, /*dim=*/1);
}

torch::Tensor PolicyNetImpl::forward(const torch::Tensor& obs) {
  return policy_layers_->forward(encode(obs, entity_encoder_));
}

torch::Tensor PolicyNetImpl::value(const torch::Tensor& obs) {
  if (value_layers_.is_empty()) throw std::logic_error("this policy has no value head");
  return value_layers_->forward(encode(obs, value_entity_encoder_)).squeeze(1);
}

}  // namespace ludus::rl
