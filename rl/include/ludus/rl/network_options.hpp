// The policy network's shape as a config section (`network:`), apart from the network
// itself, so that configs and checkpoint metadata can be read without torch.
#pragma once

#include <string>
#include <string_view>

#include "ludus/engine/config.hpp"

namespace ludus::rl {

struct NetworkOptions {
  std::string arch = "mlp";  // mlp | entity
  int hidden = 128;
  int layers = 2;
  // entity: the observation is [global features, entity_count x entity_features]; each
  // entity goes through a shared encoder, then mean and max pooling.
  int entity_count = 0;
  int entity_features = 0;

  void visit(OptionVisitor& v) {
    static constexpr std::string_view kArchs[] = {"mlp", "entity"};
    v.value("arch", arch, kArchs, "network: mlp, or entity (shared per-entity encoder + pooling)");
    v.value("hidden", hidden, 8, 4096, "hidden width");
    v.value("layers", layers, 1, 8, "hidden layers of the trunk");
    v.value("entity_count", entity_count, 0, 100000, "entity arch: entities listed at the end of the observation");
    v.value("entity_features", entity_features, 0, 1024, "entity arch: features per entity");
  }
};

}  // namespace ludus::rl
