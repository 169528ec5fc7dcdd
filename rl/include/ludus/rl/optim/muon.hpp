// Muon: momentum, then steepest descent under a per-group norm (spectral by default).
#pragma once

#include "ludus/rl/optim/dual.hpp"
#include "ludus/rl/optim/msign.hpp"

#include <torch/arg.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/serialize.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace ludus::rl::optim {

/// Options of one Muon parameter group. Per step, for each parameter W (≥ 2-D; a
/// parameter of more dims, e.g. a conv filter [out, in, kh, kw], is updated as its
/// [out, in·kh·kw] flattening) with gradient G:
///   m ← β m + (1 − β) G                          (β = momentum)
///   u = (1 − β) G + β m  if nesterov, else u = m
///   O = d(u) under `norm` (spectral: msign by `ns_steps` steps of `schedule`)
///   O ← O · muon_scale(rows, cols, scaling)   and, if `unnormalized`, · ‖u‖† = ⟨u, d(u)⟩
///                                              (the dual norm; one device sync per parameter)
///   W ← (1 − lr·weight_decay) W − lr · O
///   if spectral_clip_beta: W ← spectral_cap(W, β) (projection into the spectral ball)
/// `ns_dtype` is the dtype msign computes in (default: the parameter's; kBFloat16 is
/// the fast choice on GPU). For norm = rms_to_rms the shape factor is already in d,
/// so scaling = none is the usual pairing.
struct MuonOptions : public torch::optim::OptimizerCloneableOptions<MuonOptions> {
  MuonOptions(double lr = 0.02);
  TORCH_ARG(double, lr) = 0.02;
  TORCH_ARG(double, momentum) = 0.95;
  TORCH_ARG(bool, nesterov) = true;
  TORCH_ARG(double, weight_decay) = 0.0;
  TORCH_ARG(int64_t, ns_steps) = 5;
  TORCH_ARG(NsSchedule, schedule) = ns_schedule("keller");
  TORCH_ARG(NormKind, norm) = NormKind::spectral;
  TORCH_ARG(MuonScaling, scaling) = MuonScaling::original;
  TORCH_ARG(bool, unnormalized) = false;
  TORCH_ARG(c10::optional<double>, spectral_clip_beta) = c10::nullopt;
  TORCH_ARG(c10::optional<torch::ScalarType>, ns_dtype) = c10::nullopt;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override;
  void set_lr(const double lr) override;
  /// Throws std::invalid_argument naming the bad field and its value.
  void validate() const;
};

/// Per-parameter state: the momentum buffer (same shape as the parameter) and the
/// number of steps taken.
struct MuonParamState : public torch::optim::OptimizerCloneableParamState<MuonParamState> {
  TORCH_ARG(int64_t, step) = 0;
  TORCH_ARG(torch::Tensor, momentum_buffer);

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
};

/// The Muon optimizer. Every parameter must have ≥ 2 dims: construction (and step,
/// for groups added later) throws c10::Error naming the parameter's index and shape
/// when given a 1-D or 0-D tensor; biases and gains belong to AdamW (see
/// HybridOptimizer). Parameters without a gradient are skipped. Works on any device
/// and floating dtype. save/load round-trip the options and momentum buffers through
/// torch::serialize archives, like torch's own optimizers.
class Muon : public torch::optim::Optimizer {
 public:
  explicit Muon(std::vector<torch::optim::OptimizerParamGroup> param_groups, MuonOptions defaults = {});
  explicit Muon(std::vector<torch::Tensor> params, MuonOptions defaults = {});

  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 private:
  void check_params_are_matrices() const;

  template <typename Self, typename Archive>
  static void serialize(Self& self, Archive& archive) {
    torch::optim::serialize<MuonParamState, MuonOptions>(archive, self);
  }
};

}  // namespace ludus::rl::optim
