// Spectral clipping with msign and matrix products only (no SVD): keep singular values in [α, β].
#pragma once

#include "ludus/rl/optim/msign.hpp"

#include <torch/types.h>

#include <cstdint>

namespace ludus::rl::optim {

/// How accurately the clipping's msign calls run. The clip is exact only as far as
/// msign is: a singular value σ near a bound is moved by about |σ − bound|·(1 − p),
/// p the schedule's output for that input, so the default is the tight `you6`
/// schedule with extra steps (its last entry repeats and converges to ~0.997).
struct SpectralClipConfig {
  NsSchedule schedule = ns_schedule("you6");
  int64_t steps = 10;
  c10::optional<torch::ScalarType> compute_dtype = c10::nullopt;
};

/// clip_[α,β](W) = ½[(α+β)I + (αO − W) msign(αO − W)ᵀ − (βO − W) msign(βO − W)ᵀ] O
/// with O = msign(W): applies σ ↦ clamp(σ, α, β) to every singular value of W while
/// keeping its singular vectors. Directions where W is (numerically) zero stay zero.
/// `w`: [m, n] or [B, m, n], floating point, any device; returns w's shape, dtype,
/// device. Requires 0 ≤ α ≤ β (std::invalid_argument otherwise).
torch::Tensor spectral_clip(const torch::Tensor& w, double alpha, double beta, const SpectralClipConfig& config = {});

/// spectral_clip(w, 0, β): caps every singular value at β (projection onto the
/// spectral-norm ball of radius β). Requires β > 0.
torch::Tensor spectral_cap(const torch::Tensor& w, double beta, const SpectralClipConfig& config = {});

}  // namespace ludus::rl::optim
