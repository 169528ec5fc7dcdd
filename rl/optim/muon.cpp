// The Muon optimizer: momentum, per-group dual direction, weight decay, optional spectral cap.
#include "ludus/rl/optim/muon.hpp"

#include "ludus/rl/optim/spectral_clip.hpp"

#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace ludus::rl::optim {
namespace {

// libtorch 1.x keys optimizer state by the TensorImpl address printed as a string,
// libtorch 2.x by the address itself; this yields whichever the headers declare.
template <typename Key>
Key state_key_for(const torch::Tensor& param) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;
    key << static_cast<const void*>(param.unsafeGetTensorImpl());
    return key.str();
  } else {
    return param.unsafeGetTensorImpl();
  }
}

torch::Tensor schedule_to_tensor(const NsSchedule& schedule) {
  std::vector<double> flat;
  for (const auto& step : schedule.steps) {
    flat.insert(flat.end(), {step.a, step.b, step.c});
  }
  return torch::tensor(flat, torch::dtype(torch::kFloat64)).reshape({static_cast<int64_t>(schedule.steps.size()), 3});
}

NsSchedule schedule_from_tensor(std::string name, const torch::Tensor& coefficients) {
  TORCH_CHECK(coefficients.dim() == 2 && coefficients.size(1) == 3,
              "Muon archive: schedule coefficients must be [steps, 3], got ", coefficients.sizes());
  const auto values = coefficients.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto* data = values.data_ptr<double>();
  std::vector<NsCoefficients> steps;
  for (int64_t i = 0; i < values.size(0); ++i) {
    steps.push_back({data[3 * i], data[3 * i + 1], data[3 * i + 2]});
  }
  return make_ns_schedule(std::move(name), std::move(steps));
}

}  // namespace

MuonOptions::MuonOptions(double lr) : lr_(lr) {}

double MuonOptions::get_lr() const { return lr(); }

void MuonOptions::set_lr(const double lr) { this->lr(lr); }

void MuonOptions::validate() const {
  const auto fail = [](const std::string& field, const auto& value, const char* expected) {
    std::ostringstream message;
    message << "MuonOptions." << field << " = " << value << "; expected " << expected;
    throw std::invalid_argument(message.str());
  };
  if (!(lr() >= 0.0) || !std::isfinite(lr())) {
    fail("lr", lr(), "a finite value >= 0");
  }
  if (!(momentum() >= 0.0 && momentum() < 1.0)) {
    fail("momentum", momentum(), "a value in [0, 1)");
  }
  if (!(weight_decay() >= 0.0) || !std::isfinite(weight_decay())) {
    fail("weight_decay", weight_decay(), "a finite value >= 0");
  }
  if (ns_steps() < 1) {
    fail("ns_steps", ns_steps(), "at least 1");
  }
  if (schedule().steps.empty()) {
    fail("schedule", schedule().name, "a schedule with at least one (a, b, c) entry");
  }
  if (spectral_clip_beta().has_value() && !(*spectral_clip_beta() > 0.0)) {
    fail("spectral_clip_beta", *spectral_clip_beta(), "a value > 0 (or unset)");
  }
  if (ns_dtype().has_value() && !c10::isFloatingType(*ns_dtype())) {
    fail("ns_dtype", *ns_dtype(), "a floating-point dtype (or unset)");
  }
}

void MuonOptions::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("lr", c10::IValue(lr()));
  archive.write("momentum", c10::IValue(momentum()));
  archive.write("nesterov", c10::IValue(nesterov()));
  archive.write("weight_decay", c10::IValue(weight_decay()));
  archive.write("ns_steps", c10::IValue(ns_steps()));
  archive.write("schedule_name", c10::IValue(schedule().name));
  archive.write("schedule_coefficients", schedule_to_tensor(schedule()));
  archive.write("norm", c10::IValue(to_string(norm())));
  archive.write("scaling", c10::IValue(to_string(scaling())));
  archive.write("unnormalized", c10::IValue(unnormalized()));
  if (spectral_clip_beta().has_value()) {
    archive.write("spectral_clip_beta", c10::IValue(*spectral_clip_beta()));
  }
  if (ns_dtype().has_value()) {
    archive.write("ns_dtype", c10::IValue(static_cast<int64_t>(*ns_dtype())));
  }
}

void MuonOptions::serialize(torch::serialize::InputArchive& archive) {
  c10::IValue value;
  archive.read("lr", value);
  lr(value.toDouble());
  archive.read("momentum", value);
  momentum(value.toDouble());
  archive.read("nesterov", value);
  nesterov(value.toBool());
  archive.read("weight_decay", value);
  weight_decay(value.toDouble());
  archive.read("ns_steps", value);
  ns_steps(value.toInt());
  archive.read("schedule_name", value);
  const std::string schedule_name = value.toStringRef();
  torch::Tensor coefficients;
  archive.read("schedule_coefficients", coefficients);
  schedule(schedule_from_tensor(schedule_name, coefficients));
  archive.read("norm", value);
  norm(parse_norm_kind(value.toStringRef()));
  archive.read("scaling", value);
  scaling(parse_muon_scaling(value.toStringRef()));
  archive.read("unnormalized", value);
  unnormalized(value.toBool());
  spectral_clip_beta(archive.try_read("spectral_clip_beta", value) ? c10::optional<double>(value.toDouble())
                                                                   : c10::nullopt);
  ns_dtype(archive.try_read("ns_dtype", value)
               ? c10::optional<torch::ScalarType>(static_cast<torch::ScalarType>(value.toInt()))
               : c10::nullopt);
}

void MuonParamState::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("step", c10::IValue(step()));
  if (momentum_buffer().defined()) {
    archive.write("momentum_buffer", momentum_buffer(), /*is_buffer=*/true);
  }
}

void MuonParamState::serialize(torch::serialize::InputArchive& archive) {
  c10::IValue value;
  archive.read("step", value);
  step(value.toInt());
  torch::Tensor buffer;
  if (archive.try_read("momentum_buffer", buffer, /*is_buffer=*/true)) {
    momentum_buffer(buffer);
  }
}

Muon::Muon(std::vector<torch::optim::OptimizerParamGroup> param_groups, MuonOptions defaults)
    : torch::optim::Optimizer(std::move(param_groups), std::make_unique<MuonOptions>(defaults)) {
  defaults.validate();
  check_params_are_matrices();
}

Muon::Muon(std::vector<torch::Tensor> params, MuonOptions defaults)
    : Muon(std::vector<torch::optim::OptimizerParamGroup>{torch::optim::OptimizerParamGroup(std::move(params))},
           std::move(defaults)) {}

void Muon::check_params_are_matrices() const {
  for (size_t group_index = 0; group_index < param_groups_.size(); ++group_index) {
    TORCH_CHECK(dynamic_cast<const MuonOptions*>(&param_groups_[group_index].options()) != nullptr,
                "Muon: parameter group ", group_index, " carries options of another optimizer; expected MuonOptions");
    const auto& params = param_groups_[group_index].params();
    for (size_t index = 0; index < params.size(); ++index) {
      TORCH_CHECK(params[index].dim() >= 2, "Muon: parameter ", index, " of group ", group_index, " has shape ",
                  params[index].sizes(), " (", params[index].dim(),
                  "-D); Muon updates matrices (>= 2-D). Give biases, gains and other 1-D "
                  "parameters to AdamW (HybridOptimizer routes them there).");
      TORCH_CHECK(params[index].is_floating_point(), "Muon: parameter ", index, " of group ", group_index,
                  " has dtype ", params[index].scalar_type(), "; expected a floating-point dtype");
    }
  }
}

torch::Tensor Muon::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  check_params_are_matrices();
  using StateKey = std::decay_t<decltype(state_)>::key_type;
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const MuonOptions&>(group.options());
    options.validate();
    const MsignConfig msign_config{options.schedule(), options.ns_steps(), options.ns_dtype()};
    const double beta = options.momentum();
    for (auto& param : group.params()) {
      if (!param.grad().defined()) {
        continue;
      }
      const auto key = state_key_for<StateKey>(param);
      auto found = state_.find(key);
      if (found == state_.end()) {
        auto fresh = std::make_unique<MuonParamState>();
        fresh->momentum_buffer(torch::zeros_like(param, torch::MemoryFormat::Preserve));
        found = state_.emplace(key, std::move(fresh)).first;
      }
      auto& state = static_cast<MuonParamState&>(*found->second);
      if (state.momentum_buffer().device() != param.device() ||
          state.momentum_buffer().scalar_type() != param.scalar_type()) {
        state.momentum_buffer(state.momentum_buffer().to(param.options()));
      }
      state.step(state.step() + 1);

      const auto& grad = param.grad();
      auto& buffer = state.momentum_buffer();
      buffer.lerp_(grad, /*weight=*/1.0 - beta);
      const auto update = options.nesterov() ? grad.lerp(buffer, /*weight=*/beta) : buffer;
      const auto update_2d = update.reshape({param.size(0), -1});
      auto direction = dual_direction(update_2d, options.norm(), msign_config);
      double factor = muon_scale(update_2d.size(0), update_2d.size(1), options.scaling());
      if (options.unnormalized()) {
        factor *= (update_2d * direction).sum().item<double>();
      }
      if (options.weight_decay() != 0.0) {
        param.mul_(1.0 - options.lr() * options.weight_decay());
      }
      param.add_(direction.reshape_as(param), /*alpha=*/-options.lr() * factor);
      if (options.spectral_clip_beta().has_value()) {
        const auto capped = spectral_cap(param.reshape({param.size(0), -1}), *options.spectral_clip_beta());
        param.copy_(capped.view_as(param));
      }
    }
  }
  return loss;
}

void Muon::save(torch::serialize::OutputArchive& archive) const { serialize(*this, archive); }

void Muon::load(torch::serialize::InputArchive& archive) {
  serialize(*this, archive);
  check_params_are_matrices();
}

}  // namespace ludus::rl::optim
