// Routing named parameters between Muon and AdamW, and the optimizer that owns both.
#include "ludus/rl/optim/hybrid.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <iomanip>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace ludus::rl::optim {
namespace {

struct CompiledRule {
  std::regex regex;
  OptimizerKind optimizer;
  std::string description;
};

std::vector<CompiledRule> compile_rules(const std::vector<RoutingRule>& rules) {
  std::vector<CompiledRule> compiled;
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& rule = rules[i];
    const auto kind = parse_optimizer_kind(rule.optimizer);
    try {
      compiled.push_back({std::regex(rule.pattern, std::regex::ECMAScript), kind,
                          rule.reason.empty() ? "rule " + std::to_string(i) + ": " + rule.pattern : rule.reason});
    } catch (const std::regex_error& error) {
      throw std::invalid_argument("routing rule " + std::to_string(i) + ": invalid regex '" + rule.pattern +
                                  "': " + error.what());
    }
  }
  return compiled;
}

bool looks_like_embedding(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("emb") != std::string::npos;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::ostringstream text;
  text << '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    text << (i == 0 ? "" : ", ") << shape[i];
  }
  text << ']';
  return text.str();
}

}  // namespace

std::string to_string(OptimizerKind kind) { return kind == OptimizerKind::muon ? "muon" : "adamw"; }

OptimizerKind parse_optimizer_kind(std::string_view name) {
  if (name == "muon") {
    return OptimizerKind::muon;
  }
  if (name == "adamw") {
    return OptimizerKind::adamw;
  }
  throw std::invalid_argument("unknown optimizer '" + std::string(name) + "'; valid names: muon adamw");
}

std::vector<Route> route_parameters(const torch::OrderedDict<std::string, torch::Tensor>& params,
                                    const std::vector<RoutingRule>& rules) {
  const auto compiled = compile_rules(rules);
  std::optional<size_t> first_matrix;
  std::optional<size_t> last_matrix;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& item = params[i];
    if (item.value().dim() >= 2 && !looks_like_embedding(item.key())) {
      first_matrix = first_matrix.value_or(i);
      last_matrix = i;
    }
  }

  std::vector<Route> routes;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& name = params[i].key();
    const auto& tensor = params[i].value();
    Route route{name, tensor.sizes().vec(), OptimizerKind::adamw, ""};
    const auto matched = std::find_if(compiled.begin(), compiled.end(),
                                      [&name](const auto& rule) { return std::regex_search(name, rule.regex); });
    if (matched != compiled.end()) {
      route.optimizer = matched->optimizer;
      route.reason = matched->description;
      if (route.optimizer == OptimizerKind::muon && tensor.dim() < 2) {
        throw std::invalid_argument("routing " + matched->description + " sends '" + name + "' of shape " +
                                    shape_string(route.shape) + " to muon; Muon needs >= 2-D parameters");
      }
    } else if (tensor.dim() < 2) {
      route.reason = "1-D";
    } else if (looks_like_embedding(name)) {
      route.reason = "embedding";
    } else if (first_matrix == i) {
      route.reason = "first layer";
    } else if (last_matrix == i) {
      route.reason = "last layer";
    } else {
      route.optimizer = OptimizerKind::muon;
      route.reason = "hidden matrix";
    }
    routes.push_back(std::move(route));
  }
  return routes;
}

std::string format_routing_table(const std::vector<Route>& routes) {
  size_t name_width = 9;
  size_t shape_width = 5;
  for (const auto& route : routes) {
    name_width = std::max(name_width, route.name.size());
    shape_width = std::max(shape_width, shape_string(route.shape).size());
  }
  std::ostringstream table;
  table << std::left << std::setw(static_cast<int>(name_width)) << "parameter"
        << "  " << std::setw(static_cast<int>(shape_width)) << "shape"
        << "  " << std::setw(9) << "optimizer"
        << "  reason\n";
  for (const auto& route : routes) {
    table << std::setw(static_cast<int>(name_width)) << route.name << "  " << std::setw(static_cast<int>(shape_width))
          << shape_string(route.shape) << "  " << std::setw(9) << to_string(route.optimizer) << "  " << route.reason
          << '\n';
  }
  return table.str();
}

HybridOptimizer::HybridOptimizer(const torch::OrderedDict<std::string, torch::Tensor>& named_parameters,
                                 HybridOptions options) {
  torch::OrderedDict<std::string, torch::Tensor> trainable;
  for (const auto& item : named_parameters) {
    if (item.value().requires_grad()) {
      trainable.insert(item.key(), item.value());
    }
  }
  routes_ = route_parameters(trainable, options.rules);
  std::vector<torch::Tensor> muon_params;
  std::vector<torch::Tensor> adamw_params;
  for (size_t i = 0; i < routes_.size(); ++i) {
    (routes_[i].optimizer == OptimizerKind::muon ? muon_params : adamw_params).push_back(trainable[i].value());
  }
  if (!muon_params.empty()) {
    muon_ = std::make_unique<Muon>(std::move(muon_params), options.muon);
  }
  if (!adamw_params.empty()) {
    adamw_ = std::make_unique<torch::optim::AdamW>(std::move(adamw_params), options.adamw);
  }
}

void HybridOptimizer::step() {
  if (muon_) {
    muon_->step();
  }
  if (adamw_) {
    adamw_->step();
  }
}

void HybridOptimizer::zero_grad() {
  if (muon_) {
    muon_->zero_grad();
  }
  if (adamw_) {
    adamw_->zero_grad();
  }
}

namespace {

std::string routed_names(const std::vector<Route>& routes, OptimizerKind kind) {
  std::string names;
  for (const auto& route : routes) {
    if (route.optimizer == kind) {
      names += route.name;
      names += '\n';
    }
  }
  return names;
}

}  // namespace

void HybridOptimizer::save(torch::serialize::OutputArchive& archive) const {
  for (const auto kind : {OptimizerKind::muon, OptimizerKind::adamw}) {
    archive.write("routes/" + to_string(kind), c10::IValue(routed_names(routes_, kind)));
  }
  if (muon_) {
    torch::serialize::OutputArchive muon_archive(archive.compilation_unit());
    muon_->save(muon_archive);
    archive.write("muon", muon_archive);
  }
  if (adamw_) {
    torch::serialize::OutputArchive adamw_archive(archive.compilation_unit());
    adamw_->save(adamw_archive);
    archive.write("adamw", adamw_archive);
  }
}

void HybridOptimizer::load(torch::serialize::InputArchive& archive) {
  for (const auto kind : {OptimizerKind::muon, OptimizerKind::adamw}) {
    c10::IValue saved;
    archive.read("routes/" + to_string(kind), saved);
    const auto expected = routed_names(routes_, kind);
    TORCH_CHECK(saved.toStringRef() == expected, "HybridOptimizer::load: the archive routes [", saved.toStringRef(),
                "] to ", to_string(kind), ", this optimizer routes [", expected, "]");
  }
  if (muon_) {
    torch::serialize::InputArchive muon_archive;
    archive.read("muon", muon_archive);
    muon_->load(muon_archive);
  }
  if (adamw_) {
    torch::serialize::InputArchive adamw_archive;
    archive.read("adamw", adamw_archive);
    adamw_->load(adamw_archive);
  }
}

}  // namespace ludus::rl::optim
