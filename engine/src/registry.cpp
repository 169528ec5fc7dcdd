// The global env registry.
#include "ludus/engine/registry.hpp"

#include <stdexcept>
#include <utility>

namespace ludus {

EnvRegistry& EnvRegistry::global() {
  static EnvRegistry registry;
  return registry;
}

bool EnvRegistry::add(EnvEntry entry) {
  std::lock_guard lock(mu_);
  if (capturing_) {
    entry.origin = capture_origin_;
    captured_.push_back(std::move(entry));
    return true;
  }
  for (const auto& e : entries_) {
    if (e.name == entry.name) {
      errors_.push_back("env '" + entry.name + "' registered twice (" + e.origin + " and " + entry.origin +
                        "); the first one is kept");
      return false;
    }
  }
  entries_.push_back(std::move(entry));
  return true;
}

const EnvEntry* EnvRegistry::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const EnvEntry& EnvRegistry::get(const std::string& name) const {
  if (const EnvEntry* e = find(name)) return *e;
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown env '" + name + "'; registered: " + (known.empty() ? "(none)" : known));
}

std::vector<std::string> EnvRegistry::names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

std::vector<std::string> EnvRegistry::errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

void EnvRegistry::begin_capture(std::string origin) {
  std::lock_guard lock(mu_);
  capturing_ = true;
  capture_origin_ = std::move(origin);
  captured_.clear();
}

std::vector<EnvEntry> EnvRegistry::end_capture() {
  std::lock_guard lock(mu_);
  capturing_ = false;
  return std::exchange(captured_, {});
}

void EnvRegistry::commit(std::vector<EnvEntry> entries) {
  std::lock_guard lock(mu_);
  for (const auto& n : entries)
    for (const auto& e : entries_)
      if (e.name == n.name)
        throw std::runtime_error(n.origin + ": env '" + n.name + "' is already registered by " + e.origin);
  for (auto& n : entries) entries_.push_back(std::move(n));
}

std::unique_ptr<Env> make_env(const std::string& name, const ConfigTree& options) {
  return EnvRegistry::global().get(name).create(options);
}

}  // namespace ludus
