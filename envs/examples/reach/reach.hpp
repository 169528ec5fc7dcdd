// Reach: the example game. Two teams of discs race to touch a target in a walled square
// (Box2D 2.4 does movement and collisions). It uses every part of the env contract.
//
// Snapshot exactness: Box2D 2.4 keeps history inside a b2World (contact order, tree node
// ids) that no snapshot can restore, so Reach builds a fresh world from its plain state
// every tick. That costs a few small allocations inside Box2D per tick, which is fine
// for a handful of bodies; the flagship games keep their state outside Box2D too.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "ludus/engine/config.hpp"
#include "ludus/engine/env.hpp"
#include "ludus/engine/rng.hpp"

namespace ludus::reach {

// Every constant of the game, with units.
namespace constants {
inline constexpr int kNumTeams = 2;
inline constexpr float kArenaHalfSizeM = 10.0f;
inline constexpr float kAgentRadiusM = 0.5f;
inline constexpr float kTargetRadiusM = 0.6f;
inline constexpr float kMaxSpeedMPerS = 5.0f;
inline constexpr float kMaxAccelMPerS2 = 20.0f;
inline constexpr float kSpeedResponseS = 1.0f / 30.0f;  // velocity drive: one tick, acceleration-capped
inline constexpr float kKickoffXM = 7.0f;
inline constexpr float kRespawnClearanceM = 2.0f;
inline constexpr double kTickRateHz = 30.0;
// Discrete actions: 0 stay, 1..8 move toward angle (k - 1) * 45 degrees (1 = +x, 3 = +y).
inline constexpr int kNumActions = 9;
}  // namespace constants

struct ReachOptions {
  int team_size = 2;
  int target_score = 5;          // a team reaching this many touches ends the episode
  int max_ticks = 900;           // 30 s at 30 Hz; then the episode is truncated
  double approach_reward = 0.0;  // shaping: weight on the per-tick decrease of distance to the target

  void visit(OptionVisitor& v) {
    v.value("team_size", team_size, 1, 4, "discs per team");
    v.value("target_score", target_score, 1, 1000, "touches that win the episode");
    v.value("max_ticks", max_ticks, 1, 1000000, "episode length limit in ticks (30 per second)");
    v.value("approach_reward", approach_reward, 0.0, 10.0,
            "shaping weight per metre closed toward the target (0 = sparse +-1 per touch)");
  }
};

struct AgentState {
  float x = 0, y = 0, vx = 0, vy = 0;
};

// The whole game state: a plain value, saved and restored byte for byte.
struct ReachState {
  int64_t tick = 0;
  std::array<int32_t, constants::kNumTeams> score{};
  float target_x = 0, target_y = 0;
  std::vector<AgentState> agents;
  std::array<uint64_t, 4> rng{};
  int32_t last_scorer = -1;  // agent that touched the target last
};

class ReachEnv final : public Env {
 public:
  explicit ReachEnv(ReachOptions options);

  const EnvSpec& spec() const override { return spec_; }
  void reset(uint64_t seed, StepView out) override;
  void step(const float* actions, StepView out) override;
  void observe(float* obs) const override;
  void save_state(std::vector<uint8_t>& out) const override;
  void load_state(std::span<const uint8_t> bytes) override;
  void draw(Frame& frame) const override;
  MatchResult result() const override;
  int64_t tick() const override { return state_.tick; }

  const ReachState& state() const { return state_; }
  const ReachOptions& options() const { return options_; }
  // +1 for team 0, -1 for team 1: team 1 sees the world rotated by 180 degrees.
  static float mirror(int team) { return team == 0 ? 1.0f : -1.0f; }

 private:
  void place_target();
  void physics_tick(const float* actions);

  ReachOptions options_;
  EnvSpec spec_;
  ReachState state_;
  Rng rng_;
  std::vector<float> distance_before_;  // scratch, sized once
};

}  // namespace ludus::reach
