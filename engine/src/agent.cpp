// Agent registry and construction by name.
#include "ludus/engine/agent.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "ludus/engine/plugin.hpp"

namespace ludus {

AgentRegistry& AgentRegistry::global() {
  static AgentRegistry registry;
  return registry;
}

bool AgentRegistry::add(AgentEntry entry) {
  if (holding_) {
    held_.push_back(std::move(entry));
    return true;
  }
  if (find(entry.name)) return false;
  entries_.push_back(std::move(entry));
  return true;
}

// Agents a plugin registers are added only if the plugin is accepted (see PluginStage).
struct AgentRegistryPluginStage {
  static PluginStage make() {
    auto& r = AgentRegistry::global();
    PluginStage s;
    s.begin = [&r] { r.holding_ = true, r.held_.clear(); };
    s.check = [&r] {
      for (size_t i = 0; i < r.held_.size(); ++i) {
        const auto& name = r.held_[i].name;
        bool twice = false;
        for (size_t j = 0; j < i; ++j) twice = twice || r.held_[j].name == name;
        if (r.find(name) || twice) throw std::runtime_error("agent '" + name + "' is already registered");
      }
    };
    s.commit = [&r] {
      r.holding_ = false;
      for (auto& e : r.held_) r.entries_.push_back(std::move(e));
      r.held_.clear();
    };
    s.discard = [&r] { r.holding_ = false, r.held_.clear(); };
    return s;
  }
};
[[maybe_unused]] static const bool agent_plugin_stage_added =
    (add_plugin_stage(AgentRegistryPluginStage::make()), true);

const AgentEntry* AgentRegistry::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::vector<const AgentEntry*> AgentRegistry::entries() const {
  std::vector<const AgentEntry*> out;
  for (const auto& e : entries_) out.push_back(&e);
  return out;
}

std::vector<std::string> split_agent_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string part; std::getline(ss, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

std::string default_bot(const std::string& env_name) {
  for (const auto* e : AgentRegistry::global().entries())
    if (std::find(e->games.begin(), e->games.end(), env_name) != e->games.end()) return e->name;
  return "random";
}

std::vector<std::string> agents_for(const std::string& env_name) {
  std::vector<std::string> names;
  for (const auto* e : AgentRegistry::global().entries())
    if (e->games.empty() || std::find(e->games.begin(), e->games.end(), env_name) != e->games.end())
      names.push_back(e->name);
  return names;
}

std::unique_ptr<Agent> make_agent(const std::string& spec, const std::string& env_name) {
  const size_t colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  AgentArgs args{env_name, colon == std::string::npos ? "" : spec.substr(colon + 1)};
  const AgentEntry* e = AgentRegistry::global().find(name);
  const bool plays = e && (e->games.empty() || std::find(e->games.begin(), e->games.end(), env_name) != e->games.end());
  if (!plays) {
    std::string known;
    for (const auto& n : agents_for(env_name)) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("agent '" + name + "' " + (e ? "does not play" : "is unknown for") + " game '" +
                                env_name + "'; agents for it: " + (known.empty() ? "(none)" : known));
  }
  return e->create(args);
}

}  // namespace ludus
