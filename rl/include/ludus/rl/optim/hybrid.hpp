// HybridOptimizer: routes named parameters to Muon (hidden matrices) or AdamW (the rest).
#pragma once

#include "ludus/rl/optim/muon.hpp"

#include <torch/optim/adamw.h>
#include <torch/ordered_dict.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ludus::rl::optim {

enum class OptimizerKind { muon, adamw };

/// "muon" / "adamw"; parsing throws std::invalid_argument listing the valid names.
std::string to_string(OptimizerKind kind);
OptimizerKind parse_optimizer_kind(std::string_view name);

/// An override: parameters whose name matches `pattern` (ECMAScript regex, searched
/// anywhere in the name: anchor with ^…$ for a full match) go to `optimizer`
/// ("muon" or "adamw"). Rules are checked in order before the defaults; the first
/// match wins.
struct RoutingRule {
  std::string pattern;
  std::string optimizer;
  std::string reason = {};  // shown in the routing table; empty: "rule N: pattern"
};

/// Where one parameter went and why ("rule 0: ^head\\.", "1-D", "embedding",
/// "first layer", "last layer", "hidden matrix").
struct Route {
  std::string name;
  std::vector<int64_t> shape;
  OptimizerKind optimizer = OptimizerKind::adamw;
  std::string reason;
};

/// The routing, without building optimizers. Default, in this order:
///   < 2 dims (biases, norm gains, scalars)              → adamw ("1-D")
///   name contains "emb" (any case: embedding tables)     → adamw ("embedding")
///   the first ≥ 2-D parameter in registration order      → adamw ("first layer")
///   the last ≥ 2-D parameter in registration order       → adamw ("last layer")
///   every other ≥ 2-D parameter                          → muon  ("hidden matrix")
/// "First"/"last" count only ≥ 2-D non-embedding parameters, in the order of
/// module->named_parameters(); a network with several output heads names the extra
/// heads in rules. Throws std::invalid_argument for an unknown optimizer name, an
/// invalid regex, or a rule that sends a < 2-D parameter to muon.
std::vector<Route> route_parameters(const torch::OrderedDict<std::string, torch::Tensor>& params,
                                    const std::vector<RoutingRule>& rules = {});

/// The routes as an aligned text table: name, shape, optimizer, reason; one line each.
std::string format_routing_table(const std::vector<Route>& routes);

struct HybridOptions {
  MuonOptions muon;
  torch::optim::AdamWOptions adamw = torch::optim::AdamWOptions(/*lr=*/3e-4);
  std::vector<RoutingRule> rules;
};

/// One optimizer over a whole module: Muon for the hidden matrices, AdamW for the
/// rest, routed as route_parameters says. Parameters that require no grad are left
/// out. Either inner optimizer may be absent when nothing is routed to it.
/// save/load write both inner states and the routing (parameter names per
/// optimizer) into one archive; load throws c10::Error when the archive's routing
/// differs from this optimizer's.
class HybridOptimizer {
 public:
  HybridOptimizer(const torch::OrderedDict<std::string, torch::Tensor>& named_parameters, HybridOptions options = {});

  void step();
  void zero_grad();
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

  const std::vector<Route>& routes() const { return routes_; }
  std::string routing_table() const { return format_routing_table(routes_); }

  /// The inner optimizers; nullptr when no parameter was routed to one.
  Muon* muon() { return muon_.get(); }
  torch::optim::AdamW* adamw() { return adamw_.get(); }

 private:
  std::vector<Route> routes_;
  std::unique_ptr<Muon> muon_;
  std::unique_ptr<torch::optim::AdamW> adamw_;
};

}  // namespace ludus::rl::optim
