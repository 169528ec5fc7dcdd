// ludus::rl::tanh: the networks' activation, its kernel against the true tanh, and its
// gradient against torch's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "ludus/rl/policy.hpp"
#include "ludus/rl/tanh.hpp"

namespace ludus::rl {
namespace {

// Distance in units in the last place between two finite floats of the same sign.
int64_t ulps(float a, float b) {
  int32_t ia = 0, ib = 0;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return std::llabs(static_cast<int64_t>(ia) - ib);
}

TEST(TanhKernel, WithinThreeUlpOfTheTrueValueEverywhere) {
  std::vector<float> xs;
  for (float v = -12.0f; v <= 12.0f; v += 3e-4f) xs.push_back(v);  // both branches and the switch at 1/4
  for (float v = 1e-30f; v < 2.0f; v *= 1.003f) {                  // small magnitudes, densely
    xs.push_back(v);
    xs.push_back(-v);
  }
  std::vector<float> ys(xs.size());
  tanh_f32(xs.data(), ys.data(), static_cast<int64_t>(xs.size()));
  int64_t worst = 0;
  float at = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto want = static_cast<float>(std::tanh(static_cast<double>(xs[i])));
    ASSERT_EQ(std::signbit(ys[i]), std::signbit(want)) << "x = " << xs[i];
    const int64_t u = ulps(ys[i], want);
    if (u > worst) worst = u, at = xs[i];
  }
  EXPECT_LE(worst, 3) << "worst at x = " << at;
}

TEST(TanhKernel, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float denormal = std::numeric_limits<float>::denorm_min() * 5;
  const std::vector<float> xs{0.0f, -0.0f, inf, -inf, nan, -nan, 9.0f, -9.5f, 1e4f, -3e38f, denormal, -denormal};
  std::vector<float> ys(xs.size());
  tanh_f32(xs.data(), ys.data(), static_cast<int64_t>(xs.size()));
  EXPECT_EQ(ys[0], 0.0f);
  EXPECT_FALSE(std::signbit(ys[0]));
  EXPECT_EQ(ys[1], 0.0f);
  EXPECT_TRUE(std::signbit(ys[1]));
  EXPECT_EQ(ys[2], 1.0f);
  EXPECT_EQ(ys[3], -1.0f);
  EXPECT_TRUE(std::isnan(ys[4]));
  EXPECT_TRUE(std::isnan(ys[5]));
  EXPECT_EQ(ys[6], 1.0f);
  EXPECT_EQ(ys[7], -1.0f);
  EXPECT_EQ(ys[8], 1.0f);
  EXPECT_EQ(ys[9], -1.0f);
  EXPECT_EQ(ys[10], denormal);
  EXPECT_EQ(ys[11], -denormal);
}

TEST(TanhKernel, AnyLengthAndOffset) {
  // The vector loop's remainders: every length up to 40 from unaligned starts.
  std::vector<float> x(64), y(64, 7.0f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.37f - 11.0f;
  for (int64_t start = 0; start < 5; ++start)
    for (int64_t n = 0; n <= 40; ++n) {
      std::fill(y.begin(), y.end(), 7.0f);
      tanh_f32(x.data() + start, y.data() + start, n);
      for (int64_t i = 0; i < 64; ++i) {
        if (i < start || i >= start + n)
          ASSERT_EQ(y[static_cast<size_t>(i)], 7.0f) << "wrote outside [" << start << ", " << start + n << ")";
        else
          ASSERT_LE(ulps(y[static_cast<size_t>(i)], static_cast<float>(std::tanh(static_cast<double>(x[i])))), 3);
      }
    }
}

TEST(Tanh, ForwardAndGradientMatchTorch) {
  torch::manual_seed(3);
  const auto base = torch::randn({257, 33}) * 3;
  auto a = base.clone().requires_grad_(true);
  auto b = base.clone().requires_grad_(true);
  const auto ya = rl::tanh(a);
  const auto yb = torch::tanh(b);
  EXPECT_LE((ya - yb).abs().max().item<float>(), 2e-7f);
  const auto w = torch::randn({257, 33});
  (ya * w).sum().backward();
  (yb * w).sum().backward();
  EXPECT_LE((a.grad() - b.grad()).abs().max().item<float>(), 1e-6f);
  // Without grad mode the result is the same and builds no graph.
  torch::NoGradGuard no_grad;
  const auto yc = rl::tanh(a);
  EXPECT_FALSE(yc.requires_grad());
  EXPECT_TRUE(torch::equal(yc, ya.detach()));
}

TEST(Tanh, OtherDtypesAndLayoutsAreTorchs) {
  torch::manual_seed(4);
  const auto d = torch::randn({10, 7}, torch::kDouble);
  EXPECT_TRUE(torch::equal(rl::tanh(d), torch::tanh(d)));
  const auto t = torch::randn({7, 10}).t();  // not contiguous
  EXPECT_TRUE(torch::equal(rl::tanh(t), torch::tanh(t)));
}

TEST(Tanh, SplitOverThreadsGivesTheSameBits) {
  const auto x = torch::linspace(-10, 10, 300001);
  const int before = torch::get_num_threads();
  torch::set_num_threads(1);
  const auto one = rl::tanh(x);
  torch::set_num_threads(3);
  const auto three = rl::tanh(x);
  torch::set_num_threads(before);
  EXPECT_TRUE(torch::equal(one, three));
}

TEST(Tanh, IsThePolicyNetworksActivation) {
  NetworkOptions no;
  no.hidden = 8;
  no.layers = 2;
  PolicyNet net(3, ActionSpace::discrete(2), no, /*value_head=*/false);
  int found = 0;
  for (const auto& m : net->modules(/*include_self=*/false)) found += m->as<TanhImpl>() != nullptr;
  EXPECT_EQ(found, 2);
}

}  // namespace
}  // namespace ludus::rl
