// Codeball's game state as a plain value and the rules' update step (microticks), free of
// any env plumbing so that bots can clone a state and simulate it forward.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

#include "codeball/constants.hpp"
#include "ludus/engine/rng.hpp"

namespace ludus::codeball {

struct Vec3 {
  double x = 0, y = 0, z = 0;
  Vec3 operator+(const Vec3& o) const { return {x + o.x, y + o.y, z + o.z}; }
  Vec3 operator-(const Vec3& o) const { return {x - o.x, y - o.y, z - o.z}; }
  Vec3 operator*(double k) const { return {x * k, y * k, z * k}; }
  Vec3& operator+=(const Vec3& o) {
    x += o.x, y += o.y, z += o.z;
    return *this;
  }
  Vec3& operator-=(const Vec3& o) {
    x -= o.x, y -= o.y, z -= o.z;
    return *this;
  }
  double dot(const Vec3& o) const { return x * o.x + y * o.y + z * o.z; }
  double length() const { return std::sqrt(x * x + y * y + z * z); }
  double length_sq() const { return x * x + y * y + z * z; }
  Vec3 normalized() const {
    const double l = length();
    return l > 0 ? *this * (1.0 / l) : Vec3{};
  }
  // The same direction, at most `max_len` long.
  Vec3 clamped(double max_len) const {
    const double l2 = length_sq();
    return l2 > max_len * max_len ? *this * (max_len / std::sqrt(l2)) : *this;
  }
  bool operator==(const Vec3&) const = default;
};

// What a robot does during one tick (world coordinates, not mirrored).
struct RobotAction {
  Vec3 target_velocity;   // units / s; on the ground clamped to 30, nitro uses it as is
  double jump_speed = 0;  // [0, ROBOT_MAX_JUMP_SPEED] units / s
  bool use_nitro = false;
};

struct Robot {
  Vec3 position, velocity;  // units, units / s
  double radius = constants::ROBOT_RADIUS;
  double radius_change_speed = 0;  // units / s (the jump speed in use)
  double nitro = constants::START_NITRO_AMOUNT;
  int32_t team = 0;
  uint8_t touch = 0;         // touched the arena in the last microtick
  uint8_t touched_ball = 0;  // hit the ball during the last tick
  uint8_t pad_[2] = {0, 0};
  Vec3 touch_normal{0, 1, 0};
};

struct Ball {
  Vec3 position, velocity;
  double radius = constants::BALL_RADIUS;
};

struct NitroPack {
  Vec3 position;
  int32_t respawn_ticks = 0;  // 0: alive; else ticks until it is back
  int32_t pad_ = 0;
};

// The whole game: a trivially copyable value, saved and restored byte for byte.
struct GameState {
  int64_t tick = 0;
  int32_t num_robots = 0;
  int32_t reset_ticks = 0;  // > 0: pause after a goal, kickoff when it reaches 0
  std::array<int32_t, constants::NUM_TEAMS> score{};
  int32_t last_goal_team = -1;
  int32_t pad_ = 0;
  std::array<Robot, constants::MAX_ROBOTS> robots{};
  Ball ball;
  std::array<NitroPack, constants::NUM_NITRO_PACKS> packs{};
  std::array<uint64_t, 4> rng{};
};

// Distance from a point to the arena surface (positive inside) and the normal pointing
// into the arena: the rules' signed distance function.
struct ArenaContact {
  double distance = 0;
  Vec3 normal;
};
ArenaContact dan_to_arena(Vec3 point);

// The middle of the field (|x| < 24, |z| < 34, y < 13): there every surface but the ground
// is at least kMiddleClearance away (the nearest is the 13-radius vertical corner, 3.1 away
// at the box's corners; the walls are 6 away, the ceiling 7), so for a body of a radius up
// to kMiddleClearance the rules' distance function gives the ground's answer whenever the
// body touches anything. The simulation skips the rest of the function there
// (tests/envs/codeball/codeball_test.cpp checks the clearance).
inline constexpr double kMiddleHalfWidth = 24, kMiddleHalfDepth = 34, kMiddleTop = 13, kMiddleClearance = 3;
inline bool in_middle(const Vec3& p) {
  return std::abs(p.x) < kMiddleHalfWidth && std::abs(p.z) < kMiddleHalfDepth && p.y < kMiddleTop;
}

struct SimOptions {
  int microticks = constants::MICROTICKS_PER_TICK;  // per tick, 1..100
  bool deterministic = false;                       // hits use MAX_HIT_E and robots move in id order
  bool nitro = true;                                // false: nitro flags are ignored, packs absent
};

// What happened during one tick.
struct TickEvents {
  int goal_team = -1;  // team that scored, or -1
};

class BulletBodies;

// Advances `s` by one tick under `actions` (one per robot, indexed like s.robots),
// drawing randomness from `rng`. Does not handle the post-goal pause or kickoff: the env
// does (see CodeballEnv); a goal is reported once, when the ball first crosses.
// Contacts: the rules' distance function and all pairs (bullet == nullptr), or Bullet's
// arena mesh and broadphase (bullet_arena.hpp); the response is the rules' either way.
TickEvents simulate_tick(GameState& s, const RobotAction* actions, const SimOptions& opt, Rng& rng,
                         BulletBodies* bullet = nullptr);

// The ball alone for one tick (no robots), as bots use it to predict.
void simulate_ball_tick(Ball& ball, int microticks);

// Places the ball and robots for a kickoff (seeded from `rng`): the rules' layout.
void place_kickoff(GameState& s, int team_size, Rng& rng);

}  // namespace ludus::codeball
