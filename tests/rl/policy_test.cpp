// PolicyNet: the network names its own hidden matrices (what the trainer gives Muon).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "ludus/rl/policy.hpp"

namespace ludus::rl {
namespace {

std::map<std::string, std::vector<int64_t>> shapes(PolicyNet& net) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& p : net->named_parameters()) out[p.key()] = p.value().sizes().vec();
  return out;
}

TEST(PolicyNet, NamesItsHiddenToHiddenMatricesAndNothingElse) {
  NetworkOptions no;
  no.hidden = 16;
  no.layers = 3;
  PolicyNet net(7, ActionSpace::discrete(5), no, /*value_head=*/true);
  const std::vector<std::string> want{"policy.2.weight", "policy.4.weight", "value.2.weight", "value.4.weight"};
  EXPECT_EQ(net->hidden_matrices(), want);
  const auto all = shapes(net);
  for (const auto& name : want) {
    ASSERT_TRUE(all.count(name)) << name;
    EXPECT_EQ(all.at(name), (std::vector<int64_t>{16, 16})) << name;
  }
  // Every other matrix touches the input or the output.
  for (const auto& [name, shape] : all) {
    if (shape.size() == 2 && std::find(want.begin(), want.end(), name) == want.end()) {
      EXPECT_TRUE(shape[1] == 7 || shape[0] == 5 || shape[0] == 1) << name;
    }
  }

  no.layers = 1;
  PolicyNet shallow(7, ActionSpace::discrete(5), no, /*value_head=*/false);
  EXPECT_TRUE(shallow->hidden_matrices().empty());
}

TEST(PolicyNet, EntityEncodersAreInputLayersNotHiddenMatrices) {
  NetworkOptions no;
  no.arch = "entity";
  no.hidden = 8;
  no.layers = 2;
  no.entity_count = 3;
  no.entity_features = 4;
  PolicyNet net(2 + 12, ActionSpace::box({-1, -1}, {1, 1}), no, /*value_head=*/true);
  EXPECT_EQ(net->hidden_matrices(), (std::vector<std::string>{"policy.2.weight", "value.2.weight"}));
  EXPECT_TRUE(shapes(net).count("encoder.0.weight"));
}

}  // namespace
}  // namespace ludus::rl
