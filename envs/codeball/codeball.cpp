// Codeball env: actions, kickoffs and goals, observations, rewards, snapshots, drawing.
#include "codeball/codeball.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/registry.hpp"

namespace ludus::codeball {

using namespace constants;

namespace {

constexpr uint32_t kSnapshotMagic = 0x32424443;  // "CDB2": GameState + the held actions
constexpr float kPosX = 1.0f / 30, kPosY = 1.0f / 20, kPosZ = 1.0f / 50, kVel = 1.0f / 50;

int obs_dim_for(int robot_slots) { return 12 + 9 + 8 * robot_slots + 8 + 4; }

float clampf(float v, float lo, float hi) { return std::isfinite(v) ? std::clamp(v, lo, hi) : 0.0f; }

}  // namespace

CodeballEnv::CodeballEnv(CodeballOptions options) : options_(std::move(options)) {
  sim_ = sim_options();
  const int n = NUM_TEAMS * options_.team_size;
  spec_.name = "codeball";
  spec_.num_teams = NUM_TEAMS;
  spec_.num_agents = n;
  for (int i = 0; i < n; ++i) spec_.agent_team.push_back(i / options_.team_size);
  spec_.obs_shape = {obs_dim_for(teammate_slots() + opponent_slots())};
  if (options_.action_mode == "discrete")
    spec_.action_space = ActionSpace::discrete(num_discrete_actions(options_.nitro));
  else
    spec_.action_space = ActionSpace::box({-30, -30, -30, 0, 0}, {30, 30, 30, 15, 1});
  spec_.tick_rate_hz = TICKS_PER_SECOND;
  spec_.max_ticks = options_.max_ticks;
  spec_.decision_interval = options_.decision_ticks;
  spec_.validate();
  state_.num_robots = n;
  if (options_.collision == "bullet") {
    BulletArena::shared();  // build the shared mesh now, not in the first step
    bullet_ = std::make_unique<BulletBodies>(n);
  }
}

int CodeballEnv::teammate_slots() const {
  return options_.observe_teammates < 0 ? options_.team_size - 1 : options_.observe_teammates;
}

int CodeballEnv::opponent_slots() const {
  return options_.observe_opponents < 0 ? options_.team_size : options_.observe_opponents;
}

SimOptions CodeballEnv::sim_options() const {
  SimOptions s;
  s.microticks = options_.microticks;
  s.deterministic = options_.deterministic;
  s.nitro = options_.nitro;
  return s;
}

void CodeballEnv::reset(uint64_t seed, StepView out) {
  rng_.seed(seed);
  GameState s;
  s.num_robots = spec_.num_agents;
  for (int i = 0; i < s.num_robots; ++i)
    s.robots[static_cast<size_t>(i)].nitro = options_.nitro ? START_NITRO_AMOUNT : 0;
  const double sx[4] = {-1, -1, 1, 1}, sz[4] = {-1, 1, -1, 1};
  for (size_t k = 0; k < s.packs.size(); ++k)
    s.packs[k].position = {sx[k] * NITRO_PACK_X, NITRO_PACK_Y, sz[k] * NITRO_PACK_Z};
  place_kickoff(s, options_.team_size, rng_);
  s.rng = rng_.state();
  state_ = s;
  decoded_ = {};
  observe(out.obs);
  std::fill_n(out.reward, spec_.num_agents, 0.0f);
  *out.terminated = 0;
  *out.truncated = 0;
}

void CodeballEnv::set_state(const GameState& s) {
  state_ = s;
  state_.num_robots = spec_.num_agents;
  rng_.set_state(state_.rng);
}

RobotAction CodeballEnv::decode_action(int i, const float* row) const {
  const double m = mirror(spec_.agent_team[static_cast<size_t>(i)]);
  RobotAction a;
  if (spec_.action_space.kind == SpaceKind::box) {
    a.target_velocity = {m * clampf(row[0], -30, 30), clampf(row[1], -30, 30), m * clampf(row[2], -30, 30)};
    a.jump_speed = clampf(row[3], 0, 15);
    a.use_nitro = row[4] >= 0.5f;
    return a;
  }
  const int n = num_discrete_actions(options_.nitro);
  const int k = std::isfinite(row[0]) ? std::clamp(static_cast<int>(row[0]), 0, n - 1) : 0;
  if (k == 0) return a;
  if (k == 49) {
    a.target_velocity = {0, ROBOT_MAX_GROUND_SPEED, 0};
    a.jump_speed = ROBOT_MAX_JUMP_SPEED;
    a.use_nitro = true;
    return a;
  }
  int dir = 0;
  double speed = ROBOT_MAX_GROUND_SPEED;
  bool jump = false;
  if (k <= 32) {
    dir = (k - 1) % 8;
    speed = ((k - 1) / 8) % 2 == 0 ? ROBOT_MAX_GROUND_SPEED / 2 : ROBOT_MAX_GROUND_SPEED;
    jump = (k - 1) / 16 == 1;
  } else {
    dir = (k - 33) % 8;
    jump = (k - 33) / 8 == 1;
    a.use_nitro = true;
  }
  const double angle = dir * std::numbers::pi / 4;
  a.target_velocity = {m * speed * std::sin(angle), 0, m * speed * std::cos(angle)};
  a.jump_speed = jump ? ROBOT_MAX_JUMP_SPEED : 0;
  return a;
}

void CodeballEnv::step(const float* actions, StepView out) {
  if (state_.tick % options_.decision_ticks == 0) {
    const int dim = spec_.action_dim();
    for (int i = 0; i < spec_.num_agents; ++i) decoded_[static_cast<size_t>(i)] = decode_action(i, actions + i * dim);
  }
  const Ball before = state_.ball;
  rng_.set_state(state_.rng);
  const TickEvents ev = simulate_tick(state_, decoded_.data(), sim_, rng_, bullet_.get());
  finish_step(ev, before, out);
}

void CodeballEnv::step_world(const RobotAction* actions, StepView out) {
  const Ball before = state_.ball;
  rng_.set_state(state_.rng);
  const TickEvents ev = simulate_tick(state_, actions, sim_, rng_, bullet_.get());
  finish_step(ev, before, out);
}

bool CodeballEnv::shaped() const {
  const auto& o = options_;
  return o.ball_to_goal_reward != 0 || o.touch_reward != 0 || o.distance_reward != 0 || o.player_to_ball_reward != 0 ||
         o.save_reward != 0;
}

void CodeballEnv::finish_step(const TickEvents& ev, const Ball& ball_before, StepView out) {
  ++state_.tick;
  const int n = spec_.num_agents;
  std::fill_n(out.reward, n, 0.0f);
  bool goal = false;
  if (ev.goal_team >= 0) {
    goal = true;
    ++state_.score[static_cast<size_t>(ev.goal_team)];
    state_.last_goal_team = ev.goal_team;
    state_.reset_ticks = options_.end_on_goal ? 0 : RESET_TICKS;
    const auto w = static_cast<float>(options_.goal_reward);
    for (int i = 0; i < n; ++i) out.reward[i] = spec_.agent_team[static_cast<size_t>(i)] == ev.goal_team ? w : -w;
  } else if (state_.reset_ticks > 0 && --state_.reset_ticks == 0) {
    place_kickoff(state_, options_.team_size, rng_);
  }
  if (shaped()) {
    const Ball& ball = state_.ball;
    std::array<double, 2 * MAX_TEAM_SIZE> own{};
    for (int i = 0; i < n; ++i) {
      const Robot& r = state_.robots[static_cast<size_t>(i)];
      const double m = mirror(r.team);
      const Vec3 to_ball = ball.position - r.position;
      const double dist = to_ball.length();
      double shaped = options_.ball_to_goal_reward * m * ball.velocity.z / 100 +
                      options_.touch_reward * r.touched_ball - options_.distance_reward * dist / 100;
      if (options_.player_to_ball_reward != 0 && dist > 0)
        shaped += options_.player_to_ball_reward *
                  std::clamp(r.velocity.dot(to_ball) / (dist * ROBOT_MAX_GROUND_SPEED), -1.0, 1.0);
      // A save: the ball was in our half heading at our goal, our hit sent it away.
      if (options_.save_reward != 0 && r.touched_ball && m * ball_before.position.z < 0 &&
          m * ball_before.velocity.z < -1 && m * ball.velocity.z > 0)
        shaped += options_.save_reward;
      own[static_cast<size_t>(i)] = shaped;
    }
    const double t = options_.team_spirit;
    const int ts = options_.team_size;
    for (int i = 0; i < n; ++i) {
      double shaped = own[static_cast<size_t>(i)];
      if (t > 0) {
        const int first = state_.robots[static_cast<size_t>(i)].team * ts;
        double team = 0;
        for (int j = first; j < first + ts; ++j) team += own[static_cast<size_t>(j)];
        shaped = (1 - t) * shaped + t * team / ts;
      }
      out.reward[i] += static_cast<float>(shaped);
    }
  }
  state_.rng = rng_.state();
  *out.terminated = goal && options_.end_on_goal ? 1 : 0;
  *out.truncated = !*out.terminated && state_.tick >= options_.max_ticks ? 1 : 0;
  // Observations only where a robot's action is read next (env.hpp), or at the end.
  if (observations_due(state_.tick, options_.decision_ticks, *out.terminated || *out.truncated)) observe(out.obs);
}

void CodeballEnv::observe(float* obs) const {
  const int n = spec_.num_agents, ts = options_.team_size;
  const auto dim = spec_.obs_dim();
  for (int i = 0; i < n; ++i) {
    const Robot& self = state_.robots[static_cast<size_t>(i)];
    const int team = self.team;
    const auto m = static_cast<float>(mirror(team));
    float* o = obs + i * dim;
    auto pos = [&](const Vec3& p) {
      *o++ = m * static_cast<float>(p.x) * kPosX;
      *o++ = static_cast<float>(p.y) * kPosY;
      *o++ = m * static_cast<float>(p.z) * kPosZ;
    };
    auto vel = [&](const Vec3& v) {
      *o++ = m * static_cast<float>(v.x) * kVel;
      *o++ = static_cast<float>(v.y) * kVel;
      *o++ = m * static_cast<float>(v.z) * kVel;
    };
    auto other = [&](const Robot& r) {
      pos(r.position);
      vel(r.velocity);
      *o++ = static_cast<float>((r.radius - ROBOT_MIN_RADIUS) / (ROBOT_MAX_RADIUS - ROBOT_MIN_RADIUS));
      *o++ = static_cast<float>(r.nitro / MAX_NITRO_AMOUNT);
    };
    pos(self.position);
    vel(self.velocity);
    *o++ = static_cast<float>((self.radius - ROBOT_MIN_RADIUS) / (ROBOT_MAX_RADIUS - ROBOT_MIN_RADIUS));
    *o++ = self.touch;
    *o++ = m * static_cast<float>(self.touch_normal.x);
    *o++ = static_cast<float>(self.touch_normal.y);
    *o++ = m * static_cast<float>(self.touch_normal.z);
    *o++ = static_cast<float>(self.nitro / MAX_NITRO_AMOUNT);
    pos(state_.ball.position);
    vel(state_.ball.velocity);
    pos(state_.ball.position - self.position);
    auto d2 = [&](int j) {
      return (state_.robots[static_cast<size_t>(j)].position - state_.ball.position).length_sq();
    };
    // Robots in `ids` nearest to the ball first (stable: ties keep id order).
    auto by_ball = [&](std::array<int, MAX_TEAM_SIZE>& ids, int count) {
      for (int k = 1; k < count; ++k)
        for (int j = k; j > 0 && d2(ids[static_cast<size_t>(j)]) < d2(ids[static_cast<size_t>(j - 1)]); --j)
          std::swap(ids[static_cast<size_t>(j)], ids[static_cast<size_t>(j - 1)]);
    };
    // `slots` entries from `ids` (count robots), zero slots past the last robot.
    auto slots_of = [&](const std::array<int, MAX_TEAM_SIZE>& ids, int count, int slots) {
      for (int k = 0; k < slots; ++k) {
        if (k < count) {
          other(state_.robots[static_cast<size_t>(ids[static_cast<size_t>(k)])]);
        } else {
          std::fill_n(o, 8, 0.0f);
          o += 8;
        }
      }
    };
    std::array<int, MAX_TEAM_SIZE> mates{};
    int num_mates = 0;
    for (int j = team * ts; j < (team + 1) * ts; ++j)
      if (j != i) mates[static_cast<size_t>(num_mates++)] = j;
    const int mate_slots = teammate_slots();
    if (mate_slots < num_mates) by_ball(mates, num_mates);  // a subset: the nearest to the ball
    slots_of(mates, num_mates, mate_slots);
    std::array<int, MAX_TEAM_SIZE> opp{};
    const int first = (1 - team) * ts;
    for (int k = 0; k < ts; ++k) opp[static_cast<size_t>(k)] = first + k;
    by_ball(opp, ts);
    slots_of(opp, ts, opponent_slots());
    // Packs are stored in world quadrant order (-,-), (-,+), (+,-), (+,+); mirroring both
    // axes reverses that order.
    for (int k = 0; k < NUM_NITRO_PACKS; ++k) {
      const auto& p = state_.packs[static_cast<size_t>(team == 0 ? k : NUM_NITRO_PACKS - 1 - k)];
      *o++ = options_.nitro && p.respawn_ticks == 0 ? 1.0f : 0.0f;
      *o++ = static_cast<float>(p.respawn_ticks) / NITRO_PACK_RESPAWN_TICKS;
    }
    const bool st = options_.observe_score_time;
    *o++ = st ? static_cast<float>(state_.score[static_cast<size_t>(team)]) * 0.1f : 0.0f;
    *o++ = st ? static_cast<float>(state_.score[static_cast<size_t>(1 - team)]) * 0.1f : 0.0f;
    *o++ = st ? 1.0f - static_cast<float>(state_.tick) / static_cast<float>(options_.max_ticks) : 0.0f;
    *o++ = static_cast<float>(state_.reset_ticks) / RESET_TICKS;
  }
}

void CodeballEnv::save_state(std::vector<uint8_t>& out) const {
  out.clear();
  ByteWriter w(out);
  w.put<uint32_t>(kSnapshotMagic);
  w.put<int32_t>(options_.team_size);
  w.put<int32_t>(options_.nitro ? 1 : 0);
  w.put<uint32_t>(static_cast<uint32_t>(sizeof(GameState)));
  w.put<GameState>(state_);
  w.put<int32_t>(options_.decision_ticks);
  for (int i = 0; i < spec_.num_agents; ++i) {
    const RobotAction& a = decoded_[static_cast<size_t>(i)];
    w.put<Vec3>(a.target_velocity);
    w.put<double>(a.jump_speed);
    w.put<uint8_t>(a.use_nitro ? 1 : 0);
  }
}

void CodeballEnv::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "codeball snapshot");
  if (r.get<uint32_t>() != kSnapshotMagic) r.fail("not a codeball snapshot");
  if (r.get<int32_t>() != options_.team_size) r.fail("snapshot has a different team_size");
  if (r.get<int32_t>() != (options_.nitro ? 1 : 0)) r.fail("snapshot has a different nitro option");
  if (r.get<uint32_t>() != sizeof(GameState)) r.fail("snapshot from a build with another state layout");
  const auto s = r.get<GameState>();
  if (r.get<int32_t>() != options_.decision_ticks) r.fail("snapshot has a different decision_ticks option");
  std::array<RobotAction, MAX_ROBOTS> held{};
  for (int i = 0; i < spec_.num_agents; ++i) {
    RobotAction& a = held[static_cast<size_t>(i)];
    a.target_velocity = r.get<Vec3>();
    a.jump_speed = r.get<double>();
    a.use_nitro = r.get<uint8_t>() != 0;
  }
  r.expect_end();
  if (s.num_robots != spec_.num_agents) r.fail("snapshot has a different number of robots");
  if (s.tick < 0 || s.tick > options_.max_ticks) r.fail("tick out of range");
  if (s.reset_ticks < 0 || s.reset_ticks > RESET_TICKS) r.fail("goal pause out of range");
  for (int32_t goals : s.score)
    if (goals < 0) r.fail("negative score");
  // Finite and within what the rules can produce (the arena is 60 x 20 x 80 plus the
  // goals; speeds are capped well below 1,000): a snapshot is refused rather than fed to
  // the simulation as NaNs, infinities or values that overflow it.
  auto bounded = [](double v, double lim) { return std::isfinite(v) && std::fabs(v) <= lim; };
  auto finite = [&](const Vec3& v) { return bounded(v.x, 1e3) && bounded(v.y, 1e3) && bounded(v.z, 1e3); };
  if (s.last_goal_team < -1 || s.last_goal_team >= NUM_TEAMS) r.fail("last goal team out of range");
  for (int i = 0; i < s.num_robots; ++i) {
    const Robot& rb = s.robots[static_cast<size_t>(i)];
    if (rb.team != spec_.agent_team[static_cast<size_t>(i)])
      r.fail("robot " + std::to_string(i) + " has the wrong team");
    if (!finite(rb.position) || !finite(rb.velocity) || !finite(rb.touch_normal) ||
        !(rb.radius > 0.1 && rb.radius < 10) || !bounded(rb.radius_change_speed, 1e3) ||
        !(rb.nitro >= 0 && rb.nitro <= MAX_NITRO_AMOUNT) || rb.touch > 1 || rb.touched_ball > 1)
      r.fail("robot " + std::to_string(i) + " has a non-finite or out-of-range value");
  }
  if (!finite(s.ball.position) || !finite(s.ball.velocity) || !(s.ball.radius > 0.1 && s.ball.radius < 10))
    r.fail("ball has a non-finite value");
  for (const auto& pack : s.packs)
    if (pack.respawn_ticks < 0 || pack.respawn_ticks > NITRO_PACK_RESPAWN_TICKS || !finite(pack.position))
      r.fail("nitro pack out of range");
  for (int i = 0; i < s.num_robots; ++i) {
    const RobotAction& a = held[static_cast<size_t>(i)];
    if (!finite(a.target_velocity) || !bounded(a.jump_speed, 1e3))
      r.fail("robot " + std::to_string(i) + " has a non-finite held action");
  }
  state_ = s;
  decoded_ = held;
  rng_.set_state(state_.rng);
}

void CodeballEnv::draw(Frame& frame) const {
  frame.clear();
  frame.dims = 3;
  frame.tick = state_.tick;
  const float hw = ARENA_WIDTH / 2, hd = ARENA_DEPTH / 2, h = ARENA_HEIGHT;
  const float gw = ARENA_GOAL_WIDTH / 2, gh = ARENA_GOAL_HEIGHT, gd = ARENA_GOAL_DEPTH;
  const float b[6] = {-hw, hw, 0, h, -(hd + gd), hd + gd};
  std::copy(b, b + 6, frame.bounds);
  frame.scores = {static_cast<double>(state_.score[0]), static_cast<double>(state_.score[1])};
  const Rgba floor_c{40, 90, 50, 255}, wall_c{170, 170, 180, 255};
  const float floor_pts[12] = {-hw, 0, -hd, hw, 0, -hd, hw, 0, hd, -hw, 0, hd};
  frame.polygon(floor_pts, 4, floor_c, true);
  // Field outline at floor and ceiling height, and the vertical edges.
  for (float y : {0.0f, h}) {
    frame.line(-hw, y, -hd, hw, y, -hd, wall_c);
    frame.line(hw, y, -hd, hw, y, hd, wall_c);
    frame.line(hw, y, hd, -hw, y, hd, wall_c);
    frame.line(-hw, y, hd, -hw, y, -hd, wall_c);
  }
  for (float x : {-hw, hw})
    for (float z : {-hd, hd}) frame.line(x, 0, z, x, h, z, wall_c);
  frame.line(0, 0.01f, -hd, 0, 0.01f, hd, Rgba{220, 220, 220, 120});
  // Goals: mouth and box, in the defending team's colour.
  for (int team = 0; team < NUM_TEAMS; ++team) {
    const float s = team == 0 ? -1.0f : 1.0f;
    const Rgba c = team_color(team);
    const float z0 = s * hd, z1 = s * (hd + gd);
    frame.line(-gw, 0, z0, -gw, gh, z0, c, 3);
    frame.line(gw, 0, z0, gw, gh, z0, c, 3);
    frame.line(-gw, gh, z0, gw, gh, z0, c, 3);
    frame.line(-gw, 0, z1, gw, 0, z1, c);
    frame.line(-gw, gh, z1, gw, gh, z1, c);
    for (float x : {-gw, gw}) {
      frame.line(x, 0, z0, x, 0, z1, c);
      frame.line(x, gh, z0, x, gh, z1, c);
      frame.line(x, 0, z1, x, gh, z1, c);
    }
  }
  if (options_.nitro)
    for (const auto& p : state_.packs)
      if (p.respawn_ticks == 0)
        frame.sphere(static_cast<float>(p.position.x), static_cast<float>(p.position.y),
                     static_cast<float>(p.position.z), NITRO_PACK_RADIUS, Rgba{60, 220, 120, 255});
  for (int i = 0; i < state_.num_robots; ++i) {
    const Robot& r = state_.robots[static_cast<size_t>(i)];
    frame.sphere(static_cast<float>(r.position.x), static_cast<float>(r.position.y), static_cast<float>(r.position.z),
                 static_cast<float>(r.radius), team_color(r.team), r.team);
  }
  const Ball& ball = state_.ball;
  frame.sphere(static_cast<float>(ball.position.x), static_cast<float>(ball.position.y),
               static_cast<float>(ball.position.z), static_cast<float>(ball.radius), Rgba{240, 240, 240, 255});
  // A marker under the ball helps judge its height.
  frame.sphere(static_cast<float>(ball.position.x), 0.05f, static_cast<float>(ball.position.z), 0.4f,
               Rgba{20, 20, 20, 160});
}

MatchResult CodeballEnv::result() const {
  return result_from_scores({static_cast<double>(state_.score[0]), static_cast<double>(state_.score[1])}, state_.tick);
}

}  // namespace ludus::codeball

LUDUS_REGISTER_ENV("codeball", ludus::codeball::CodeballEnv, ludus::codeball::CodeballOptions,
                   "3D robot soccer after the Russian AI Cup 2018 rules (2v2 default, nitro)");
