// Spectral clipping and capping through msign.
#include "ludus/rl/optim/spectral_clip.hpp"

#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace ludus::rl::optim {

torch::Tensor spectral_clip(const torch::Tensor& w, double alpha, double beta, const SpectralClipConfig& config) {
  if (!(alpha >= 0.0 && alpha <= beta && std::isfinite(beta))) {
    std::ostringstream message;
    message << "spectral_clip expects finite bounds 0 <= alpha <= beta, got alpha=" << alpha << " beta=" << beta;
    throw std::invalid_argument(message.str());
  }
  TORCH_CHECK(w.dim() == 2 || w.dim() == 3, "spectral_clip expects [m, n] or [B, m, n], got shape ", w.sizes());
  TORCH_CHECK(w.is_floating_point(), "spectral_clip expects a floating-point tensor, got ", w.scalar_type());
  // The formula's Gram-like products are m×m; work on the side with the smaller m.
  const bool tall = w.size(-2) > w.size(-1);
  auto x = w.to(config.compute_dtype.value_or(w.scalar_type()));
  if (tall) {
    x = x.transpose(-2, -1);
  }
  const auto msign_of = [&config](const torch::Tensor& t) {
    return msign(t, config.schedule, config.steps, config.compute_dtype);
  };
  const auto polar = msign_of(x);
  const auto below = polar * alpha - x;
  const auto above = polar * beta - x;
  const auto eye = torch::eye(x.size(-2), x.options());
  const auto middle = eye * (alpha + beta) + torch::matmul(below, msign_of(below).transpose(-2, -1)) -
                      torch::matmul(above, msign_of(above).transpose(-2, -1));
  auto clipped = torch::matmul(middle, polar).mul_(0.5);
  if (tall) {
    clipped = clipped.transpose(-2, -1);
  }
  return clipped.to(w.scalar_type()).contiguous();
}

torch::Tensor spectral_cap(const torch::Tensor& w, double beta, const SpectralClipConfig& config) {
  if (!(beta > 0.0)) {
    throw std::invalid_argument("spectral_cap expects beta > 0, got " + std::to_string(beta));
  }
  return spectral_clip(w, /*alpha=*/0.0, beta, config);
}

}  // namespace ludus::rl::optim
