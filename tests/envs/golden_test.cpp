// Golden trajectory digests, one per game and mode: a fixed seed and fixed random actions
// must give the same observations, rewards, flags and state bytes as when the value was
// recorded. A change that alters a game's trajectories (a rule, an order of operations,
// an observation layout) fails here and names the game. If the change is intended,
// replace the value with the one printed and say why in the commit message.
#include <gtest/gtest.h>

#include <cstdio>
#include <ostream>

#include "ludus/engine/conformance.hpp"
#include "ludus/engine/registry.hpp"

namespace ludus {
namespace {

struct Golden {
  const char* game;
  const char* options;  // YAML
  int64_t ticks;
  uint64_t digest;
};

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void PrintTo(const Golden& g, std::ostream* os) { *os << g.game << " " << g.options << " (" << g.ticks << " ticks)"; }

class GoldenDigest : public ::testing::TestWithParam<Golden> {};

TEST_P(GoldenDigest, TrajectoryIsUnchanged) {
  const Golden& g = GetParam();
  auto env = make_env(g.game, ConfigTree::from_string(g.options, "golden options"));
  const uint64_t got = trajectory_digest(*env, 20261202, 7, g.ticks);
  auto again = make_env(g.game, ConfigTree::from_string(g.options, "golden options"));
  ASSERT_EQ(trajectory_digest(*again, 20261202, 7, g.ticks), got) << "the digest itself is not reproducible";
  EXPECT_EQ(hex(got), hex(g.digest)) << g.game << " " << g.options << ": " << g.ticks
                                     << "-tick trajectory changed (now " << hex(got) << ", golden " << hex(g.digest)
                                     << ")";
}

const Golden kGolden[] = {
    {"reach", "{}", 2000, 0xcc33821fb2ae17ba},
    // The two random-mode Codeball digests were re-recorded on 2026-12-05, when the shuffled
    // robot order came to decide pairs, hits and pickups.
    {"codeball", "{}", 1500, 0x9de3d6715a58956d},
    {"codeball", "{deterministic: true}", 1500, 0xb446973e56c2d0b1},
    {"codeball", "{team_size: 1, microticks: 20, action_mode: discrete, decision_ticks: 4}", 1500, 0x78a1df3a115ec485},
    {"codeball", "{team_size: 3, nitro: false}", 600, 0x6de3c653e4760b54},
    {"codewars", "{size: duel}", 1200, 0xa25191e40fd8963c},
    {"codewars", "{size: small}", 1200, 0xda56c12659ec6498},
    {"codewars", "{size: full}", 300, 0x51bb549950c862f3},
    // Box2D's tree as the broadphase: the same trajectories as the default grid.
    {"codewars", "{size: small, broadphase: box2d}", 1200, 0xda56c12659ec6498},
    {"codewars", "{size: full, broadphase: box2d}", 300, 0x51bb549950c862f3},
};

INSTANTIATE_TEST_SUITE_P(Games, GoldenDigest, ::testing::ValuesIn(kGolden),
                         [](const ::testing::TestParamInfo<Golden>& p) {
                           return std::string(p.param.game) + "_" + std::to_string(p.index);
                         });

}  // namespace
}  // namespace ludus
