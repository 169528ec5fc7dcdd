// Scripted Codeball bots: chaser (runs at the ball), keeper (guards the goal line) and
// orchestrator (predicts the ball by simulation, assigns attacker and defender, times
// intercepts, jumps and nitro).
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>

#include "bot_util.hpp"
#include "ludus/engine/agent.hpp"

namespace ludus::codeball::bots {
namespace {

using namespace constants;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kContact = BALL_RADIUS + ROBOT_RADIUS;

// Jump when the ball is within reach and above the robot's centre: the jump's radius
// change speed adds to the hit, and hitting from below lifts the ball.
bool should_jump(const Robot& r, const Ball& b, const Vec3& aim_dir) {
  if (!r.touch) return false;
  const Vec3 d = b.position - r.position;
  const Vec3 flat{d.x, 0, d.z};
  return d.length() < kContact + 0.45 && b.position.y > r.position.y + 0.2 && flat.dot(aim_dir) > -0.2;
}

// The opponent goal's centre for `team`, on the goal line.
Vec3 opponent_goal(int team) { return {0, 0, attack_sign(team) * (ARENA_DEPTH / 2 + 2)}; }
Vec3 own_goal(int team) { return {0, 0, -attack_sign(team) * (ARENA_DEPTH / 2)}; }

Vec3 flat_dir(const Vec3& from, const Vec3& to) { return Vec3{to.x - from.x, 0, to.z - from.z}.normalized(); }

// Seconds for a robot on the ground moving at `v0` toward a point `d` away to get there
// (accelerating at 100 up to 30).
double travel_time(double d, double v0) {
  v0 = std::clamp(v0, -ROBOT_MAX_GROUND_SPEED, ROBOT_MAX_GROUND_SPEED);
  const double ta = (ROBOT_MAX_GROUND_SPEED - v0) / ROBOT_ACCELERATION;
  const double da = (v0 + ROBOT_MAX_GROUND_SPEED) / 2 * ta;
  if (d <= da) return (-v0 + std::sqrt(std::max(0.0, v0 * v0 + 2 * ROBOT_ACCELERATION * d))) / ROBOT_ACCELERATION;
  return ta + (d - da) / ROBOT_MAX_GROUND_SPEED;
}

// A spot behind the ball on the line from the aim point through the ball.
Vec3 hit_spot(const Vec3& ball, const Vec3& aim, double back) {
  const Vec3 dir = flat_dir(ball, aim);
  return {ball.x - dir.x * back, ROBOT_RADIUS, ball.z - dir.z * back};
}

// Runs at the ball, lining up behind it toward the opponent goal.
RobotAction chase(const Robot& r, const Ball& ball, int team) {
  const Vec3 goal = opponent_goal(team);
  const double lead = std::min(1.0, (ball.position - r.position).length() / ROBOT_MAX_GROUND_SPEED);
  Vec3 b = ball.position + ball.velocity * (lead * 0.6);
  b.x = std::clamp(b.x, -ARENA_WIDTH / 2 + 3, ARENA_WIDTH / 2 - 3);
  const Vec3 dir = flat_dir(b, goal);
  const Vec3 spot = hit_spot(b, goal, kContact - 0.3);
  const Vec3 to_ball = flat_dir(r.position, b);
  RobotAction a;
  // Behind the ball (on our side of it): drive through it; else go to the spot first.
  a.target_velocity = to_ball.dot(dir) > 0.6 ? to_ball * ROBOT_MAX_GROUND_SPEED
                                             : ground_velocity_to(r.position, spot, ROBOT_MAX_GROUND_SPEED);
  if (should_jump(r, ball, dir)) a.jump_speed = ROBOT_MAX_JUMP_SPEED;
  return a;
}

class ChaserBot final : public Agent {
 public:
  void reset(const Env&, int team, uint64_t) override { team_ = team; }
  void act(const Env& env, const float*, std::span<const int> ids, float* actions) override {
    const auto& game = dynamic_cast<const CodeballEnv&>(env);
    const GameState& s = game.state();
    for (int id : ids) write_action(game, id, chase(s.robots[static_cast<size_t>(id)], s.ball, team_), actions);
  }

 private:
  int team_ = 0;
};

// Holds a spot on the goal line in front of the ball; clears the ball when it comes close.
RobotAction keep(const Robot& r, const Ball& ball, int team) {
  const double s = attack_sign(team);
  const Vec3 goal = own_goal(team);
  const double ball_from_goal = (ball.position - goal).length();
  const bool incoming = ball.velocity.z * s < -1 && ball.position.z * s < 0;
  if (ball_from_goal < 16 || (incoming && ball_from_goal < 28)) return chase(r, ball, team);
  const Vec3 home{std::clamp(ball.position.x * 0.5, -ARENA_GOAL_WIDTH / 2 + 3, ARENA_GOAL_WIDTH / 2 - 3), ROBOT_RADIUS,
                  goal.z + s * 2.5};
  RobotAction a;
  const double d = Vec3{home.x - r.position.x, 0, home.z - r.position.z}.length();
  a.target_velocity = ground_velocity_to(r.position, home, std::min(ROBOT_MAX_GROUND_SPEED, 4 * d));
  if (should_jump(r, ball, flat_dir(goal, ball.position))) a.jump_speed = ROBOT_MAX_JUMP_SPEED;
  return a;
}

class KeeperBot final : public Agent {
 public:
  void reset(const Env&, int team, uint64_t) override { team_ = team; }
  void act(const Env& env, const float*, std::span<const int> ids, float* actions) override {
    const auto& game = dynamic_cast<const CodeballEnv&>(env);
    const GameState& s = game.state();
    for (int id : ids) write_action(game, id, keep(s.robots[static_cast<size_t>(id)], s.ball, team_), actions);
  }

 private:
  int team_ = 0;
};

// Predicts the ball, then gives the robot that can strike it first toward the goal the
// attacker's role and the rest the defender's.
class OrchestratorBot final : public Agent {
 public:
  static constexpr int kHorizon = 150;           // ticks of ball prediction (2.5 s)
  static constexpr int kPredictMicroticks = 10;  // per predicted tick (fast mode accuracy)

  void reset(const Env&, int team, uint64_t) override { team_ = team; }

  void act(const Env& env, const float*, std::span<const int> ids, float* actions) override {
    const auto& game = dynamic_cast<const CodeballEnv&>(env);
    const GameState& s = game.state();
    predict(s.ball);
    const double sign = attack_sign(team_);
    if (s.reset_ticks > 0) {  // goal pause: walk back toward the own half
      for (int id : ids) {
        const Robot& r = s.robots[static_cast<size_t>(id)];
        RobotAction a;
        a.target_velocity = ground_velocity_to(r.position, {r.position.x * 0.5, 1, -sign * 20}, 15);
        write_action(game, id, a, actions);
      }
      return;
    }
    // Earliest intercept per robot (ours and theirs).
    std::array<Intercept, MAX_ROBOTS> mine{};
    int attacker = -1;
    for (int id : ids) {
      mine[static_cast<size_t>(id)] = earliest_intercept(s.robots[static_cast<size_t>(id)], opponent_goal(team_));
      if (attacker < 0 || mine[static_cast<size_t>(id)].tick < mine[static_cast<size_t>(attacker)].tick) attacker = id;
    }
    int opp_best = kHorizon + 1;
    for (int j = 0; j < s.num_robots; ++j) {
      const Robot& o = s.robots[static_cast<size_t>(j)];
      if (o.team == team_) continue;
      opp_best = std::min(opp_best, earliest_intercept(o, own_goal(team_)).tick);
    }
    for (int id : ids) {
      const Robot& r = s.robots[static_cast<size_t>(id)];
      RobotAction a = id == attacker ? attack(r, mine[static_cast<size_t>(id)], opp_best, s.ball) : defend(r, s.ball);
      write_action(game, id, a, actions);
    }
  }

 private:
  struct Intercept {
    int tick = kHorizon + 1;  // > kHorizon: none found
    Vec3 spot;                // where the robot should be (on the floor)
    Vec3 ball;                // where the ball will be
  };

  void predict(const Ball& ball) {
    Ball b = ball;
    path_[0] = b.position;
    for (int k = 1; k <= kHorizon; ++k) {
      simulate_ball_tick(b, kPredictMicroticks);
      path_[static_cast<size_t>(k)] = b.position;
    }
  }

  // First predicted tick at which `r` can stand behind the ball (seen from `aim`) with
  // the ball low enough to hit from the ground or with a jump.
  Intercept earliest_intercept(const Robot& r, const Vec3& aim) const {
    Intercept best;
    for (int k = 1; k <= kHorizon; ++k) {
      const Vec3& b = path_[static_cast<size_t>(k)];
      if (b.y > 5.0) continue;
      const Vec3 spot = hit_spot(b, aim, kContact - 0.5);
      const Vec3 d{spot.x - r.position.x, 0, spot.z - r.position.z};
      const double dist = d.length();
      const double v0 = dist > 1e-9 ? r.velocity.dot(d) / dist : 0;
      if (travel_time(dist, v0) <= k / static_cast<double>(TICKS_PER_SECOND)) {
        best.tick = k;
        best.spot = spot;
        best.ball = b;
        return best;
      }
    }
    return best;
  }

  RobotAction attack(const Robot& r, const Intercept& it, int opp_best, const Ball& ball) const {
    const double sign = attack_sign(team_);
    const Vec3 goal = opponent_goal(team_);
    RobotAction a;
    if (it.tick > kHorizon) return chase(r, ball, team_);  // no strike in sight (ball high)
    // The opponent gets there clearly first and the ball is on our half: shadow it
    // between the ball and our goal instead of chasing.
    if (opp_best + 25 < it.tick && ball.position.z * sign < 0) {
      const Vec3 mid = path_[std::min<size_t>(30, kHorizon)];
      const Vec3 back = flat_dir(mid, own_goal(team_));
      const Vec3 spot{mid.x + back.x * 8, ROBOT_RADIUS, mid.z + back.z * 8};
      a.target_velocity = ground_velocity_to(r.position, spot, ROBOT_MAX_GROUND_SPEED);
    } else {
      const double t = it.tick / static_cast<double>(TICKS_PER_SECOND);
      const double dist = Vec3{it.spot.x - r.position.x, 0, it.spot.z - r.position.z}.length();
      // Arrive on time, and at full speed for the last stretch so the hit is strong.
      const double speed = it.tick < 25 ? ROBOT_MAX_GROUND_SPEED : std::min(ROBOT_MAX_GROUND_SPEED, dist / t + 3);
      const Vec3 dir = flat_dir(r.position, it.spot);
      const Vec3 through = flat_dir(it.ball, goal);
      // Close to the spot: drive through the ball toward the goal.
      a.target_velocity = dist < 1.5 ? through * ROBOT_MAX_GROUND_SPEED : dir * speed;
      const bool urgent = it.tick < 90 && r.velocity.length() < 28;
      a.use_nitro = urgent && r.touch && r.nitro > 0;
      if (a.use_nitro) a.target_velocity = a.target_velocity.normalized() * ROBOT_MAX_GROUND_SPEED;
    }
    if (should_jump(r, ball, flat_dir(ball.position, goal))) a.jump_speed = ROBOT_MAX_JUMP_SPEED;
    return a;
  }

  RobotAction defend(const Robot& r, const Ball& ball) const {
    const double sign = attack_sign(team_);
    const Vec3 goal = own_goal(team_);
    // A predicted shot on our goal, or the ball close to it: clear it.
    for (int k = 1; k <= kHorizon; ++k) {
      const Vec3& b = path_[static_cast<size_t>(k)];
      if (b.z * sign < -(ARENA_DEPTH / 2 - 6) && std::abs(b.x) < ARENA_GOAL_WIDTH / 2 + 2) {
        const Intercept it = earliest_intercept(r, opponent_goal(team_));
        if (it.tick <= k + 5) {
          RobotAction a;
          a.target_velocity = ground_velocity_to(r.position, it.spot, ROBOT_MAX_GROUND_SPEED);
          if (should_jump(r, ball, flat_dir(goal, ball.position))) a.jump_speed = ROBOT_MAX_JUMP_SPEED;
          return a;
        }
        break;
      }
    }
    if ((ball.position - goal).length() < 15) return chase(r, ball, team_);
    const Vec3& soon = path_[20];
    // Stand in front of the goal, further out the further away the ball is.
    const double out = std::clamp((soon.z * sign + ARENA_DEPTH / 2) * 0.25, 3.0, 15.0);
    const Vec3 home{std::clamp(soon.x * 0.5, -ARENA_GOAL_WIDTH / 2 + 3, ARENA_GOAL_WIDTH / 2 - 3), ROBOT_RADIUS,
                    goal.z + sign * out};
    RobotAction a;
    const double d = Vec3{home.x - r.position.x, 0, home.z - r.position.z}.length();
    a.target_velocity = ground_velocity_to(r.position, home, std::min(ROBOT_MAX_GROUND_SPEED, 4 * d));
    if (should_jump(r, ball, flat_dir(goal, ball.position))) a.jump_speed = ROBOT_MAX_JUMP_SPEED;
    return a;
  }

  int team_ = 0;
  std::array<Vec3, kHorizon + 1> path_{};
};

}  // namespace
}  // namespace ludus::codeball::bots

LUDUS_REGISTER_AGENT("chaser", {"codeball"}, "runs at the ball and pushes it toward the opponent goal",
                     [](const ludus::AgentArgs&) { return std::make_unique<ludus::codeball::bots::ChaserBot>(); });
LUDUS_REGISTER_AGENT("keeper", {"codeball"}, "guards the goal line, clears balls that come close",
                     [](const ludus::AgentArgs&) { return std::make_unique<ludus::codeball::bots::KeeperBot>(); });
LUDUS_REGISTER_AGENT("orchestrator", {"codeball"},
                     "predicts the ball by simulation; attacker takes the earliest intercept, defender guards",
                     [](const ludus::AgentArgs&) {
                       return std::make_unique<ludus::codeball::bots::OrchestratorBot>();
                     });
