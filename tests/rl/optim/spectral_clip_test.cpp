// Spectral clipping via msign against the SVD of the result.
#include "ludus/rl/optim/spectral_clip.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>

namespace ludus::rl::optim {
namespace {

// A [rows, cols] matrix with the given singular values and random singular vectors.
torch::Tensor with_singular_values(const torch::Tensor& sigma, int64_t rows, int64_t cols) {
  const auto k = sigma.size(0);
  const auto orthonormal = [k](int64_t n) {
    return std::get<0>(torch::linalg::qr(torch::randn({n, k}, torch::kFloat64), "reduced"));
  };
  const auto u = orthonormal(rows);
  const auto v = orthonormal(cols);
  return torch::matmul(u * sigma.to(torch::kFloat64), v.transpose(0, 1)).to(torch::kFloat32);
}

torch::Tensor sorted_singular_values(const torch::Tensor& w) {
  return torch::linalg::svdvals(w.to(torch::kFloat64), c10::nullopt);
}

TEST(SpectralClip, CapLeavesNoSingularValueAboveBeta) {
  torch::manual_seed(1);
  for (const auto& shape : {std::vector<int64_t>{64, 32}, std::vector<int64_t>{32, 80}, std::vector<int64_t>{48, 48}}) {
    const auto w = torch::randn(shape) * 0.5;
    const double beta = 0.5 * sorted_singular_values(w).max().item<double>();
    const auto capped = spectral_cap(w, beta);
    ASSERT_EQ(capped.sizes(), w.sizes());
    EXPECT_LE(sorted_singular_values(capped).max().item<double>(), beta * 1.01) << "shape " << w.sizes();
  }
}

TEST(SpectralClip, ClampsEverySingularValueIntoTheBand) {
  torch::manual_seed(2);
  const auto sigma = torch::tensor({4.0, 3.0, 2.0, 1.5, 1.2, 1.0, 0.8, 0.6, 0.4, 0.2});
  const auto w = with_singular_values(sigma, /*rows=*/40, /*cols=*/20);
  const double alpha = 0.5;
  const double beta = 1.5;
  const auto clipped = spectral_clip(w, alpha, beta);
  const auto got = sorted_singular_values(clipped).slice(/*dim=*/0, 0, sigma.size(0));
  const auto expected = sigma.clamp(alpha, beta).to(torch::kFloat64);
  EXPECT_LT((got - expected).abs().max().item<double>(), 0.02) << "got " << got << " expected " << expected;
}

TEST(SpectralClip, LeavesSingularValuesInsideTheBandNearlyUnchanged) {
  torch::manual_seed(4);
  const auto sigma = torch::linspace(0.3, 0.9, /*steps=*/12);
  const auto w = with_singular_values(sigma, /*rows=*/24, /*cols=*/36);
  const auto clipped = spectral_clip(w, /*alpha=*/0.1, /*beta=*/1.0);
  EXPECT_LT(((clipped - w).norm() / w.norm()).item<double>(), 0.01);
}

TEST(SpectralClip, BatchedAndTallShapesKeepTheirShape) {
  torch::manual_seed(6);
  const auto w = torch::randn({3, 50, 10});
  const auto capped = spectral_cap(w, /*beta=*/1.0);
  ASSERT_EQ(capped.sizes(), w.sizes());
  for (int64_t i = 0; i < w.size(0); ++i) {
    EXPECT_LE(sorted_singular_values(capped[i]).max().item<double>(), 1.01) << "batch " << i;
  }
}

TEST(SpectralClip, RejectsBadBounds) {
  const auto w = torch::randn({4, 4});
  EXPECT_THROW(spectral_clip(w, /*alpha=*/2.0, /*beta=*/1.0), std::invalid_argument);
  EXPECT_THROW(spectral_clip(w, /*alpha=*/-1.0, /*beta=*/1.0), std::invalid_argument);
  EXPECT_THROW(spectral_cap(w, /*beta=*/0.0), std::invalid_argument);
}

}  // namespace
}  // namespace ludus::rl::optim
