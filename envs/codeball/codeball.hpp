// Codeball: 3D robot soccer after the Russian AI Cup 2018 rules (shared/specs/codeball.md).
//
// One agent per robot; team 0 defends z < 0 and attacks +z, team 1 the reverse. Both
// teams see the field from their own goal: team 1's observations and actions are
// mirrored (x -> -x, z -> -z). The physics state is the plain GameState (sim.hpp).
//
// Episode end: the match lasts max_ticks; at that tick `truncated` is set (the tick
// limit, as the env contract defines it) and result() gives the score. Observations
// carry the time left, so a learner may treat the end as terminal. `terminated` is set
// only with the training option end_on_goal, at the first goal.
//
// Decisions: with decision_ticks k > 1 the env reads actions at ticks 0, k, 2k, ... and
// holds each robot's action in between (spec().decision_interval = k).
//
// Actions (option action_mode):
// - continuous: 5 floats [vx, vy, vz, jump_speed, nitro] in the agent's mirrored frame;
//   vx, vy, vz in [-30, 30] units/s (target velocity), jump_speed in [0, 15] units/s,
//   nitro >= 0.5 uses nitro. Out-of-range values are clamped into the box.
// - discrete: one index. 0: stay (target velocity 0). 1..32: direction d = (k-1) % 8
//   (angle d * 45 degrees from +z toward +x in the agent's frame: 1 = forward, 3 = right
//   (+x), 5 = back), speed (k-1)/8 % 2 (0: walk 15, 1: sprint 30), jump (k-1)/16 (1:
//   jump at 15). With nitro on, 33..48: the same 8 directions x {no jump, jump} at
//   sprint with nitro (target y 0). 49 with nitro: jump straight up with nitro (target
//   velocity (0, 30, 0)).
//
// Observation of agent i (all in i's mirrored frame; positions divided by 30 (x), 20 (y),
// 50 (z); velocities by 50; about [-1, 1]):
//   self (12): position 3, velocity 3, (radius - 1) / 0.05, touch, touch normal 3, nitro/100
//   ball (9): position 3, velocity 3, ball - self position 3
//   teammates in id order, then opponents nearest to the ball first (ties: lower id),
//   8 each: position 3, velocity 3, (radius - 1) / 0.05, nitro / 100. The options
//   observe_teammates / observe_opponents fix the number of slots (-1: every robot): fewer
//   shows the robots nearest to the ball (teammates then also nearest first), more pads
//   with zero slots, so one network shape plays any team size (a 1v1 policy in 2v2 with
//   observe_teammates 0, observe_opponents 1)
//   nitro packs (4 x 2): alive, respawn ticks left / 600; ordered by the pack's mirrored
//   (x, z) quadrant: (-,-), (-,+), (+,-), (+,+)
//   own score / 10, opponent score / 10, time left in [0, 1] (these three read 0 with
//   observe_score_time false), goal pause left / 120.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codeball/bullet_arena.hpp"
#include "codeball/sim.hpp"
#include "ludus/engine/config.hpp"
#include "ludus/engine/env.hpp"
#include "ludus/engine/rng.hpp"

namespace ludus::codeball {

struct CodeballOptions {
  int team_size = 2;
  bool nitro = true;
  int max_ticks = constants::MAX_TICK_COUNT;
  // 100 is the rules. Fewer microticks is the fast training mode: with 20 a robot still
  // reaches 30 in 0.3 s +- 1 tick, a full jump peaks within 0.1 of 3.75 and a dropped
  // ball rises to 0.49 +- 0.02 of its height (tests/envs/codeball check these).
  int microticks = constants::MICROTICKS_PER_TICK;
  bool deterministic = false;  // the official runner's --disable-random: MAX_HIT_E, id order
  std::string action_mode = "continuous";
  // analytic: contacts from the rules' distance function (exact; matches the official
  // runner's logs). bullet: Bullet's BVH arena mesh (within 0.01 of that surface) and
  // broadphase find the contacts; the response is the same rules' code. See README.md.
  std::string collision = "analytic";
  // Actions are read every decision_ticks ticks (counted from the reset) and held in
  // between, for every robot (the contract's decision_interval). 1 is the rules.
  int decision_ticks = 1;
  // A goal ends the episode (terminated) instead of pausing for a kickoff: one point per
  // episode, a training mode. result() still gives the score.
  bool end_on_goal = false;
  // false: the score and clock entries of the observation read 0 (a policy trained on
  // short episodes then sees the same inputs in a full match).
  bool observe_score_time = true;
  // Robot slots in the observation: -1 every teammate / opponent (the default), else
  // exactly this many (nearest to the ball first; zeros where there are fewer robots).
  int observe_teammates = -1;
  int observe_opponents = -1;
  // Rewards. goal_reward: +w to every robot of the scoring team, -w to the other team.
  // Shaping (all 0 by default), per tick, per robot:
  double goal_reward = 1;
  double ball_to_goal_reward = 0;    // x ball velocity toward the opponent goal (z) / 100 (units/s)
  double touch_reward = 0;           // x 1 on each tick the robot hits the ball
  double distance_reward = 0;        // x -(distance to the ball) / 100 (units)
  double player_to_ball_reward = 0;  // x robot velocity toward the ball / 30 (units/s), in [-1, 1]
  double save_reward = 0;            // x 1 when the robot hits a ball that was heading into its own half
                                     // toward its goal, and the ball leaves the hit moving away from it
  // Team spirit (OpenAI Five's): each robot's shaping becomes (1 - t) x its own + t x its
  // team's mean, so with t > 0 a robot is paid for its teammate's play too. Goals are
  // team rewards already; 0 keeps every robot's own shaping.
  double team_spirit = 0;

  void visit(OptionVisitor& v) {
    static constexpr std::string_view kModes[] = {"continuous", "discrete"};
    v.value("team_size", team_size, 1, constants::MAX_TEAM_SIZE, "robots per team (1v1, 2v2, 3v3)");
    v.value("nitro", nitro, "nitro and nitro packs in play");
    v.value("max_ticks", max_ticks, 1, 10000000, "match length in ticks (60 per second)");
    v.value("microticks", microticks, 1, 1000,
            "physics substeps per tick: 100 as the rules; 20 is the fast mode (documented tolerances)");
    v.value("deterministic", deterministic, "hits at MAX_HIT_E and robots in id order (no randomness)");
    v.value("action_mode", action_mode, kModes, "continuous box or discrete set (see codeball.hpp)");
    static constexpr std::string_view kCollision[] = {"analytic", "bullet"};
    v.value("collision", collision, kCollision,
            "contact detection: the rules' distance function, or Bullet's arena mesh and broadphase");
    v.value("decision_ticks", decision_ticks, 1, 600,
            "actions are read every this many ticks and held in between (1: every tick, the rules)");
    v.value("end_on_goal", end_on_goal, "a goal ends the episode (training mode; the rules play on)");
    v.value("observe_score_time", observe_score_time,
            "observations carry the score and the time left (false: those entries read 0)");
    v.value("observe_teammates", observe_teammates, -1, constants::MAX_TEAM_SIZE - 1,
            "teammate slots in the observation (-1: every teammate; fewer: nearest to the ball; more: zero slots)");
    v.value("observe_opponents", observe_opponents, -1, constants::MAX_TEAM_SIZE,
            "opponent slots in the observation (-1: every opponent; fewer: nearest to the ball; more: zero slots)");
    v.value("goal_reward", goal_reward, 0.0, 1000.0, "reward per goal: +w to the scoring team, -w to the other");
    v.value("ball_to_goal_reward", ball_to_goal_reward, -10.0, 10.0,
            "shaping: weight on ball velocity toward the opponent goal / 100, per tick");
    v.value("touch_reward", touch_reward, -10.0, 10.0, "shaping: reward per tick a robot hits the ball");
    v.value("distance_reward", distance_reward, -10.0, 10.0,
            "shaping: weight on -(robot to ball distance) / 100, per tick");
    v.value("player_to_ball_reward", player_to_ball_reward, -10.0, 10.0,
            "shaping: weight on the robot's velocity toward the ball / 30, per tick");
    v.value("save_reward", save_reward, -100.0, 100.0,
            "shaping: reward for a hit that turns a ball heading at the own goal away from it");
    v.value("team_spirit", team_spirit, 0.0, 1.0,
            "shaping: each robot gets (1 - t) x its own shaping + t x its team's mean (0: its own)");
  }
};

class CodeballEnv final : public Env {
 public:
  explicit CodeballEnv(CodeballOptions options);

  const EnvSpec& spec() const override { return spec_; }
  void reset(uint64_t seed, StepView out) override;
  void step(const float* actions, StepView out) override;
  void observe(float* obs) const override;
  void save_state(std::vector<uint8_t>& out) const override;
  void load_state(std::span<const uint8_t> bytes) override;
  void draw(Frame& frame) const override;
  MatchResult result() const override;
  int64_t tick() const override { return state_.tick; }

  const GameState& state() const { return state_; }
  // Replaces the state (scenario files, tests); the RNG continues from state.rng.
  void set_state(const GameState& s);
  const CodeballOptions& options() const { return options_; }
  SimOptions sim_options() const;
  // +1 for team 0, -1 for team 1: the factor on x and z of the team's own frame.
  static double mirror(int team) { return team == 0 ? 1.0 : -1.0; }
  // Decodes agent `i`'s action row into world coordinates.
  RobotAction decode_action(int i, const float* row) const;
  // Number of discrete actions for `nitro` on/off.
  static int num_discrete_actions(bool nitro) { return nitro ? 50 : 33; }

  // Steps with world-coordinate robot actions (bots that plan in world space, scenarios).
  void step_world(const RobotAction* actions, StepView out);

 private:
  void finish_step(const TickEvents& ev, const Ball& ball_before, StepView out);
  int teammate_slots() const;
  int opponent_slots() const;
  bool shaped() const;

  CodeballOptions options_;
  SimOptions sim_;
  EnvSpec spec_;
  GameState state_;
  Rng rng_;
  // The robots' current actions (world frame): decoded at decision ticks, held between;
  // part of the snapshot.
  std::array<RobotAction, constants::MAX_ROBOTS> decoded_{};
  std::unique_ptr<BulletBodies> bullet_;  // collision=bullet only; holds no game state
};

}  // namespace ludus::codeball
