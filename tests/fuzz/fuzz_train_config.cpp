// Training configs: any YAML text binds to a TrainConfig (every section and key, as
// `ludus train --config` reads it) or is refused with a ConfigError naming what was wrong.
#include <cstdint>
#include <string_view>

#include "ludus/engine/config.hpp"
#include "ludus/train/train_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto tree = ludus::ConfigTree::from_string(text, "fuzzed-train.yaml");
    const auto cfg = ludus::bind_options<ludus::rl::TrainConfig>(tree);
    (void)cfg;
  } catch (const ludus::ConfigError&) {
  }
  return 0;
}
