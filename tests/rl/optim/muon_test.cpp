// Muon: the update rule, descent on least squares, 1-D refusal, state save/load.
#include "ludus/rl/optim/muon.hpp"

#include "ludus/rl/optim/dual.hpp"
#include "ludus/rl/optim/msign.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>
#include <string>
#include <vector>

namespace ludus::rl::optim {
namespace {

torch::Tensor parameter(std::vector<int64_t> shape) { return torch::randn(shape).mul_(0.1).requires_grad_(true); }

void set_grad(torch::Tensor& param, const torch::Tensor& grad) { param.mutable_grad() = grad.clone(); }

TEST(Muon, FirstStepIsTheScaledNesterovMsign) {
  torch::manual_seed(1);
  auto w = parameter({48, 16});
  const auto w0 = w.detach().clone();
  const auto g = torch::randn({48, 16});
  const double lr = 0.05;
  const double beta = 0.9;
  const double weight_decay = 0.1;
  Muon muon({w}, MuonOptions(lr).momentum(beta).weight_decay(weight_decay));
  set_grad(w, g);
  muon.step();
  // m = (1 − β) G; u = (1 − β) G + β m; tall 48×16 → original scale √3.
  const auto u = g * (1.0 - beta) + g * ((1.0 - beta) * beta);
  const auto expected = w0 * (1.0 - lr * weight_decay) - msign(u, ns_schedule("keller")) * (lr * std::sqrt(3.0));
  EXPECT_TRUE(torch::allclose(w.detach(), expected, /*rtol=*/1e-5, /*atol=*/1e-6));
}

TEST(Muon, DecreasesALeastSquaresLoss) {
  torch::manual_seed(2);
  const auto inputs = torch::randn({256, 32});
  const auto true_weight = torch::randn({16, 32}) / std::sqrt(32.0);
  const auto targets = torch::matmul(inputs, true_weight.t());
  auto w = torch::zeros({16, 32}, torch::requires_grad());
  Muon muon({w}, MuonOptions(/*lr=*/0.02));
  const auto loss_of = [&] { return torch::mse_loss(torch::matmul(inputs, w.t()), targets); };
  const double initial = loss_of().item<double>();
  double previous = initial;
  int increases = 0;
  for (int step = 0; step < 60; ++step) {
    muon.zero_grad();
    auto loss = loss_of();
    loss.backward();
    muon.step();
    const double current = loss_of().item<double>();
    increases += current > previous ? 1 : 0;
    previous = current;
  }
  EXPECT_LT(previous, 0.05 * initial) << "initial " << initial << " final " << previous;
  EXPECT_LE(increases, 5);
}

TEST(Muon, RefusesOneDimensionalParametersWithAClearMessage) {
  auto bias = torch::zeros({64}, torch::requires_grad());
  auto weight = parameter({8, 8});
  try {
    Muon muon({weight, bias});
    FAIL() << "expected c10::Error";
  } catch (const c10::Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("parameter 1"), std::string::npos) << message;
    EXPECT_NE(message.find("[64]"), std::string::npos) << message;
    EXPECT_NE(message.find("AdamW"), std::string::npos) << message;
  }
}

TEST(Muon, RejectsInvalidOptions) {
  auto w = parameter({4, 4});
  EXPECT_THROW(Muon({w}, MuonOptions().momentum(1.0)), std::invalid_argument);
  EXPECT_THROW(Muon({w}, MuonOptions().ns_steps(0)), std::invalid_argument);
  EXPECT_THROW(Muon({w}, MuonOptions(-1.0)), std::invalid_argument);
  EXPECT_THROW(Muon({w}, MuonOptions().spectral_clip_beta(-2.0)), std::invalid_argument);
}

TEST(Muon, UpdatesConvFiltersAsTheirFlattening) {
  torch::manual_seed(3);
  auto filters = parameter({8, 4, 3, 3});
  const auto before = filters.detach().clone();
  const auto g = torch::randn({8, 4, 3, 3});
  Muon muon({filters}, MuonOptions(/*lr=*/0.1).nesterov(false).momentum(0.0));
  set_grad(filters, g);
  muon.step();
  const auto step_2d = (before - filters.detach()).reshape({8, 36}) / 0.1;
  EXPECT_TRUE(torch::allclose(step_2d, msign(g.reshape({8, 36}), ns_schedule("keller")),
                              /*rtol=*/1e-4, /*atol=*/1e-5));
}

TEST(Muon, NormKindSelectsTheDirection) {
  torch::manual_seed(4);
  auto w = parameter({6, 10});
  const auto before = w.detach().clone();
  const auto g = torch::randn({6, 10});
  Muon muon({w},
            MuonOptions(/*lr=*/1.0).momentum(0.0).nesterov(false).norm(NormKind::linf_sign).scaling(MuonScaling::none));
  set_grad(w, g);
  muon.step();
  EXPECT_TRUE(torch::allclose(before - w.detach(), torch::sign(g), /*rtol=*/0.0, /*atol=*/1e-6));
}

TEST(Muon, UnnormalizedStepScalesByTheDualNorm) {
  torch::manual_seed(7);
  auto w = parameter({5, 7});
  const auto before = w.detach().clone();
  const auto g = torch::randn({5, 7});
  Muon muon({w}, MuonOptions(/*lr=*/0.01)
                     .momentum(0.0)
                     .nesterov(false)
                     .norm(NormKind::linf_sign)
                     .scaling(MuonScaling::none)
                     .unnormalized(true));
  set_grad(w, g);
  muon.step();
  // Under ℓ∞ the dual norm is ‖G‖₁: W ← W − lr ‖G‖₁ sign(G).
  const auto expected = before - torch::sign(g) * (0.01 * g.abs().sum().item<double>());
  EXPECT_TRUE(torch::allclose(w.detach(), expected, /*rtol=*/1e-5, /*atol=*/1e-6));
}

TEST(Muon, KeepsTheParameterDtype) {
  torch::manual_seed(8);
  auto w = torch::randn({16, 8}, torch::dtype(torch::kFloat64).requires_grad(true));
  Muon muon({w}, MuonOptions().ns_dtype(torch::kFloat32));
  set_grad(w, torch::randn({16, 8}, torch::kFloat64));
  muon.step();
  EXPECT_EQ(w.scalar_type(), torch::kFloat64);
  const auto& state = static_cast<const MuonParamState&>(*muon.state().begin()->second);
  EXPECT_EQ(state.momentum_buffer().scalar_type(), torch::kFloat64);
}

TEST(Muon, SpectralClipKeepsWeightsInTheBall) {
  torch::manual_seed(5);
  auto w = torch::randn({32, 16}, torch::requires_grad());
  Muon muon({w}, MuonOptions(/*lr=*/0.5).spectral_clip_beta(1.0));
  for (int step = 0; step < 3; ++step) {
    set_grad(w, torch::randn({32, 16}));
    muon.step();
    const auto top = torch::linalg::svdvals(w.detach(), c10::nullopt).max().item<double>();
    EXPECT_LE(top, 1.01) << "after step " << step;
  }
}

std::string save_to_string(const torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream stream;
  archive.save_to(stream);
  return stream.str();
}

void load_from_string(torch::optim::Optimizer& optimizer, const std::string& bytes) {
  std::istringstream stream(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(stream);
  optimizer.load(archive);
}

TEST(Muon, StateRoundTripReproducesTheNextSteps) {
  torch::manual_seed(6);
  const auto options =
      MuonOptions(/*lr=*/0.03).schedule(ns_schedule("quintic5")).weight_decay(0.01).spectral_clip_beta(3.0);
  auto a = parameter({20, 12});
  auto b = parameter({5, 3, 2});
  Muon original({a, b}, options);
  std::vector<torch::Tensor> grads;
  for (int i = 0; i < 6; ++i) {
    grads.push_back(torch::randn({20, 12}));
    grads.push_back(torch::randn({5, 3, 2}));
  }
  for (int step = 0; step < 3; ++step) {
    set_grad(a, grads[2 * step]);
    set_grad(b, grads[2 * step + 1]);
    original.step();
  }
  const auto bytes = save_to_string(original);

  auto a_copy = a.detach().clone().requires_grad_(true);
  auto b_copy = b.detach().clone().requires_grad_(true);
  auto a_fresh = a.detach().clone().requires_grad_(true);
  auto b_fresh = b.detach().clone().requires_grad_(true);
  Muon restored({a_copy, b_copy}, options);
  load_from_string(restored, bytes);
  Muon without_state({a_fresh, b_fresh}, options);
  for (int step = 3; step < 6; ++step) {
    for (auto* param : {&a, &a_copy, &a_fresh}) {
      set_grad(*param, grads[2 * step]);
    }
    for (auto* param : {&b, &b_copy, &b_fresh}) {
      set_grad(*param, grads[2 * step + 1]);
    }
    original.step();
    restored.step();
    without_state.step();
  }
  EXPECT_TRUE(torch::equal(a.detach(), a_copy.detach()));
  EXPECT_TRUE(torch::equal(b.detach(), b_copy.detach()));
  // The momentum carried in the archive matters: without it the steps differ.
  EXPECT_FALSE(torch::allclose(a.detach(), a_fresh.detach()));
  const auto& state = static_cast<const MuonParamState&>(*restored.state().begin()->second);
  EXPECT_EQ(state.step(), 6);
}

TEST(Muon, OptionsRoundTripThroughAnArchive) {
  const auto options = MuonOptions(/*lr=*/0.07)
                           .momentum(0.8)
                           .nesterov(false)
                           .ns_steps(7)
                           .schedule(make_ns_schedule("mine", {{2.0, -1.5, 0.5}}))
                           .norm(NormKind::rownorm)
                           .scaling(MuonScaling::moonlight)
                           .unnormalized(true)
                           .spectral_clip_beta(2.5)
                           .ns_dtype(torch::kBFloat16);
  torch::serialize::OutputArchive out;
  options.serialize(out);
  std::ostringstream stream;
  out.save_to(stream);
  std::istringstream input(stream.str());
  torch::serialize::InputArchive in;
  in.load_from(input);
  MuonOptions loaded(0.0);
  loaded.serialize(in);
  EXPECT_EQ(loaded.lr(), 0.07);
  EXPECT_EQ(loaded.momentum(), 0.8);
  EXPECT_FALSE(loaded.nesterov());
  EXPECT_EQ(loaded.ns_steps(), 7);
  EXPECT_EQ(loaded.schedule().name, "mine");
  ASSERT_EQ(loaded.schedule().steps.size(), 1U);
  EXPECT_EQ(loaded.schedule().steps[0].b, -1.5);
  EXPECT_EQ(loaded.norm(), NormKind::rownorm);
  EXPECT_EQ(loaded.scaling(), MuonScaling::moonlight);
  EXPECT_TRUE(loaded.unnormalized());
  EXPECT_EQ(loaded.spectral_clip_beta(), c10::optional<double>(2.5));
  EXPECT_EQ(loaded.ns_dtype(), c10::optional<torch::ScalarType>(torch::kBFloat16));
}

}  // namespace
}  // namespace ludus::rl::optim
