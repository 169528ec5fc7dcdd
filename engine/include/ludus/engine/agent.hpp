// The Agent contract (who picks a team's actions) and the agent registry.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ludus/engine/env.hpp"

namespace ludus {

// Controls the agents of one team. Scripted bots may read the game's own state by
// casting `env` to the game's type; learned policies read only `obs`.
class Agent {
 public:
  virtual ~Agent() = default;
  // Called at the start of each episode, after env.reset().
  virtual void reset(const Env& env, int team, uint64_t seed) = 0;
  // Writes the actions of `agent_ids` into `actions` (rows of spec.action_dim() floats,
  // indexed by agent id), reading `obs` (rows of spec.obs_dim() floats).
  virtual void act(const Env& env, const float* obs, std::span<const int> agent_ids, float* actions) = 0;
};

struct AgentArgs {
  std::string env_name;
  std::string param;  // the text after ':' in "name:param", e.g. a checkpoint path
};

struct AgentEntry {
  std::string name;
  std::string description;
  std::vector<std::string> games;  // games it plays; empty: every game
  std::function<std::unique_ptr<Agent>(const AgentArgs&)> create;
};

class AgentRegistry {
 public:
  static AgentRegistry& global();
  bool add(AgentEntry entry);
  const AgentEntry* find(const std::string& name) const;
  std::vector<const AgentEntry*> entries() const;

 private:
  friend struct AgentRegistryPluginStage;
  std::vector<AgentEntry> entries_;
  // While a plugin loads, its agents wait here until the plugin is accepted.
  bool holding_ = false;
  std::vector<AgentEntry> held_;
};

// Builds an agent from "name" or "name:param" for game `env_name`; throws
// std::invalid_argument naming the agents that play that game when it cannot.
std::unique_ptr<Agent> make_agent(const std::string& spec, const std::string& env_name);
// Splits a comma-separated agent list ("greedy,policy:run/best.pt"), dropping empty items.
std::vector<std::string> split_agent_list(const std::string& list);
// The game's first scripted bot: the first agent registered for `env_name` itself (not
// for every game, as random and policy are); "random" when it has none.
std::string default_bot(const std::string& env_name);
// Agent names that can play `env_name`.
std::vector<std::string> agents_for(const std::string& env_name);

}  // namespace ludus

#define LUDUS_REGISTER_AGENT(NAME, GAMES, DESCRIPTION, FACTORY)                              \
  [[maybe_unused]] static const bool LUDUS_AGENT_CONCAT(ludus_agent_registered_, __LINE__) = \
      ::ludus::AgentRegistry::global().add(::ludus::AgentEntry{NAME, DESCRIPTION, GAMES, FACTORY})
#define LUDUS_AGENT_CONCAT_INNER(a, b) a##b
#define LUDUS_AGENT_CONCAT(a, b) LUDUS_AGENT_CONCAT_INNER(a, b)
