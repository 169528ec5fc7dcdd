// EnvSpec and ActionSpace helpers.
#include "ludus/engine/spec.hpp"

#include "ludus/engine/rng.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace ludus {

const char* to_string(SpaceKind kind) {
  switch (kind) {
    case SpaceKind::discrete:
      return "discrete";
    case SpaceKind::multi_discrete:
      return "multi_discrete";
    case SpaceKind::box:
      return "box";
  }
  return "?";
}

ActionSpace ActionSpace::discrete(int32_t n) {
  ActionSpace s;
  s.kind = SpaceKind::discrete;
  s.nvec = {n};
  return s;
}

ActionSpace ActionSpace::multi_discrete(std::vector<int32_t> counts) {
  ActionSpace s;
  s.kind = SpaceKind::multi_discrete;
  s.nvec = std::move(counts);
  return s;
}

ActionSpace ActionSpace::box(std::vector<float> lo, std::vector<float> hi) {
  ActionSpace s;
  s.kind = SpaceKind::box;
  s.low = std::move(lo);
  s.high = std::move(hi);
  return s;
}

void ActionSpace::sample(Rng& rng, float* out) const {
  const int n = dim();
  for (int d = 0; d < n; ++d) {
    const auto u = static_cast<size_t>(d);
    out[d] = kind == SpaceKind::box
                 ? static_cast<float>(rng.uniform(low[u], high[u]))
                 : static_cast<float>(rng.below(static_cast<uint32_t>(nvec[kind == SpaceKind::discrete ? 0 : u])));
  }
}

int ActionSpace::dim() const {
  switch (kind) {
    case SpaceKind::discrete:
      return 1;
    case SpaceKind::multi_discrete:
      return static_cast<int>(nvec.size());
    case SpaceKind::box:
      return static_cast<int>(low.size());
  }
  return 0;
}

bool ActionSpace::contains(const float* action) const {
  const int d = dim();
  for (int i = 0; i < d; ++i) {
    const float a = action[i];
    if (!std::isfinite(a)) return false;
    if (kind == SpaceKind::box) {
      if (a < low[static_cast<size_t>(i)] || a > high[static_cast<size_t>(i)]) return false;
    } else {
      if (a != std::floor(a) || a < 0 || a >= static_cast<float>(nvec[static_cast<size_t>(i)])) return false;
    }
  }
  return true;
}

std::string ActionSpace::describe() const {
  std::ostringstream os;
  os << to_string(kind) << "(";
  if (kind == SpaceKind::box) {
    for (size_t i = 0; i < low.size(); ++i) os << (i ? ", " : "") << "[" << low[i] << ", " << high[i] << "]";
  } else {
    for (size_t i = 0; i < nvec.size(); ++i) os << (i ? ", " : "") << nvec[i];
  }
  os << ")";
  return os.str();
}

int64_t EnvSpec::obs_dim() const {
  int64_t d = 1;
  for (int64_t s : obs_shape) d *= s;
  return obs_shape.empty() ? 0 : d;
}

std::vector<int> EnvSpec::team_agents(int team) const {
  std::vector<int> ids;
  for (int i = 0; i < num_agents; ++i)
    if (agent_team[static_cast<size_t>(i)] == team) ids.push_back(i);
  return ids;
}

void EnvSpec::validate() const {
  auto bad = [&](const std::string& why) { throw std::logic_error("env spec '" + name + "': " + why); };
  if (name.empty()) bad("empty name");
  if (num_teams < 1) bad("num_teams must be >= 1");
  if (num_agents < 1) bad("num_agents must be >= 1");
  if (agent_team.size() != static_cast<size_t>(num_agents)) bad("agent_team must list every agent");
  for (int t : agent_team)
    if (t < 0 || t >= num_teams) bad("agent team " + std::to_string(t) + " out of range");
  if (obs_shape.empty() || obs_dim() <= 0) bad("observation shape must be non-empty and positive");
  if (action_space.kind == SpaceKind::box) {
    if (action_space.low.empty() || action_space.low.size() != action_space.high.size())
      bad("box action space needs matching, non-empty low/high");
    for (size_t i = 0; i < action_space.low.size(); ++i)
      if (!(action_space.low[i] <= action_space.high[i])) bad("box low > high");
  } else {
    if (action_space.nvec.empty()) bad("discrete action space needs counts");
    if (action_space.kind == SpaceKind::discrete && action_space.nvec.size() != 1)
      bad("discrete action space has exactly one count");
    for (int32_t n : action_space.nvec)
      if (n < 1) bad("action counts must be >= 1");
  }
  if (!(tick_rate_hz > 0)) bad("tick rate must be positive");
  if (max_ticks < 1) bad("max_ticks must be >= 1");
  if (decision_interval < 1) bad("decision_interval must be >= 1");
}

std::string EnvSpec::describe() const {
  std::ostringstream os;
  os << "teams=" << num_teams << " agents=" << num_agents << " obs=[";
  for (size_t i = 0; i < obs_shape.size(); ++i) os << (i ? "," : "") << obs_shape[i];
  os << "] action=" << action_space.describe() << " tick_rate=" << tick_rate_hz << "Hz max_ticks=" << max_ticks;
  if (decision_interval > 1) os << " decision_interval=" << decision_interval;
  return os.str();
}

}  // namespace ludus
