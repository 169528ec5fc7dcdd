// Reach: rules, Box2D stepping, observations, snapshots and drawing.
#include "reach.hpp"

#include <box2d/box2d.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/registry.hpp"

namespace ludus::reach {

using namespace constants;

namespace {

constexpr uint32_t kSnapshotMagic = 0x31484352;  // "RCH1"

float dist(float ax, float ay, float bx, float by) { return std::hypot(ax - bx, ay - by); }

}  // namespace

ReachEnv::ReachEnv(ReachOptions options) : options_(options) {
  const int n = kNumTeams * options_.team_size;
  spec_.name = "reach";
  spec_.num_teams = kNumTeams;
  spec_.num_agents = n;
  for (int i = 0; i < n; ++i) spec_.agent_team.push_back(i / options_.team_size);
  spec_.obs_shape = {7 + 4 * (options_.team_size - 1) + 4 * options_.team_size + 3};
  spec_.action_space = ActionSpace::discrete(kNumActions);
  spec_.tick_rate_hz = kTickRateHz;
  spec_.max_ticks = options_.max_ticks;
  spec_.validate();
  state_.agents.resize(static_cast<size_t>(n));
  distance_before_.resize(static_cast<size_t>(n));
}

void ReachEnv::place_target() {
  const float span = kArenaHalfSizeM - kTargetRadiusM - 0.5f;
  for (int attempt = 0; attempt < 16; ++attempt) {
    state_.target_x = static_cast<float>(rng_.uniform(-span, span));
    state_.target_y = static_cast<float>(rng_.uniform(-span, span));
    bool clear = true;
    for (const auto& a : state_.agents)
      clear = clear && dist(a.x, a.y, state_.target_x, state_.target_y) > kRespawnClearanceM;
    if (clear) return;
  }
}

void ReachEnv::reset(uint64_t seed, StepView out) {
  rng_.seed(seed);
  state_.tick = 0;
  state_.score.fill(0);
  state_.last_scorer = -1;
  const int ts = options_.team_size;
  for (int i = 0; i < spec_.num_agents; ++i) {
    const int team = i / ts, slot = i % ts;
    const float y = (static_cast<float>(slot) - 0.5f * static_cast<float>(ts - 1)) * 2.5f;
    // Team 1 is team 0's layout rotated by 180 degrees, so the kickoff is fair.
    auto& a = state_.agents[static_cast<size_t>(i)];
    a = AgentState{-kKickoffXM * mirror(team), y * mirror(team), 0, 0};
  }
  // The first target is on the centre line: equally far from both teams.
  state_.target_x = 0;
  state_.target_y = static_cast<float>(rng_.uniform(-(kArenaHalfSizeM - 2), kArenaHalfSizeM - 2));
  state_.rng = rng_.state();
  observe(out.obs);
  std::fill_n(out.reward, spec_.num_agents, 0.0f);
  *out.terminated = 0;
  *out.truncated = 0;
}

void ReachEnv::physics_tick(const float* actions) {
  // The world is rebuilt from the plain state every tick: Box2D keeps contact history
  // (warm starting, contact order) that a snapshot could not restore, and with a handful
  // of bodies the rebuild costs microseconds while making save/load exact.
  b2World world(b2Vec2(0.0f, 0.0f));
  world.SetAllowSleeping(false);
  world.SetContinuousPhysics(false);

  b2BodyDef wall_def;
  b2Body* walls = world.CreateBody(&wall_def);
  const float h = kArenaHalfSizeM;
  // Clockwise: Box2D 2.4 chain edges collide on their right side only, here the inside.
  const b2Vec2 corners[4] = {{-h, -h}, {-h, h}, {h, h}, {h, -h}};
  b2ChainShape chain;
  chain.CreateLoop(corners, 4);
  b2FixtureDef wall_fix;
  wall_fix.shape = &chain;
  wall_fix.friction = 0.0f;
  wall_fix.restitution = 0.2f;
  walls->CreateFixture(&wall_fix);

  b2CircleShape disc;
  disc.m_radius = kAgentRadiusM;
  b2FixtureDef disc_fix;
  disc_fix.shape = &disc;
  disc_fix.density = 1.0f;
  disc_fix.friction = 0.0f;
  disc_fix.restitution = 0.3f;

  b2Body* bodies[2 * 4];
  for (int i = 0; i < spec_.num_agents; ++i) {
    const auto& a = state_.agents[static_cast<size_t>(i)];
    b2BodyDef def;
    def.type = b2_dynamicBody;
    def.fixedRotation = true;
    def.position.Set(a.x, a.y);
    def.linearVelocity.Set(a.vx, a.vy);
    b2Body* body = world.CreateBody(&def);
    body->CreateFixture(&disc_fix);

    // Velocity drive: accelerate toward the chosen direction at full speed, limited.
    const int team = spec_.agent_team[static_cast<size_t>(i)];
    const int act = std::clamp(static_cast<int>(actions[i]), 0, kNumActions - 1);
    float tx = 0, ty = 0;
    if (act > 0) {
      const double angle = (act - 1) * std::numbers::pi / 4.0;
      tx = static_cast<float>(std::cos(angle)) * kMaxSpeedMPerS * mirror(team);
      ty = static_cast<float>(std::sin(angle)) * kMaxSpeedMPerS * mirror(team);
    }
    float ax = (tx - a.vx) / kSpeedResponseS, ay = (ty - a.vy) / kSpeedResponseS;
    const float amag = std::hypot(ax, ay);
    if (amag > kMaxAccelMPerS2) ax *= kMaxAccelMPerS2 / amag, ay *= kMaxAccelMPerS2 / amag;
    body->ApplyForceToCenter(b2Vec2(ax * body->GetMass(), ay * body->GetMass()), true);
    bodies[i] = body;
  }

  world.Step(static_cast<float>(1.0 / kTickRateHz), /*velocityIterations=*/8, /*positionIterations=*/3);

  for (int i = 0; i < spec_.num_agents; ++i) {
    const b2Vec2 p = bodies[i]->GetPosition(), v = bodies[i]->GetLinearVelocity();
    state_.agents[static_cast<size_t>(i)] = AgentState{p.x, p.y, v.x, v.y};
  }
}

void ReachEnv::step(const float* actions, StepView out) {
  rng_.set_state(state_.rng);
  const int n = spec_.num_agents;
  for (int i = 0; i < n; ++i) {
    const auto& a = state_.agents[static_cast<size_t>(i)];
    distance_before_[static_cast<size_t>(i)] = dist(a.x, a.y, state_.target_x, state_.target_y);
  }
  physics_tick(actions);
  ++state_.tick;
  std::fill_n(out.reward, n, 0.0f);

  // The closest disc touching the target scores. Exact ties (the mirrored kickoff: both
  // discs arrive on the same tick at the same distance) go to one of the tied discs drawn
  // from the game's random stream, so neither side owns them (they once went to the
  // lowest index: team 0 took every kickoff point, and `greedy` beat itself 76% as team 0).
  int scorer = -1, tied = 0;
  float best = kAgentRadiusM + kTargetRadiusM;
  for (int i = 0; i < n; ++i) {
    const auto& a = state_.agents[static_cast<size_t>(i)];
    const float d = dist(a.x, a.y, state_.target_x, state_.target_y);
    if (d < best) {
      best = d, scorer = i, tied = 1;
    } else if (scorer >= 0 && d == best) {
      ++tied;  // reservoir choice: each of the tied discs with probability 1 / tied
      if (rng_.below(static_cast<uint32_t>(tied)) == 0) scorer = i;
    }
  }
  if (scorer >= 0) {
    const int team = spec_.agent_team[static_cast<size_t>(scorer)];
    ++state_.score[static_cast<size_t>(team)];
    state_.last_scorer = scorer;
    for (int i = 0; i < n; ++i) out.reward[i] = spec_.agent_team[static_cast<size_t>(i)] == team ? 1.0f : -1.0f;
    place_target();
  } else if (options_.approach_reward > 0) {
    for (int i = 0; i < n; ++i) {
      const auto& a = state_.agents[static_cast<size_t>(i)];
      const float closed = distance_before_[static_cast<size_t>(i)] - dist(a.x, a.y, state_.target_x, state_.target_y);
      out.reward[i] = static_cast<float>(options_.approach_reward) * closed;
    }
  }
  state_.rng = rng_.state();

  const bool won = *std::max_element(state_.score.begin(), state_.score.end()) >= options_.target_score;
  *out.terminated = won ? 1 : 0;
  *out.truncated = (!won && state_.tick >= options_.max_ticks) ? 1 : 0;
  observe(out.obs);
}

void ReachEnv::observe(float* obs) const {
  const int n = spec_.num_agents, ts = options_.team_size;
  const auto dim = spec_.obs_dim();
  const float inv_h = 1.0f / kArenaHalfSizeM, inv_span = 0.5f / kArenaHalfSizeM, inv_v = 1.0f / kMaxSpeedMPerS;
  for (int i = 0; i < n; ++i) {
    const int team = spec_.agent_team[static_cast<size_t>(i)];
    const float m = mirror(team);
    const auto& s = state_.agents[static_cast<size_t>(i)];
    float* o = obs + i * dim;
    *o++ = m * s.x * inv_h;
    *o++ = m * s.y * inv_h;
    *o++ = m * s.vx * inv_v;
    *o++ = m * s.vy * inv_v;
    *o++ = m * (state_.target_x - s.x) * inv_span;
    *o++ = m * (state_.target_y - s.y) * inv_span;
    *o++ = dist(s.x, s.y, state_.target_x, state_.target_y) * inv_span * (1.0f / std::numbers::sqrt2_v<float>);
    auto other = [&](int j) {
      const auto& a = state_.agents[static_cast<size_t>(j)];
      *o++ = m * (a.x - s.x) * inv_span;
      *o++ = m * (a.y - s.y) * inv_span;
      *o++ = m * a.vx * inv_v;
      *o++ = m * a.vy * inv_v;
    };
    for (int j = team * ts; j < (team + 1) * ts; ++j)
      if (j != i) other(j);
    // Opponents nearest first (ties: lower index first).
    std::array<int, 4> opp{};
    const int first = (1 - team) * ts;
    for (int k = 0; k < ts; ++k) opp[static_cast<size_t>(k)] = first + k;
    auto d2 = [&](int j) {
      const auto& a = state_.agents[static_cast<size_t>(j)];
      return (a.x - s.x) * (a.x - s.x) + (a.y - s.y) * (a.y - s.y);
    };
    // Insertion sort: stable, allocation-free, and at most 4 entries.
    for (int k = 1; k < ts; ++k)
      for (int j = k; j > 0 && d2(opp[static_cast<size_t>(j)]) < d2(opp[static_cast<size_t>(j - 1)]); --j)
        std::swap(opp[static_cast<size_t>(j)], opp[static_cast<size_t>(j - 1)]);
    for (int k = 0; k < ts; ++k) other(opp[static_cast<size_t>(k)]);
    const float inv_target = 1.0f / static_cast<float>(options_.target_score);
    *o++ = static_cast<float>(state_.score[static_cast<size_t>(team)]) * inv_target;
    *o++ = static_cast<float>(state_.score[static_cast<size_t>(1 - team)]) * inv_target;
    *o++ = 1.0f - static_cast<float>(state_.tick) / static_cast<float>(options_.max_ticks);
  }
}

void ReachEnv::save_state(std::vector<uint8_t>& out) const {
  out.clear();
  ByteWriter w(out);
  w.put<uint32_t>(kSnapshotMagic);
  w.put<int32_t>(options_.team_size);
  w.put<int64_t>(state_.tick);
  for (int32_t s : state_.score) w.put<int32_t>(s);
  w.put<float>(state_.target_x);
  w.put<float>(state_.target_y);
  w.put<int32_t>(state_.last_scorer);
  w.put_array<AgentState>(state_.agents);
  for (uint64_t r : state_.rng) w.put<uint64_t>(r);
}

void ReachEnv::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "reach snapshot");
  if (r.get<uint32_t>() != kSnapshotMagic) r.fail("not a reach snapshot");
  if (r.get<int32_t>() != options_.team_size) r.fail("snapshot has a different team_size");
  ReachState s;
  s.tick = r.get<int64_t>();
  for (int32_t& v : s.score) v = r.get<int32_t>();
  s.target_x = r.get<float>();
  s.target_y = r.get<float>();
  s.last_scorer = r.get<int32_t>();
  r.get_array(s.agents, 64);
  if (s.agents.size() != state_.agents.size()) r.fail("snapshot has a different number of agents");
  for (uint64_t& v : s.rng) v = r.get<uint64_t>();
  r.expect_end();
  if (s.tick < 0 || s.tick > options_.max_ticks) r.fail("tick out of range");
  // Values the game itself can reach: finite, inside (or just outside) the arena, below
  // any speed the physics produces. Anything else would feed Box2D NaNs or infinities.
  const auto inside = [](float v) { return std::isfinite(v) && std::fabs(v) <= 2 * kArenaHalfSizeM; };
  const auto speed = [](float v) { return std::isfinite(v) && std::fabs(v) <= 1000.0f; };
  if (!inside(s.target_x) || !inside(s.target_y)) r.fail("target outside the arena");
  for (const auto& a : s.agents)
    if (!inside(a.x) || !inside(a.y) || !speed(a.vx) || !speed(a.vy))
      r.fail("an agent's position or velocity is not plausible");
  if (s.score[0] < 0 || s.score[1] < 0) r.fail("negative score");
  if (s.last_scorer < -1 || s.last_scorer >= spec_.num_agents) r.fail("last scorer is not an agent");
  state_ = std::move(s);
  rng_.set_state(state_.rng);
}

void ReachEnv::draw(Frame& frame) const {
  frame.clear();
  const float h = kArenaHalfSizeM;
  frame.dims = 2;
  frame.tick = state_.tick;
  const float b[6] = {-h, h, -h, h, 0, 0};
  std::copy(b, b + 6, frame.bounds);
  frame.scores = {static_cast<double>(state_.score[0]), static_cast<double>(state_.score[1])};
  const float floor_pts[12] = {-h, -h, 0, h, -h, 0, h, h, 0, -h, h, 0};
  frame.polygon(floor_pts, 4, Rgba{28, 32, 38, 255}, true);
  frame.polygon(floor_pts, 4, Rgba{180, 180, 190, 255}, false);
  frame.circle(state_.target_x, state_.target_y, kTargetRadiusM, Rgba{250, 200, 40, 255});
  for (int i = 0; i < spec_.num_agents; ++i) {
    const auto& a = state_.agents[static_cast<size_t>(i)];
    const int team = spec_.agent_team[static_cast<size_t>(i)];
    frame.circle(a.x, a.y, kAgentRadiusM, team_color(team), team);
    frame.line2d(a.x, a.y, a.x + a.vx * 0.2f, a.y + a.vy * 0.2f, Rgba{240, 240, 240, 200}, 2);
  }
}

MatchResult ReachEnv::result() const {
  return result_from_scores({static_cast<double>(state_.score[0]), static_cast<double>(state_.score[1])}, state_.tick);
}

}  // namespace ludus::reach

LUDUS_REGISTER_ENV("reach", ludus::reach::ReachEnv, ludus::reach::ReachOptions,
                   "example: two teams of discs race to touch a target (Box2D)");
