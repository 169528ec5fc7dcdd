// EnvSpec and action spaces: the fixed description of a game instance's interface.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ludus {

enum class SpaceKind : uint8_t { discrete, multi_discrete, box };

const char* to_string(SpaceKind kind);

// An agent's action, as it travels in the float action buffer:
// - discrete: 1 float holding an integer index in [0, n);
// - multi_discrete: one float per dimension d holding an index in [0, nvec[d]);
// - box: `low.size()` floats, each within [low[i], high[i]].
class Rng;

struct ActionSpace {
  SpaceKind kind = SpaceKind::discrete;
  std::vector<int32_t> nvec;     // discrete: {n}; multi_discrete: counts per dimension
  std::vector<float> low, high;  // box only

  static ActionSpace discrete(int32_t n);
  static ActionSpace multi_discrete(std::vector<int32_t> counts);
  static ActionSpace box(std::vector<float> lo, std::vector<float> hi);

  // Floats per agent in the action buffer.
  int dim() const;
  // Writes one uniformly random member of the space (dim() floats) into `out`: box
  // dimensions uniform in [low, high), discrete ones uniform over their choices; draws
  // from `rng` in dimension order (random agents, trainers and tests share it).
  void sample(Rng& rng, float* out) const;
  // True if `action` (dim() floats) is a valid member of the space.
  bool contains(const float* action) const;
  std::string describe() const;
};

// What a game instance looks like to a learner. Fixed for the instance's lifetime.
struct EnvSpec {
  std::string name;
  int num_teams = 2;
  // Controlled units over all teams; agent i belongs to team agent_team[i].
  int num_agents = 0;
  std::vector<int> agent_team;
  // Observation of one agent, float32, row-major; obs_dim() floats.
  std::vector<int64_t> obs_shape;
  ActionSpace action_space;
  double tick_rate_hz = 60.0;
  // An episode is truncated when it reaches this many ticks without terminating.
  int64_t max_ticks = 0;
  // Actions are read only at ticks that are multiples of this (counted from the reset);
  // at the ticks between, the game ignores them (1: every tick). Trainers ask the policy
  // only at decision ticks, hold its action and add the rewards of the ticks between to
  // that decision; players and the visualizer still step every tick.
  int decision_interval = 1;

  int64_t obs_dim() const;
  int action_dim() const { return action_space.dim(); }
  // Agents of `team`, in agent order.
  std::vector<int> team_agents(int team) const;
  // Throws std::logic_error if the spec is inconsistent (for registry and plugin checks).
  void validate() const;
  std::string describe() const;
};

}  // namespace ludus
