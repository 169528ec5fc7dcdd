// Dual directions: each attains the dual norm and has unit norm in its own norm.
#include "ludus/rl/optim/dual.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace ludus::rl::optim {
namespace {

struct DualCase {
  NormKind kind;
  // Newton–Schulz directions are exact only up to the schedule's band.
  double relative_tolerance;
};

class DualDirection : public ::testing::TestWithParam<DualCase> {};

MsignConfig tight_msign() { return MsignConfig{ns_schedule("you6"), /*steps=*/8, c10::nullopt}; }

TEST_P(DualDirection, AttainsTheDualNormWithUnitNorm) {
  const auto [kind, tolerance] = GetParam();
  torch::manual_seed(17);
  for (const auto& shape :
       {std::vector<int64_t>{48, 16}, std::vector<int64_t>{20, 60}, std::vector<int64_t>{2, 30, 12}}) {
    const auto g = torch::randn(shape, torch::kFloat32);
    const auto d = dual_direction(g, kind, tight_msign());
    ASSERT_EQ(d.sizes(), g.sizes());
    const auto inner = (g.to(torch::kFloat64) * d.to(torch::kFloat64)).sum(/*dim=*/{-2, -1});
    const auto dual_norm = dual_norm_value(g, kind);
    EXPECT_TRUE(torch::allclose(inner, dual_norm, /*rtol=*/tolerance, /*atol=*/0.0))
        << to_string(kind) << " shape " << g.sizes() << ": <G,d> = " << inner << " dual norm = " << dual_norm;
    const auto norm_of_d = norm_value(d, kind);
    EXPECT_LE(norm_of_d.max().item<double>(), 1.0 + 1e-5) << to_string(kind);
    EXPECT_GE(norm_of_d.min().item<double>(), 1.0 - tolerance) << to_string(kind);
  }
}

TEST_P(DualDirection, BeatsRandomUnitNormDirections) {
  const auto kind = GetParam().kind;
  torch::manual_seed(23);
  const auto g = torch::randn({24, 12});
  const double attained = (g * dual_direction(g, kind, tight_msign())).sum().item<double>();
  for (int trial = 0; trial < 20; ++trial) {
    const auto t = torch::randn({24, 12});
    const auto unit = t / norm_value(t, kind).to(torch::kFloat32);
    EXPECT_LE((g * unit).sum().item<double>(), attained * (1.0 + 1e-4)) << to_string(kind);
  }
}

TEST_P(DualDirection, ZeroGradientGivesZeroDirection) {
  const auto d = dual_direction(torch::zeros({6, 4}), GetParam().kind);
  EXPECT_EQ(d.abs().max().item<float>(), 0.0F) << to_string(GetParam().kind);
}

INSTANTIATE_TEST_SUITE_P(AllNorms, DualDirection,
                         ::testing::Values(DualCase{NormKind::spectral, 5e-3}, DualCase{NormKind::rms_to_rms, 5e-3},
                                           DualCase{NormKind::frobenius, 1e-5}, DualCase{NormKind::linf_sign, 1e-5},
                                           DualCase{NormKind::colnorm, 1e-5}, DualCase{NormKind::rownorm, 1e-5}),
                         [](const auto& case_info) { return to_string(case_info.param.kind); });

TEST(Dual, NamesRoundTripAndUnknownNamesAreListed) {
  for (const auto kind : {NormKind::spectral, NormKind::rms_to_rms, NormKind::frobenius, NormKind::linf_sign,
                          NormKind::colnorm, NormKind::rownorm}) {
    EXPECT_EQ(parse_norm_kind(to_string(kind)), kind);
  }
  try {
    parse_norm_kind("nuclear");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("colnorm"), std::string::npos) << error.what();
  }
  EXPECT_THROW(parse_muon_scaling("keller"), std::invalid_argument);
}

TEST(Dual, SchattenDirectionAttainsTheDualSchattenNorm) {
  torch::manual_seed(29);
  const auto g = torch::randn({2, 30, 18});
  for (const double p : {1.5, 2.0, 4.0, 32.0, std::numeric_limits<double>::infinity()}) {
    const double q = std::isinf(p) ? 1.0 : p / (p - 1.0);
    const auto d = schatten_dual_direction(g, p);
    ASSERT_EQ(d.sizes(), g.sizes());
    const auto inner = (g.to(torch::kFloat64) * d.to(torch::kFloat64)).sum(/*dim=*/{-2, -1});
    EXPECT_TRUE(torch::allclose(inner, schatten_norm_value(g, q), /*rtol=*/1e-4)) << "p " << p;
    EXPECT_TRUE(torch::allclose(schatten_norm_value(d, p), torch::ones({2}, torch::kFloat64),
                                /*rtol=*/1e-4))
        << "p " << p;
  }
  // p = 2 is the Frobenius direction, p = ∞ the spectral one.
  const auto g2 = g[0];
  EXPECT_TRUE(torch::allclose(schatten_dual_direction(g2, 2.0), dual_direction(g2, NormKind::frobenius), /*rtol=*/1e-4,
                              /*atol=*/1e-6));
  EXPECT_THROW(schatten_dual_direction(g2, 1.0), std::invalid_argument);
}

TEST(Dual, MuonScalingFactors) {
  EXPECT_DOUBLE_EQ(muon_scale(512, 128, MuonScaling::original), 2.0);
  EXPECT_DOUBLE_EQ(muon_scale(128, 512, MuonScaling::original), 1.0);
  EXPECT_DOUBLE_EQ(muon_scale(400, 100, MuonScaling::moonlight), 0.2 * 20.0);
  EXPECT_DOUBLE_EQ(muon_scale(7, 3, MuonScaling::none), 1.0);
}

}  // namespace
}  // namespace ludus::rl::optim
