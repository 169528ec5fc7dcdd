// Helpers shared by the Codeball bots: world-space actions into the agent's action row,
// and geometry in a team's own frame.
#pragma once

#include "codeball/codeball.hpp"

namespace ludus::codeball::bots {

// Writes world-space `a` as agent `id`'s action row, in whichever action mode the env
// uses (discrete: the nearest of the documented set).
void write_action(const CodeballEnv& env, int id, const RobotAction& a, float* actions);

// Velocity toward `target` on the floor plane (y ignored), at `speed` units/s.
inline Vec3 ground_velocity_to(const Vec3& from, const Vec3& target, double speed) {
  Vec3 d{target.x - from.x, 0, target.z - from.z};
  const double len = d.length();
  return len > 1e-9 ? d * (speed / len) : Vec3{};
}

// Sign of the z axis that points at the opponent goal for `team`.
inline double attack_sign(int team) { return team == 0 ? 1.0 : -1.0; }

}  // namespace ludus::codeball::bots
