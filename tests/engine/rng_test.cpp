// Rng: the one-draw shuffle that Codeball's default mode uses to order robots each microtick.
#include "ludus/engine/rng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <numeric>

namespace ludus {
namespace {

// Counts how often each permutation of 0..n-1 comes out of `draws` shuffles.
template <int N>
std::map<std::array<int, N>, int> permutation_counts(uint64_t seed, int draws) {
  Rng rng(seed);
  std::map<std::array<int, N>, int> counts;
  for (int d = 0; d < draws; ++d) {
    std::array<int, N> a{};
    std::iota(a.begin(), a.end(), 0);
    rng.shuffle_short(a.data(), N);
    ++counts[a];
  }
  return counts;
}

TEST(Rng, ShuffleShortDrawsEveryPermutationOfFourEquallyOften) {
  constexpr int kDraws = 240000;  // 10,000 expected per permutation
  const auto counts = permutation_counts<4>(7, kDraws);
  ASSERT_EQ(counts.size(), 24u) << "some permutation of four never came out";
  const double expected = kDraws / 24.0;
  double chi2 = 0;
  for (const auto& [perm, c] : counts) {
    std::array<int, 4> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::array<int, 4>{0, 1, 2, 3})) << "not a permutation";
    chi2 += (c - expected) * (c - expected) / expected;
  }
  // 23 degrees of freedom: P(chi2 > 60) is about 4e-5 for a uniform shuffle; a shuffle that
  // reused the same bits for two indices, or drew the index from the low word, lands far above.
  EXPECT_LT(chi2, 60.0);
}

TEST(Rng, ShuffleShortReachesAllPermutationsOfSixAndTakesOneDraw) {
  const auto counts = permutation_counts<6>(11, 72000);
  EXPECT_EQ(counts.size(), 720u);
  for (const auto& [perm, c] : counts) EXPECT_GT(c, 40) << "permutation far below its 100 expected draws";

  Rng a(3), b(3);
  int v[6] = {0, 1, 2, 3, 4, 5};
  a.shuffle_short(v, 6);
  b.next_u64();
  EXPECT_EQ(a.state(), b.state()) << "a shuffle of up to twelve must consume exactly one draw";
  int one[1] = {9};
  a.shuffle_short(one, 1);
  EXPECT_EQ(one[0], 9);
}

}  // namespace
}  // namespace ludus
