// HybridOptimizer: default routing on a small policy network, rule overrides, step, save/load.
#include "ludus/rl/optim/hybrid.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ludus::rl::optim {
namespace {

struct PolicyNetImpl : torch::nn::Module {
  PolicyNetImpl()
      : embed(register_module("embed", torch::nn::Embedding(/*num_embeddings=*/10,
                                                            /*embedding_dim=*/8))),
        fc1(register_module("fc1", torch::nn::Linear(8, 32))),
        norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({32})))),
        fc2(register_module("fc2", torch::nn::Linear(32, 32))),
        fc3(register_module("fc3", torch::nn::Linear(32, 32))),
        head(register_module("head", torch::nn::Linear(32, 4))) {}

  torch::Tensor forward(const torch::Tensor& tokens) {
    auto x = embed(tokens).mean(/*dim=*/1);
    x = torch::relu(norm(fc1(x)));
    x = torch::relu(fc2(x));
    x = torch::relu(fc3(x));
    return head(x);
  }

  torch::nn::Embedding embed;
  torch::nn::Linear fc1;
  torch::nn::LayerNorm norm;
  torch::nn::Linear fc2;
  torch::nn::Linear fc3;
  torch::nn::Linear head;
};
TORCH_MODULE(PolicyNet);

std::map<std::string, std::string> routing_by_name(const std::vector<Route>& routes) {
  std::map<std::string, std::string> by_name;
  for (const auto& route : routes) {
    by_name[route.name] = to_string(route.optimizer);
  }
  return by_name;
}

TEST(Routing, DefaultSendsOnlyHiddenMatricesToMuon) {
  PolicyNet net;
  const auto routes = route_parameters(net->named_parameters());
  const std::map<std::string, std::string> expected{
      {"embed.weight", "adamw"}, {"fc1.weight", "adamw"},  {"fc1.bias", "adamw"},  {"norm.weight", "adamw"},
      {"norm.bias", "adamw"},    {"fc2.weight", "muon"},   {"fc2.bias", "adamw"},  {"fc3.weight", "muon"},
      {"fc3.bias", "adamw"},     {"head.weight", "adamw"}, {"head.bias", "adamw"},
  };
  EXPECT_EQ(routing_by_name(routes), expected);
  std::map<std::string, std::string> reasons;
  for (const auto& route : routes) {
    reasons[route.name] = route.reason;
  }
  EXPECT_EQ(reasons["embed.weight"], "embedding");
  EXPECT_EQ(reasons["fc1.weight"], "first layer");
  EXPECT_EQ(reasons["head.weight"], "last layer");
  EXPECT_EQ(reasons["norm.weight"], "1-D");
  EXPECT_EQ(reasons["fc2.weight"], "hidden matrix");
}

TEST(Routing, RulesOverrideInOrder) {
  PolicyNet net;
  const auto routes = route_parameters(net->named_parameters(),
                                       {{"^head\\.weight$", "muon"}, {"fc3", "adamw"}, {"fc3\\.weight", "muon"}});
  const auto by_name = routing_by_name(routes);
  EXPECT_EQ(by_name.at("head.weight"), "muon");
  EXPECT_EQ(by_name.at("fc3.weight"), "adamw");  // the first matching rule wins
  EXPECT_EQ(by_name.at("fc2.weight"), "muon");
  EXPECT_EQ(routes[9].reason, "rule 0: ^head\\.weight$");
}

TEST(Routing, BadRulesAreClearErrors) {
  PolicyNet net;
  const auto params = net->named_parameters();
  try {
    route_parameters(params, {{"fc2", "sgd"}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'sgd'"), std::string::npos) << message;
    EXPECT_NE(message.find("muon adamw"), std::string::npos) << message;
  }
  EXPECT_THROW(route_parameters(params, {{"fc2(", "muon"}}), std::invalid_argument);
  EXPECT_THROW(route_parameters(params, {{"bias", "muon"}}), std::invalid_argument);
}

TEST(Routing, TableListsNameShapeAndOptimizer) {
  PolicyNet net;
  const auto table = format_routing_table(route_parameters(net->named_parameters()));
  std::istringstream lines(table);
  std::string line;
  bool found = false;
  while (std::getline(lines, line)) {
    if (line.rfind("fc2.weight", 0) == 0) {
      found = true;
      EXPECT_NE(line.find("[32, 32]"), std::string::npos) << line;
      EXPECT_NE(line.find("muon"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(found) << table;
}

TEST(HybridOptimizer, TrainsAndRoundTripsBothStates) {
  torch::manual_seed(9);
  PolicyNet net;
  PolicyNet twin;
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < net->parameters().size(); ++i) {
      twin->parameters()[i].copy_(net->parameters()[i]);
    }
  }
  const auto tokens = torch::randint(/*high=*/10, {64, 5}, torch::kInt64);
  const auto targets = torch::randn({64, 4});
  HybridOptions options;
  options.muon.lr(0.02);
  options.adamw.lr(3e-3);
  HybridOptimizer optimizer(net->named_parameters(), options);
  ASSERT_NE(optimizer.muon(), nullptr);
  ASSERT_NE(optimizer.adamw(), nullptr);
  EXPECT_EQ(optimizer.muon()->param_groups().front().params().size(), 2U);

  const auto train_step = [&](PolicyNet& model, HybridOptimizer& opt) {
    opt.zero_grad();
    auto loss = torch::mse_loss(model->forward(tokens), targets);
    loss.backward();
    opt.step();
    return loss.item<double>();
  };
  const double initial = train_step(net, optimizer);
  for (int step = 0; step < 40; ++step) {
    train_step(net, optimizer);
  }
  EXPECT_LT(torch::mse_loss(net->forward(tokens), targets).item<double>(), 0.7 * initial);

  torch::serialize::OutputArchive out;
  optimizer.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < net->parameters().size(); ++i) {
      twin->parameters()[i].copy_(net->parameters()[i]);
    }
  }
  HybridOptimizer restored(twin->named_parameters(), options);
  std::istringstream input(bytes.str());
  torch::serialize::InputArchive in;
  in.load_from(input);
  restored.load(in);
  for (int step = 0; step < 3; ++step) {
    train_step(net, optimizer);
    train_step(twin, restored);
  }
  for (size_t i = 0; i < net->parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(net->parameters()[i], twin->parameters()[i])) << "parameter " << i;
  }
}

TEST(HybridOptimizer, LoadRefusesAnArchiveWithOtherRouting) {
  PolicyNet net;
  HybridOptimizer saved_from(net->named_parameters());
  torch::serialize::OutputArchive out;
  saved_from.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  HybridOptions options;
  options.rules = {{"head\\.weight", "muon"}};
  HybridOptimizer other(net->named_parameters(), options);
  std::istringstream input(bytes.str());
  torch::serialize::InputArchive in;
  in.load_from(input);
  EXPECT_THROW(other.load(in), c10::Error);
}

}  // namespace
}  // namespace ludus::rl::optim
