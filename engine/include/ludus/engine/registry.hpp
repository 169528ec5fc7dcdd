// Env registry: games register by name with one line; tools create them by name.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ludus/engine/config.hpp"
#include "ludus/engine/env.hpp"

namespace ludus {

struct EnvEntry {
  std::string name;
  std::string description;
  // Binds `options` into the game's option struct (throws ConfigError) and builds it.
  std::function<std::unique_ptr<Env>(const ConfigTree& options)> create;
  // The full effective options (defaults filled in) as YAML.
  std::function<std::string(const ConfigTree& options, bool with_comments)> effective_options;
  std::string origin = "built-in";  // or the plugin file it came from
};

class EnvRegistry {
 public:
  static EnvRegistry& global();

  // Called from static initializers. A duplicate name is recorded in errors(), not thrown.
  bool add(EnvEntry entry);
  const EnvEntry* find(const std::string& name) const;
  // Throws std::invalid_argument naming the registered games when `name` is unknown.
  const EnvEntry& get(const std::string& name) const;
  std::vector<std::string> names() const;
  std::vector<std::string> errors() const;

  // Plugin loading: registrations made while capturing are held back until commit().
  void begin_capture(std::string origin);
  std::vector<EnvEntry> end_capture();
  // Adds captured entries; throws std::runtime_error on a name that is already taken.
  void commit(std::vector<EnvEntry> entries);

 private:
  mutable std::mutex mu_;
  std::vector<EnvEntry> entries_;
  std::vector<std::string> errors_;
  bool capturing_ = false;
  std::string capture_origin_;
  std::vector<EnvEntry> captured_;
};

template <class EnvT, class OptionsT>
EnvEntry make_env_entry(std::string name, std::string description) {
  EnvEntry e;
  e.name = std::move(name);
  e.description = std::move(description);
  e.create = [](const ConfigTree& tree) -> std::unique_ptr<Env> {
    return std::make_unique<EnvT>(bind_options<OptionsT>(tree));
  };
  e.effective_options = [](const ConfigTree& tree, bool comments) {
    return options_yaml(bind_options<OptionsT>(tree), comments);
  };
  return e;
}

// Creates a registered game; throws std::invalid_argument (unknown name) or ConfigError.
std::unique_ptr<Env> make_env(const std::string& name, const ConfigTree& options = {});

}  // namespace ludus

#define LUDUS_CONCAT_INNER(a, b) a##b
#define LUDUS_CONCAT(a, b) LUDUS_CONCAT_INNER(a, b)

// Registers ENV_TYPE (constructible from OPTIONS_TYPE) under NAME. Put it at the bottom
// of the game's .cpp file, at namespace scope.
#define LUDUS_REGISTER_ENV(NAME, ENV_TYPE, OPTIONS_TYPE, DESCRIPTION)                \
  [[maybe_unused]] static const bool LUDUS_CONCAT(ludus_env_registered_, __LINE__) = \
      ::ludus::EnvRegistry::global().add(::ludus::make_env_entry<ENV_TYPE, OPTIONS_TYPE>(NAME, DESCRIPTION))
