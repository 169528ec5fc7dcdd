// Codeball scenarios: the file format (a position and scripted actions) and its headless run.
#include "codeball/scenario.hpp"

#include <fmt/core.h>
#include <fmt/os.h>

#include <cstdint>
#include <memory>

#include "codeball/codeball.hpp"
#include "ludus/engine/config.hpp"
#include "ludus/engine/registry.hpp"

namespace ludus::codeball {
namespace {

// A body's position and velocity in world coordinates (x, y up, z toward team 1's goal).
struct BodySpec {
  std::vector<double> position, velocity;
  double nitro = constants::START_NITRO_AMOUNT;
  bool touch = true;
  void visit(OptionVisitor& v) {
    v.value("position", position, "[x, y, z] in arena units (default: the kickoff place)");
    v.value("velocity", velocity, "[x, y, z] in units/s (default: at rest)");
    v.value("nitro", nitro, 0.0, constants::MAX_NITRO_AMOUNT, "robots only: nitro amount");
    v.value("touch", touch, "robots only: starts touching the floor (can drive in the first microtick)");
  }
};

// A robot's action held from tick `from` to tick `to` (inclusive), world coordinates.
struct ScriptedAction {
  int64_t robot = 0;
  int64_t from = 0, to = 0;
  std::vector<double> target_velocity = {0, 0, 0};
  double jump_speed = 0;
  bool nitro = false;
  void visit(OptionVisitor& v) {
    v.value("robot", robot, 0, constants::MAX_ROBOTS - 1, "robot id (team 0 first)");
    v.value("from", from, 0, INT64_MAX, "first tick (counted from the scenario start) of the action");
    v.value("to", to, 0, INT64_MAX, "last tick of the action (inclusive)");
    v.value("target_velocity", target_velocity, "[x, y, z] in units/s, world coordinates");
    v.value("jump_speed", jump_speed, 0.0, constants::ROBOT_MAX_JUMP_SPEED, "units/s");
    v.value("nitro", nitro, "use nitro");
  }
};

struct Scenario {
  ConfigTree game;
  uint64_t seed = 1;
  int64_t tick = 0;
  std::vector<double> score = {0, 0};
  BodySpec ball;
  std::vector<BodySpec> robots;
  std::vector<ScriptedAction> actions;
  void visit(OptionVisitor& v) {
    v.subtree("game", game, "the game's options (team_size, deterministic, microticks, ...)");
    v.value("seed", seed, "seeds the kickoff layout and the random hit strengths");
    v.value("tick", tick, 0, INT64_MAX, "the match tick the scenario starts at");
    v.value("score", score, "[team 0, team 1] goals so far");
    v.section(
        "ball", [&](OptionVisitor& b) { ball.visit(b); }, "the ball");
    v.list("robots", robots, "robots in id order (team 0 first); missing ones keep their kickoff place");
    v.list("actions", actions, "scripted actions; a robot with none stands still (target velocity 0)");
  }
};

Vec3 vec3(const std::vector<double>& v, const std::string& what, const std::string& file) {
  if (v.size() != 3)
    throw ConfigError(fmt::format("{}: key '{}': expected a list of 3 numbers, got {}", file, what, v.size()));
  return {v[0], v[1], v[2]};
}

}  // namespace

ScenarioRun play_scenario(const std::string& file, const std::vector<std::string>& sets, int64_t ticks,
                          const std::string& out_path) {
  ConfigTree tree = ConfigTree::from_file(file);
  for (const auto& s : sets) tree.apply_override("game." + s);
  const auto sc = bind_options<Scenario>(tree);
  auto env_owned = EnvRegistry::global().get("codeball").create(sc.game);
  auto& env = dynamic_cast<CodeballEnv&>(*env_owned);
  const EnvSpec& spec = env.spec();
  const int n = spec.num_agents;

  std::vector<float> obs(static_cast<size_t>(n * spec.obs_dim())), rew(static_cast<size_t>(n));
  uint8_t term = 0, trunc = 0;
  StepView view{obs.data(), rew.data(), &term, &trunc};
  env.reset(sc.seed, view);
  GameState s = env.state();
  if (sc.tick >= spec.max_ticks)
    throw ConfigError(fmt::format("{}: key 'tick': {} is not before max_ticks {}", file, sc.tick, spec.max_ticks));
  s.tick = sc.tick;
  if (sc.score.size() != 2) throw ConfigError(fmt::format("{}: key 'score': expected [team 0, team 1]", file));
  for (size_t t = 0; t < 2; ++t) {
    if (sc.score[t] < 0 || sc.score[t] > 1e6)
      throw ConfigError(fmt::format("{}: key 'score': {} is not a goal count", file, sc.score[t]));
    s.score[t] = static_cast<int32_t>(sc.score[t]);
  }
  if (!sc.ball.position.empty()) s.ball.position = vec3(sc.ball.position, "ball.position", file);
  if (!sc.ball.velocity.empty()) s.ball.velocity = vec3(sc.ball.velocity, "ball.velocity", file);
  if (static_cast<int>(sc.robots.size()) > n)
    throw ConfigError(fmt::format("{}: key 'robots': {} robots listed, the game has {}", file, sc.robots.size(), n));
  for (size_t i = 0; i < sc.robots.size(); ++i) {
    const BodySpec& b = sc.robots[i];
    Robot& r = s.robots[i];
    const std::string key = "robots." + std::to_string(i);
    if (!b.position.empty()) r.position = vec3(b.position, key + ".position", file);
    r.velocity = b.velocity.empty() ? Vec3{} : vec3(b.velocity, key + ".velocity", file);
    r.nitro = b.nitro;
    r.touch = b.touch ? 1 : 0;
  }
  if (dan_to_arena(s.ball.position).distance < 0)
    throw ConfigError(fmt::format("{}: the ball starts outside the arena", file));
  for (int i = 0; i < n; ++i)
    if (dan_to_arena(s.robots[static_cast<size_t>(i)].position).distance < 0)
      throw ConfigError(fmt::format("{}: robot {} starts outside the arena", file, i));
  for (size_t k = 0; k < sc.actions.size(); ++k) {
    const auto& a = sc.actions[k];
    if (a.robot >= n)
      throw ConfigError(
          fmt::format("{}: key 'actions.{}.robot': {} is not a robot (the game has {})", file, k, a.robot, n));
    if (a.to < a.from) throw ConfigError(fmt::format("{}: key 'actions.{}': 'to' is before 'from'", file, k));
    vec3(a.target_velocity, "actions." + std::to_string(k) + ".target_velocity", file);
  }
  env.set_state(s);

  auto out = fmt::output_file(out_path);
  std::string header = "tick,score0,score1,ball_x,ball_y,ball_z,ball_vx,ball_vy,ball_vz";
  for (int i = 0; i < n; ++i)
    header += fmt::format(",r{0}_x,r{0}_y,r{0}_z,r{0}_vx,r{0}_vy,r{0}_vz,r{0}_radius,r{0}_nitro,r{0}_touch", i);
  out.print("{}\n", header);
  auto row = [&] {
    const GameState& g = env.state();
    out.print("{},{},{},{},{},{},{},{},{}", g.tick, g.score[0], g.score[1], g.ball.position.x, g.ball.position.y,
              g.ball.position.z, g.ball.velocity.x, g.ball.velocity.y, g.ball.velocity.z);
    for (int i = 0; i < n; ++i) {
      const auto& r = g.robots[static_cast<size_t>(i)];
      out.print(",{},{},{},{},{},{},{},{},{}", r.position.x, r.position.y, r.position.z, r.velocity.x, r.velocity.y,
                r.velocity.z, r.radius, r.nitro, static_cast<int>(r.touch));
    }
    out.print("\n");
  };
  row();
  std::array<RobotAction, constants::MAX_ROBOTS> acts{};
  int64_t done = 0;
  for (; done < ticks && !trunc; ++done) {
    acts.fill(RobotAction{});
    for (const auto& a : sc.actions)
      if (done >= a.from && done <= a.to) {
        auto& act = acts[static_cast<size_t>(a.robot)];
        act.target_velocity = {a.target_velocity[0], a.target_velocity[1], a.target_velocity[2]};
        act.jump_speed = a.jump_speed;
        act.use_nitro = a.nitro;
      }
    env.step_world(acts.data(), view);
    row();
  }
  out.close();
  const auto& g = env.state();
  return ScenarioRun{sc.tick, done, {g.score[0], g.score[1]}, trunc != 0};
}

}  // namespace ludus::codeball
