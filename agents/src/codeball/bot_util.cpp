// Mapping world-space bot actions onto the Codeball action spaces.
#include "bot_util.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace ludus::codeball::bots {

void write_action(const CodeballEnv& env, int id, const RobotAction& a, float* actions) {
  const EnvSpec& spec = env.spec();
  const double m = CodeballEnv::mirror(spec.agent_team[static_cast<size_t>(id)]);
  float* row = actions + id * spec.action_dim();
  const Vec3 t{m * a.target_velocity.x, a.target_velocity.y, m * a.target_velocity.z};
  if (spec.action_space.kind == SpaceKind::box) {
    row[0] = static_cast<float>(std::clamp(t.x, -30.0, 30.0));
    row[1] = static_cast<float>(std::clamp(t.y, -30.0, 30.0));
    row[2] = static_cast<float>(std::clamp(t.z, -30.0, 30.0));
    row[3] = static_cast<float>(std::clamp(a.jump_speed, 0.0, 15.0));
    row[4] = a.use_nitro ? 1.0f : 0.0f;
    return;
  }
  const double speed = std::hypot(t.x, t.z);
  const bool jump = a.jump_speed > 7.5;
  const bool nitro = a.use_nitro && env.options().nitro;
  if (speed < 7.5 && !nitro) {
    row[0] = jump ? 17.0f : 0.0f;  // 17: forward walk with a jump; 0: stay
    if (jump) {
      // The discrete set has no jump-in-place: jump while walking toward the target.
      double angle = std::atan2(t.x, t.z);
      if (angle < 0) angle += 2 * std::numbers::pi;
      row[0] = static_cast<float>(17 + static_cast<int>(std::lround(angle / (std::numbers::pi / 4))) % 8);
    }
    return;
  }
  double angle = std::atan2(t.x, t.z);
  if (angle < 0) angle += 2 * std::numbers::pi;
  const int dir = static_cast<int>(std::lround(angle / (std::numbers::pi / 4))) % 8;
  if (nitro) {
    row[0] = static_cast<float>(33 + dir + (jump ? 8 : 0));
    return;
  }
  const int sprint = speed > 22.5 ? 1 : 0;
  row[0] = static_cast<float>(1 + dir + 8 * sprint + (jump ? 16 : 0));
}

}  // namespace ludus::codeball::bots
