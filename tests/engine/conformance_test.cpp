// Runs the conformance suite on every registered game: a new game is covered by
// registering it, with no test to write.
#include <gtest/gtest.h>

#include "ludus/engine/conformance.hpp"
#include "ludus/engine/registry.hpp"

namespace ludus {
namespace {

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, PassesEveryCheck) {
  const auto results = run_conformance(GetParam(), ConfigTree());
  ASSERT_GE(results.size(), 8u) << "the suite stopped early: " << results.back().detail;
  for (const auto& r : results) {
    EXPECT_TRUE(r.passed) << r.name << ": " << r.detail;
    RecordProperty(r.name, r.detail);
  }
}

INSTANTIATE_TEST_SUITE_P(AllRegisteredEnvs, Conformance, ::testing::ValuesIn(EnvRegistry::global().names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(ConformanceSuite, RegistryHoldsTheExampleGame) {
  EXPECT_NE(EnvRegistry::global().find("reach"), nullptr);
  EXPECT_TRUE(EnvRegistry::global().errors().empty());
}

}  // namespace
}  // namespace ludus
