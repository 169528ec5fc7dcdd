// Codeball: behaviours the rules imply, checked at the rules' 100 microticks and in the
// fast mode (20 microticks), plus a comparison with the official runner's logs.
#include "codeball/codeball.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/rng.hpp"

namespace ludus::codeball {
namespace {

using namespace constants;

struct Harness {
  explicit Harness(CodeballOptions o) : env(std::move(o)) {
    const auto& s = env.spec();
    obs.resize(static_cast<size_t>(s.num_agents * s.obs_dim()));
    rew.resize(static_cast<size_t>(s.num_agents));
    act.assign(static_cast<size_t>(s.num_agents), RobotAction{});
  }
  StepView view() { return StepView{obs.data(), rew.data(), &term, &trunc}; }
  void reset(uint64_t seed) { env.reset(seed, view()); }
  void step() { env.step_world(act.data(), view()); }
  const GameState& s() const { return env.state(); }
  CodeballEnv env;
  std::vector<float> obs, rew;
  std::vector<RobotAction> act;
  uint8_t term = 0, trunc = 0;
};

CodeballOptions one_v_one(int microticks, const std::string& collision = "analytic") {
  CodeballOptions o;
  o.team_size = 1;
  o.microticks = microticks;
  o.deterministic = true;
  o.collision = collision;
  return o;
}

// Fidelity cases: microticks and collision backend.
struct Mode {
  int microticks;
  const char* collision;
};

// A 1v1 state with robot 0 at `robot` on the floor, robot 1 parked in a far corner and the
// ball at rest at `ball`.
GameState quiet_state(Harness& h, Vec3 robot, Vec3 ball) {
  h.reset(1);
  GameState s = h.s();
  s.robots[0].position = robot;
  s.robots[0].velocity = {};
  s.robots[0].touch = robot.y <= ROBOT_RADIUS ? 1 : 0;
  s.robots[1].position = {-25, 1, 35};
  s.ball.position = ball;
  s.ball.velocity = {};
  h.env.set_state(s);
  return s;
}

class Fidelity : public ::testing::TestWithParam<Mode> {};

TEST_P(Fidelity, RobotFromRestReachesAndHolds30In0_3Seconds) {
  Harness h(one_v_one(GetParam().microticks, GetParam().collision));
  quiet_state(h, {20, 1, -30}, {-20, 2, 20});
  h.act[0].target_velocity = {0, 0, 30};
  int reached = -1;
  for (int t = 1; t <= 60; ++t) {
    h.step();
    const double speed = h.s().robots[0].velocity.length();
    if (reached < 0 && speed >= 30 - 1e-9) reached = t;
    if (reached > 0) {
      ASSERT_NEAR(speed, 30.0, 1e-9) << "speed must hold at 30, tick " << t;
    }
  }
  // 30 / 100 = 0.3 s = 18 ticks, +-1 tick.
  EXPECT_NEAR(reached, 18, 1) << "ticks to reach 30";
}

TEST_P(Fidelity, FullSpeedJumpPeaksAt3_75AboveStart) {
  Harness h(one_v_one(GetParam().microticks, GetParam().collision));
  quiet_state(h, {0, 1, -20}, {-20, 2, 20});
  h.act[0].jump_speed = ROBOT_MAX_JUMP_SPEED;
  h.step();
  h.act[0].jump_speed = 0;
  double peak = 0;
  for (int t = 0; t < 60; ++t) {
    h.step();
    peak = std::max(peak, h.s().robots[0].position.y - 1.0);
  }
  EXPECT_NEAR(peak, 3.75, 0.1) << "apex above the start height";
}

TEST_P(Fidelity, DroppedBallRisesTo0_49OfItsDropHeight) {
  Harness h(one_v_one(GetParam().microticks, GetParam().collision));
  quiet_state(h, {20, 1, -30}, {0, 12, 0});
  const double drop = 12 - BALL_RADIUS;
  bool bounced = false;
  double peak = 0;
  for (int t = 0; t < 240; ++t) {
    h.step();
    const Ball& b = h.s().ball;
    if (!bounced && b.velocity.y > 0) bounced = true;
    if (bounced) {
      if (b.velocity.y < 0) break;
      peak = std::max(peak, b.position.y - BALL_RADIUS);
    }
  }
  ASSERT_TRUE(bounced);
  EXPECT_NEAR(peak / drop, 0.49, 0.02) << "rebound height / drop height";
}

INSTANTIATE_TEST_SUITE_P(RulesFastModeAndBullet, Fidelity,
                         ::testing::Values(Mode{100, "analytic"}, Mode{20, "analytic"}, Mode{100, "bullet"},
                                           Mode{20, "bullet"}),
                         [](const ::testing::TestParamInfo<Mode>& p) {
                           return std::string(p.param.collision) + "_microticks" + std::to_string(p.param.microticks);
                         });

TEST(CodeballBullet, ArenaMeshIsWithin0_01OfTheRulesSurface) {
  const BulletArena& arena = BulletArena::shared();
  ASSERT_GT(arena.num_triangles(), 10000u);
  double worst = 0;
  for (size_t k = 0; k < arena.num_triangles(); ++k) {
    const auto t = arena.triangle(k);
    for (const Vec3& p :
         {(t[0] + t[1] + t[2]) * (1.0 / 3), (t[0] + t[1]) * 0.5, (t[1] + t[2]) * 0.5, (t[0] + t[2]) * 0.5, t[0]})
      worst = std::max(worst, std::abs(dan_to_arena(p).distance));
  }
  EXPECT_LT(worst, 0.01) << "largest distance of a mesh point from the rules' surface";
  RecordProperty("triangles", std::to_string(arena.num_triangles()));
  RecordProperty("worst_distance", std::to_string(worst));
}

TEST(CodeballBullet, ContactsAgreeWithTheRulesDistanceFunction) {
  const BulletArena& arena = BulletArena::shared();
  Rng rng(5);
  int checked = 0;
  for (int n = 0; n < 20000; ++n) {
    const Vec3 p{rng.uniform(-31, 31), rng.uniform(-1, 21), rng.uniform(-51, 51)};
    const ArenaContact exact = dan_to_arena(p);
    if (exact.distance < 0.05 || exact.distance > 1.9) continue;  // bodies' centres: inside, within 2
    ArenaContact c;
    ASSERT_TRUE(arena.contact(p, 2.0, c)) << "no mesh contact within 2 at distance " << exact.distance;
    EXPECT_NEAR(c.distance, exact.distance, 0.01) << "at (" << p.x << ", " << p.y << ", " << p.z << ")";
    ++checked;
  }
  EXPECT_GT(checked, 200);
}

// Both backends play the same scripted 2v2 kickoff for 1.5 s (every robot runs at the ball
// and jumps near it); contacts differ only by the mesh error (< 0.01), so the bodies stay
// together. Returns whether both drew the same random numbers.
bool analytic_and_bullet_stay_together(bool deterministic) {
  CodeballOptions a, b;
  a.deterministic = b.deterministic = deterministic;
  b.collision = "bullet";
  Harness ha(a), hb(b);
  ha.reset(4);
  hb.reset(4);
  for (int t = 0; t < 90; ++t) {
    for (int i = 0; i < 4; ++i) {
      const Vec3 to_ball = ha.s().ball.position - ha.s().robots[static_cast<size_t>(i)].position;
      ha.act[static_cast<size_t>(i)].target_velocity = to_ball.normalized() * 30.0;
      ha.act[static_cast<size_t>(i)].jump_speed = to_ball.length() < 3.3 ? 15 : 0;
    }
    hb.act = ha.act;
    ha.step();
    hb.step();
  }
  EXPECT_LT((ha.s().ball.position - hb.s().ball.position).length(), 0.5) << "ball after 1.5 s";
  for (int i = 0; i < 4; ++i)
    EXPECT_LT(
        (ha.s().robots[static_cast<size_t>(i)].position - hb.s().robots[static_cast<size_t>(i)].position).length(), 0.5)
        << "robot " << i << " after 1.5 s";
  return ha.s().rng == hb.s().rng;
}

TEST(CodeballBullet, SameMatchAsTheRulesForAWhile) { analytic_and_bullet_stay_together(true); }

// Bullet's candidate pairs are put in the shuffled order too: in the default (random)
// mode both backends draw the same hit restitutions for the same contacts.
TEST(CodeballBullet, TheShuffledOrderIsTheSameWithBulletsPairs) {
  EXPECT_TRUE(analytic_and_bullet_stay_together(false)) << "the backends drew different numbers of hits";
}

TEST(Codeball, BallRollingIntoTheGoalScoresWhenItsCentrePasses42) {
  Harness h(one_v_one(100));
  GameState s = quiet_state(h, {20, 1, -30}, {3, 2, 30});
  s.ball.velocity = {0, 0, 20};
  h.env.set_state(s);
  double z_before = s.ball.position.z;
  for (int t = 0; t < 120; ++t) {
    h.step();
    if (h.s().score[0] == 1) {
      EXPECT_GT(h.s().ball.position.z, GOAL_LINE_Z);
      EXPECT_LE(z_before, GOAL_LINE_Z + 20.0 / 60) << "scored before the centre could reach 42";
      EXPECT_EQ(h.rew[0], 1.0f);
      EXPECT_EQ(h.rew[1], -1.0f);
      return;
    }
    EXPECT_LE(h.s().ball.position.z, GOAL_LINE_Z + 1e-9) << "ball past 42 without a goal";
    z_before = h.s().ball.position.z;
  }
  FAIL() << "the ball never scored";
}

void expect_bounces_out(Vec3 ball, Vec3 velocity, const char* what) {
  Harness h(one_v_one(100));
  GameState s = quiet_state(h, {20, 1, -30}, ball);
  s.ball.velocity = velocity;
  h.env.set_state(s);
  bool reversed = false;
  for (int t = 0; t < 180; ++t) {
    h.step();
    reversed = reversed || h.s().ball.velocity.z < 0;
  }
  EXPECT_EQ(h.s().score[0], 0) << what << " scored";
  EXPECT_TRUE(reversed) << what << " did not bounce back";
  EXPECT_LT(h.s().ball.position.z, 40.0) << what << " ended inside the goal";
}

TEST(Codeball, BallHittingThePostOrCrossbarBouncesOut) {
  expect_bounces_out({16.2, 2, 30}, {0, 0, 25}, "ball rolled at the post");
  expect_bounces_out({0, 11.5, 30}, {0, 0, 40}, "ball flying at the crossbar");
}

TEST(Codeball, NitroSpendsOnePointPer0_6SpeedAndAPackRefillsIt) {
  Harness h(one_v_one(100));
  quiet_state(h, {0, 10, -20}, {-20, 2, 20});  // robot in the air: nitro acts alone
  const double nitro0 = h.s().robots[0].nitro;
  const Vec3 v0 = h.s().robots[0].velocity;
  h.act[0].target_velocity = {0, 0, 30};
  h.act[0].use_nitro = true;
  h.step();
  // One tick of nitro changes the velocity by 30 / 60 = 0.5 units/s (toward the target,
  // partly against gravity); that costs 0.5 / 0.6 points.
  EXPECT_NEAR(nitro0 - h.s().robots[0].nitro, 0.5 / NITRO_POINT_VELOCITY_CHANGE, 1e-9);
  const double gained_z = h.s().robots[0].velocity.z - v0.z;
  EXPECT_GT(gained_z, 0.45);
  EXPECT_LE(gained_z, 0.5 + 1e-12);

  GameState s = quiet_state(h, {NITRO_PACK_X, 1, NITRO_PACK_Z}, {-20, 2, 20});
  s.robots[0].nitro = 10;
  h.env.set_state(s);
  h.act[0] = RobotAction{};
  h.step();
  EXPECT_EQ(h.s().robots[0].nitro, MAX_NITRO_AMOUNT) << "pack did not refill";
  const auto& pack = h.s().packs[3];
  EXPECT_EQ(pack.position.x, NITRO_PACK_X);
  EXPECT_EQ(pack.respawn_ticks, NITRO_PACK_RESPAWN_TICKS - 1);
  GameState moved = h.s();
  moved.robots[0].position = {0, 1, 0};
  h.env.set_state(moved);
  for (int t = 0; t < NITRO_PACK_RESPAWN_TICKS - 1; ++t) h.step();
  EXPECT_EQ(h.s().packs[3].respawn_ticks, 0) << "pack respawns after 600 ticks";
}

// Two robots short of nitro reach the same pack in the same microtick: the rules give it
// to the first in their shuffled order. Returns how often robot 0 (of team 0) takes it.
int pack_taken_by_robot0(bool deterministic, int tries) {
  CodeballOptions o = one_v_one(100);
  o.deterministic = deterministic;
  Harness h(o);
  int robot0 = 0;
  for (int seed = 1; seed <= tries; ++seed) {
    GameState s = quiet_state(h, {NITRO_PACK_X - 1.2, 1, NITRO_PACK_Z}, {-20, 2, 20});
    Harness fresh(o);
    fresh.reset(static_cast<uint64_t>(seed));
    s.rng = fresh.s().rng;  // the same position under a different random stream
    s.robots[1].position = {NITRO_PACK_X + 1.2, 1, NITRO_PACK_Z};
    s.robots[1].velocity = {};
    s.robots[1].touch = 1;
    s.robots[0].nitro = s.robots[1].nitro = 10;
    h.env.set_state(s);
    h.act.assign(2, RobotAction{});
    h.step();
    const bool took0 = h.s().robots[0].nitro == MAX_NITRO_AMOUNT, took1 = h.s().robots[1].nitro == MAX_NITRO_AMOUNT;
    EXPECT_NE(took0, took1) << "exactly one robot takes the pack (seed " << seed << ")";
    robot0 += took0 ? 1 : 0;
  }
  return robot0;
}

TEST(Codeball, APackReachedByTwoRobotsAtOnceGoesToTheFirstInTheShuffledOrder) {
  EXPECT_EQ(pack_taken_by_robot0(true, 50), 50) << "id order: robot 0 is always first";
  const int robot0 = pack_taken_by_robot0(false, 200);
  EXPECT_GT(robot0, 70) << "shuffled: either robot, about half each";
  EXPECT_LT(robot0, 130) << "shuffled: either robot, about half each";
}

// The simulation answers contacts in the middle of the field with the ground alone
// (sim.hpp, in_middle): that is exact only if every other surface is at least
// kMiddleClearance away there. Over a grid of the region and its edges, the rules' full
// distance function gives the ground's answer bit for bit wherever something is nearer
// than kMiddleClearance, and nothing nearer than that where the ground is not.
TEST(Codeball, TheMiddleOfTheFieldTouchesOnlyTheGround) {
  auto edge = [](double v) { return std::nextafter(v, 0.0); };  // just inside the region
  std::vector<double> xs, zs, ys;
  for (double x = -kMiddleHalfWidth + 0.125; x < kMiddleHalfWidth; x += 0.25) xs.push_back(x);
  for (double z = -kMiddleHalfDepth + 0.125; z < kMiddleHalfDepth; z += 0.25) zs.push_back(z);
  for (double y = -0.5; y < kMiddleTop; y += 0.25) ys.push_back(y);
  for (double v : {kMiddleHalfWidth, -kMiddleHalfWidth}) xs.push_back(edge(v));
  for (double v : {kMiddleHalfDepth, -kMiddleHalfDepth}) zs.push_back(edge(v));
  ys.push_back(edge(kMiddleTop));
  xs.push_back(-0.0);
  zs.push_back(-0.0);
  int64_t checked = 0, ground = 0;
  for (double x : xs)
    for (double z : zs)
      for (double y : ys) {
        const Vec3 p{x, y, z};
        ASSERT_TRUE(in_middle(p));
        const ArenaContact c = dan_to_arena(p);
        ++checked;
        if (y < kMiddleClearance) {
          ++ground;
          ASSERT_EQ(c.distance, y) << x << ' ' << y << ' ' << z;
          ASSERT_EQ(c.normal.y, 1.0);
          ASSERT_EQ(c.normal.x, 0.0);
          ASSERT_EQ(c.normal.z, 0.0);
          ASSERT_EQ(std::signbit(c.normal.x), x < 0) << "mirrored zero of the normal, x " << x;
          ASSERT_EQ(std::signbit(c.normal.z), z < 0) << "mirrored zero of the normal, z " << z;
        } else {
          ASSERT_GE(c.distance, kMiddleClearance) << x << ' ' << y << ' ' << z;
        }
      }
  EXPECT_GT(ground, 500000);
  // Just outside the region the vertical corner is nearer than the clearance: the box is tight.
  const Vec3 corner{kMiddleHalfWidth + 1, kMiddleClearance + 0.5, kMiddleHalfDepth + 1};
  EXPECT_FALSE(in_middle(corner));
  EXPECT_LT(dan_to_arena(corner).distance, kMiddleClearance);
  RecordProperty("points", std::to_string(checked));
}

TEST(Codeball, RandomActionsKeepEveryBodyInsideTheArena) {
  CodeballOptions o;
  o.team_size = 3;
  o.max_ticks = 20000;
  Harness h(o);
  h.reset(7);
  Rng rng(11);
  const int n = h.env.spec().num_agents;
  std::vector<float> actions(static_cast<size_t>(n * 5));
  uint64_t episode = 7;
  double worst = 1e9;
  for (int t = 0; t < 100000; ++t) {
    // Hold each random action for 10 ticks, so robots actually get somewhere.
    if (t % 10 == 0)
      for (int i = 0; i < n; ++i) {
        float* a = actions.data() + i * 5;
        for (int k = 0; k < 3; ++k) a[k] = static_cast<float>(rng.uniform(-30, 30));
        a[3] = rng.uniform() < 0.2 ? 15.0f : 0.0f;
        a[4] = rng.uniform() < 0.3 ? 1.0f : 0.0f;
      }
    h.env.step(actions.data(), h.view());
    const GameState& s = h.s();
    auto check = [&](const Vec3& p, const Vec3& v, double r, const char* what) {
      ASSERT_TRUE(std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z) && std::isfinite(v.x) &&
                  std::isfinite(v.y) && std::isfinite(v.z))
          << what << " not finite at tick " << s.tick;
      const double clearance = dan_to_arena(p).distance - r;
      worst = std::min(worst, clearance);
      // Within a tick a body may sink into the surface by at most one microtick's travel.
      ASSERT_GT(clearance, -0.05) << what << " left the arena at tick " << s.tick;
    };
    for (int i = 0; i < n; ++i)
      check(s.robots[static_cast<size_t>(i)].position, s.robots[static_cast<size_t>(i)].velocity,
            s.robots[static_cast<size_t>(i)].radius, "robot");
    check(s.ball.position, s.ball.velocity, s.ball.radius, "ball");
    if (h.trunc) h.reset(++episode);
  }
  RecordProperty("worst_clearance", std::to_string(worst));
}

TEST(Codeball, KickoffIsMirroredAndFairAsInTheOfficialLogs) {
  CodeballOptions o;
  o.team_size = 2;
  Harness h(o);
  h.reset(5);
  const GameState& s = h.s();
  EXPECT_GE(s.ball.position.y, KICKOFF_BALL_MIN_Y);
  EXPECT_LE(s.ball.position.y, KICKOFF_BALL_MAX_Y);
  for (int k = 0; k < 2; ++k) {
    const Robot& a = s.robots[static_cast<size_t>(k)];
    const Robot& b = s.robots[static_cast<size_t>(2 + k)];
    EXPECT_NEAR(std::hypot(a.position.x, a.position.z), KICKOFF_DISTANCE, 1e-9);
    EXPECT_LT(a.position.z, 0) << "team 0 starts on its own half";
    EXPECT_EQ(b.position.x, -a.position.x);
    EXPECT_EQ(b.position.z, -a.position.z);
  }
  // The two robots of a team are 60 degrees apart on the arc (the logs show the same).
  const double a0 = std::atan2(s.robots[0].position.x, -s.robots[0].position.z);
  const double a1 = std::atan2(s.robots[1].position.x, -s.robots[1].position.z);
  EXPECT_NEAR(std::abs(a0 - a1) * 180 / 3.141592653589793, 60.0, 1e-9);
  // Both teams see the same thing at kickoff.
  const auto d = static_cast<size_t>(h.env.spec().obs_dim());
  for (size_t k = 0; k < d - 4; ++k) EXPECT_NEAR(h.obs[k], h.obs[2 * d + k], 1e-6) << "component " << k;
}

TEST(Codeball, GoalPausesThenKicksOffAgain) {
  Harness h(one_v_one(20));
  GameState s = quiet_state(h, {20, 1, -30}, {0, 2, 41.8});
  s.ball.velocity = {0, 0, 30};
  h.env.set_state(s);
  h.step();
  ASSERT_EQ(h.s().score[0], 1);
  EXPECT_EQ(h.s().reset_ticks, RESET_TICKS);
  for (int t = 0; t < RESET_TICKS - 1; ++t) h.step();
  EXPECT_EQ(h.s().score[0], 1) << "no second goal during the pause";
  h.step();
  EXPECT_EQ(h.s().reset_ticks, 0);
  EXPECT_EQ(h.s().ball.position.x, 0);
  EXPECT_EQ(h.s().ball.position.z, 0);
  EXPECT_EQ(h.s().ball.velocity, Vec3{});
}

// --- the official runner's logs ---------------------------------------------------

struct LogTick {
  int64_t tick = -1;
  bool paused = false;
  Vec3 ball_p, ball_v;
  std::vector<Vec3> robots;
};

// Reads the number after `key` at or after `from`; sets `at` past it.
double number_after(const std::string& line, const std::string& key, size_t& at) {
  at = line.find(key, at);
  if (at == std::string::npos) throw std::runtime_error("missing " + key);
  at += key.size();
  size_t used = 0;
  const double v = std::stod(line.substr(at, 40), &used);
  at += used;
  return v;
}

Vec3 vec_after(const std::string& line, const std::string& key, size_t& at) {
  at = line.find(key, at);
  if (at == std::string::npos) throw std::runtime_error("missing " + key);
  Vec3 v;
  v.x = number_after(line, "\"x\":", at);
  v.y = number_after(line, "\"y\":", at);
  v.z = number_after(line, "\"z\":", at);
  return v;
}

LogTick parse_tick(const std::string& line) {
  LogTick t;
  size_t at = 0;
  t.tick = static_cast<int64_t>(number_after(line, "\"current_tick\":", at));
  const size_t robots_end = line.find("\"nitro_packs\"");
  size_t r = line.find("\"robots\":");
  while (true) {
    r = line.find("\"position\":", r);
    if (r == std::string::npos || r > robots_end) break;
    t.robots.push_back(vec_after(line, "\"position\":", r));
  }
  size_t b = line.find("\"ball\":");
  t.ball_p = vec_after(line, "\"position\":", b);
  t.ball_v = vec_after(line, "\"velocity\":", b);
  t.paused = line.find("\"reset_ticks\":null") == std::string::npos;
  return t;
}

std::vector<LogTick> read_log(const std::string& path) {
  std::vector<LogTick> ticks;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return ticks;
  std::vector<char> buf(1 << 20);
  std::string line;
  bool first = true;
  while (gzgets(f, buf.data(), static_cast<int>(buf.size())) != nullptr) {
    line += buf.data();
    if (line.empty() || line.back() != '\n') continue;
    if (!first) ticks.push_back(parse_tick(line));
    first = false;
    line.clear();
  }
  gzclose(f);
  return ticks;
}

TEST(Codeball, FreeBallMatchesTheOfficialRunnerLogs) {
  // The logs are in the tree (tests/data/codeball); CTest points LUDUS_TEST_DATA there.
  const char* data = std::getenv("LUDUS_TEST_DATA");
  ASSERT_NE(data, nullptr) << "LUDUS_TEST_DATA not set (CTest sets it to tests/data)";
  int compared = 0, files = 0;
  double worst = 0;
  for (int g = 0; g < 4; ++g) {
    const auto ticks =
        read_log(std::string(data) + "/codeball/official_runner_game_" + std::to_string(g) + ".jsonl.gz");
    if (ticks.empty()) continue;
    ++files;
    for (size_t i = 0; i + 1 < ticks.size(); ++i) {
      const LogTick& a = ticks[i];
      const LogTick& b = ticks[i + 1];
      if (b.tick != a.tick + 1 || a.paused || b.paused) continue;
      // "No robot near the ball": every robot more than 2 units from touching it at both
      // ends of the tick (a robot on the ground covers at most 0.5 per tick).
      bool near = false;
      for (const auto* t : {&a, &b})
        for (const Vec3& r : t->robots) near = near || (r - t->ball_p).length() < BALL_RADIUS + ROBOT_MAX_RADIUS + 2.0;
      if (near) continue;
      Ball ball;
      ball.position = a.ball_p;
      ball.velocity = a.ball_v;
      simulate_ball_tick(ball, MICROTICKS_PER_TICK);
      const double err = std::max((ball.position - b.ball_p).length(), (ball.velocity - b.ball_v).length());
      worst = std::max(worst, err);
      ASSERT_LT(err, 1e-6) << "game " << g << " tick " << a.tick << ": predicted (" << ball.position.x << ", "
                           << ball.position.y << ", " << ball.position.z << "), logged (" << b.ball_p.x << ", "
                           << b.ball_p.y << ", " << b.ball_p.z << ")";
      ++compared;
    }
  }
  ASSERT_EQ(files, 4) << "official runner logs missing under " << data << "/codeball";
  EXPECT_GE(compared, 1300) << "free-ball ticks compared";
  RecordProperty("compared_ticks", compared);
  RecordProperty("worst_error", std::to_string(worst));
}

TEST(Codeball, DiscreteForwardMeansTowardTheOpponentGoalForBothTeams) {
  CodeballOptions o;
  o.team_size = 1;
  o.action_mode = "discrete";
  CodeballEnv env(o);
  EXPECT_EQ(env.spec().action_space.nvec[0], 50);
  const float sprint_forward = 9, right_walk_jump = 19;
  RobotAction a0 = env.decode_action(0, &sprint_forward), a1 = env.decode_action(1, &sprint_forward);
  EXPECT_NEAR(a0.target_velocity.z, 30, 1e-9);
  EXPECT_NEAR(a1.target_velocity.z, -30, 1e-9);
  const RobotAction r = env.decode_action(0, &right_walk_jump);
  EXPECT_NEAR(r.target_velocity.x, 15, 1e-9);
  EXPECT_EQ(r.jump_speed, ROBOT_MAX_JUMP_SPEED);
  o.nitro = false;
  EXPECT_EQ(CodeballEnv(o).spec().action_space.nvec[0], 33);
}

// Plays a crowded scramble from the same position with two RNG states; returns how far
// apart the two outcomes' bodies end up (summed over ball and robots).
double scramble_divergence(bool deterministic) {
  CodeballOptions o;
  o.deterministic = deterministic;
  Harness a(o), b(o);
  a.reset(1);
  b.reset(2);
  GameState s = a.s();
  for (int i = 0; i < 4; ++i) s.robots[static_cast<size_t>(i)].position = {1.5 * i - 2, 1, 3.0 - 2.0 * (i % 2)};
  a.env.set_state(s);
  s.rng = b.s().rng;
  b.env.set_state(s);
  for (int t = 0; t < 60; ++t) {
    for (auto* h : {&a, &b})
      for (int i = 0; i < 4; ++i) h->act[static_cast<size_t>(i)].target_velocity = {0, 0, i < 2 ? 30.0 : -30.0};
    a.step();
    b.step();
  }
  double d = (a.s().ball.position - b.s().ball.position).length();
  for (size_t i = 0; i < 4; ++i) d += (a.s().robots[i].position - b.s().robots[i].position).length();
  return d;
}

TEST(Codeball, DeterministicModeDrawsNoRandomness) {
  EXPECT_EQ(scramble_divergence(true), 0.0) << "hits at 0.5 and id order: the RNG must not matter";
  EXPECT_GT(scramble_divergence(false), 0.0) << "random hits and order: the scramble must depend on the RNG";
}

TEST(Codeball, DamagedSnapshotsAreRefusedWithAReason) {
  Harness h(CodeballOptions{});
  h.reset(3);
  std::vector<uint8_t> snap;
  h.env.save_state(snap);
  // Same length, wrong contents: a robot's team and a NaN position.
  GameState bad = h.s();
  bad.robots[0].team = 7;
  Harness other(CodeballOptions{});
  other.reset(1);
  other.env.set_state(bad);
  std::vector<uint8_t> bad_team;
  other.env.save_state(bad_team);
  EXPECT_THROW(h.env.load_state(bad_team), FormatError);
  bad = h.s();
  bad.ball.position.x = std::nan("");
  other.env.set_state(bad);
  std::vector<uint8_t> bad_ball;
  other.env.save_state(bad_ball);
  EXPECT_THROW(h.env.load_state(bad_ball), FormatError);
  CodeballOptions three;
  three.team_size = 3;
  Harness h3(three);
  EXPECT_THROW(h3.env.load_state(snap), FormatError) << "a 2v2 snapshot in a 3v3 game";
  h.env.load_state(snap);
  EXPECT_EQ(h.s().tick, 0);
}

// Mirrors a state across the centre (x -> -x, z -> -z) and swaps the teams' robots, so
// that team 1's view of the result is team 0's view of the original.
GameState mirrored(const GameState& s, int team_size) {
  GameState m = s;
  auto flip = [](Vec3 v) { return Vec3{-v.x, v.y, -v.z}; };
  for (int i = 0; i < 2 * team_size; ++i) {
    const int j = i < team_size ? i + team_size : i - team_size;
    Robot r = s.robots[static_cast<size_t>(j)];
    r.team = i < team_size ? 0 : 1;
    r.position = flip(r.position);
    r.velocity = flip(r.velocity);
    r.touch_normal = flip(r.touch_normal);
    m.robots[static_cast<size_t>(i)] = r;
  }
  m.ball.position = flip(s.ball.position);
  m.ball.velocity = flip(s.ball.velocity);
  for (size_t k = 0; k < m.packs.size(); ++k) m.packs[k] = s.packs[m.packs.size() - 1 - k];
  m.score = {s.score[1], s.score[0]};
  return m;
}

TEST(Codeball, AMirroredStateGivesTheMirroredObservation) {
  for (int ts : {1, 2, 3}) {
    CodeballOptions o;
    o.team_size = ts;
    Harness a(o), b(o);
    a.reset(5);
    b.reset(5);
    // An asymmetric state: robots, ball, a used pack and a score off their kickoff spots.
    GameState s = a.s();
    Rng rng(11);
    for (int i = 0; i < 2 * ts; ++i) {
      auto& r = s.robots[static_cast<size_t>(i)];
      r.position = {rng.uniform(-25, 25), 1, rng.uniform(-35, 35)};
      r.velocity = {rng.uniform(-20, 20), rng.uniform(-5, 5), rng.uniform(-20, 20)};
      r.nitro = rng.uniform(0, 100);
    }
    s.ball.position = {rng.uniform(-20, 20), rng.uniform(2, 10), rng.uniform(-30, 30)};
    s.ball.velocity = {rng.uniform(-20, 20), rng.uniform(-5, 5), rng.uniform(-20, 20)};
    s.packs[0].respawn_ticks = 100;
    s.score = {2, 1};
    s.tick = 500;
    a.env.set_state(s);
    b.env.set_state(mirrored(s, ts));
    a.env.observe(a.obs.data());
    b.env.observe(b.obs.data());
    const auto dim = static_cast<size_t>(a.env.spec().obs_dim());
    for (int i = 0; i < 2 * ts; ++i) {
      const int j = i < ts ? i + ts : i - ts;
      for (size_t k = 0; k < dim; ++k)
        ASSERT_NEAR(a.obs[static_cast<size_t>(i) * dim + k], b.obs[static_cast<size_t>(j) * dim + k], 1e-5)
            << ts << "v" << ts << ": agent " << i << " vs its mirror " << j << ", entry " << k;
    }
  }
}

// observe_teammates / observe_opponents: fewer slots keep the robots nearest to the ball,
// more slots add zeros; everything else in the row is the default layout's.
TEST(Codeball, ObservationSlotsKeepTheNearestRobotsOrPadWithZeros) {
  CodeballOptions full;
  full.team_size = 3;
  CodeballOptions few = full;
  few.observe_teammates = 1;
  few.observe_opponents = 1;
  Harness a(full), b(few);
  a.reset(9);
  b.reset(9);
  GameState s = a.s();
  Rng rng(3);
  for (int i = 0; i < 6; ++i)
    s.robots[static_cast<size_t>(i)].position = {rng.uniform(-25, 25), 1, rng.uniform(-35, 35)};
  s.ball.position = {0, 3, 0};
  // Robot 2 (team 0) and robot 5 (team 1) are the nearest of their teams to the ball.
  s.robots[2].position = {1, 1, -2};
  s.robots[5].position = {-1, 1, 3};
  a.env.set_state(s);
  b.env.set_state(s);
  a.env.observe(a.obs.data());
  b.env.observe(b.obs.data());
  const auto da = static_cast<size_t>(a.env.spec().obs_dim()), db = static_cast<size_t>(b.env.spec().obs_dim());
  ASSERT_EQ(da, 33u + 8 * 5);
  ASSERT_EQ(db, 33u + 8 * 2);
  // Agent 0: teammates 1, 2 (id order) and opponents nearest first in the full row.
  const float* fa = a.obs.data();
  const float* fb = b.obs.data();
  for (size_t k = 0; k < 21; ++k) EXPECT_EQ(fb[k], fa[k]) << "self and ball, entry " << k;
  for (size_t k = 0; k < 8; ++k) EXPECT_EQ(fb[21 + k], fa[21 + 8 + k]) << "the nearer teammate (robot 2), entry " << k;
  for (size_t k = 0; k < 8; ++k) EXPECT_EQ(fb[29 + k], fa[37 + k]) << "the nearest opponent (robot 5), entry " << k;
  for (size_t k = 0; k < 12; ++k) EXPECT_EQ(fb[37 + k], fa[61 + k]) << "packs, score, time, entry " << k;
  EXPECT_NEAR(fb[29], -1.0f / 30, 1e-6) << "robot 5's x, in team 0's frame";

  // Padding: a 1v1 game observed with a 2v2 layout has one zero teammate slot and one zero
  // opponent slot after the real opponent.
  CodeballOptions pad = one_v_one(100);
  pad.observe_teammates = 1;
  pad.observe_opponents = 2;
  Harness c(one_v_one(100)), d(pad);
  c.reset(4);
  d.reset(4);
  const auto dc = static_cast<size_t>(c.env.spec().obs_dim()), dd = static_cast<size_t>(d.env.spec().obs_dim());
  ASSERT_EQ(dd, dc + 16);
  for (int i = 0; i < 2; ++i) {
    const float* rc = c.obs.data() + i * dc;
    const float* rd = d.obs.data() + i * dd;
    for (size_t k = 0; k < 21; ++k) EXPECT_EQ(rd[k], rc[k]);
    for (size_t k = 0; k < 8; ++k) EXPECT_EQ(rd[21 + k], 0.0f) << "zero teammate slot";
    for (size_t k = 0; k < 8; ++k) EXPECT_EQ(rd[29 + k], rc[21 + k]) << "the opponent";
    for (size_t k = 0; k < 8; ++k) EXPECT_EQ(rd[37 + k], 0.0f) << "zero opponent slot";
    for (size_t k = 0; k < 12; ++k) EXPECT_EQ(rd[45 + k], rc[29 + k]);
  }
}

TEST(Codeball, DecisionTicksHoldTheActionBetweenDecisionsAndSurviveASnapshot) {
  CodeballOptions o = one_v_one(20);
  o.action_mode = "discrete";
  o.decision_ticks = 4;
  Harness h(o);
  EXPECT_EQ(h.env.spec().decision_interval, 4);
  h.reset(1);
  const float forward[2] = {9, 9}, back[2] = {13, 13};
  h.env.step(forward, h.view());  // tick 0: a decision, sprint forward
  std::vector<uint8_t> snap;
  h.env.save_state(snap);
  for (int t = 1; t < 4; ++t) h.env.step(back, h.view());  // ignored: held forward
  EXPECT_NEAR(h.s().robots[0].velocity.z, 100.0 * 4 / 60, 1e-6)
      << "4 ticks of forward acceleration: held through ticks 1..3";
  const Vec3 held_pos = h.s().robots[0].position;
  h.env.step(back, h.view());  // tick 4: a decision
  for (int t = 0; t < 30; ++t) h.env.step(back, h.view());
  EXPECT_LT(h.s().robots[0].velocity.z, -10) << "the decision at tick 4 turned it around";
  // The snapshot after tick 0 holds the forward action: a restored game continues alike.
  Harness g(o);
  g.reset(1);
  g.env.load_state(snap);
  for (int t = 1; t < 4; ++t) g.env.step(back, g.view());
  EXPECT_EQ(g.s().robots[0].position, held_pos);
  CodeballOptions other = o;
  other.decision_ticks = 2;
  Harness wrong(other);
  EXPECT_THROW(wrong.env.load_state(snap), FormatError) << "a snapshot with another decision interval";
}

TEST(Codeball, EndOnGoalTerminatesAtTheFirstGoalWithTheGoalReward) {
  CodeballOptions o = one_v_one(20);
  o.end_on_goal = true;
  o.goal_reward = 3;
  Harness h(o);
  h.reset(1);
  GameState s = h.s();
  s.ball.position = {0, 2, 41.5};
  s.ball.velocity = {0, 0, 20};
  h.env.set_state(s);
  int ticks = 0;
  while (!h.term && !h.trunc && ticks < 60) {
    h.step();
    ++ticks;
  }
  ASSERT_TRUE(h.term) << "the goal ends the episode";
  EXPECT_FALSE(h.trunc);
  EXPECT_FLOAT_EQ(h.rew[0], 3.0f);
  EXPECT_FLOAT_EQ(h.rew[1], -3.0f);
  EXPECT_EQ(h.env.result().winner, 0);
}

// team_spirit t: each robot's shaping is (1 - t) x its own + t x its team's mean; at 1
// teammates share one reward. Goals stay team rewards.
TEST(Codeball, TeamSpiritMixesEachRobotsShapingWithItsTeamsMean) {
  std::vector<float> own;
  for (const double t : {0.0, 0.25, 1.0}) {
    CodeballOptions o;
    o.team_size = 2;
    o.deterministic = true;
    o.player_to_ball_reward = 1;
    o.touch_reward = 0.5;
    o.team_spirit = t;
    Harness h(o);
    h.reset(7);
    for (int tick = 0; tick < 30; ++tick) {
      // Robots 0 and 2 run at +z, robots 1 and 3 at -z: toward and away from the ball.
      for (int i = 0; i < 4; ++i) h.act[static_cast<size_t>(i)].target_velocity = {0, 0, i % 2 ? -30.0 : 30.0};
      h.step();
    }
    if (t == 0) {
      own = h.rew;
      EXPECT_GT(std::abs(own[0] - own[1]), 0.1f) << "teammates' own shaping differs";
      continue;
    }
    for (int i = 0; i < 4; ++i) {
      const int first = i < 2 ? 0 : 2;
      const float team = (own[static_cast<size_t>(first)] + own[static_cast<size_t>(first + 1)]) / 2;
      EXPECT_NEAR(h.rew[static_cast<size_t>(i)], (1 - t) * own[static_cast<size_t>(i)] + t * team, 1e-5)
          << "robot " << i << ", team_spirit " << t;
    }
  }
}

TEST(Codeball, ShapingTermsRewardRunningAtTheBallAndSaves) {
  CodeballOptions o = one_v_one(100);
  o.player_to_ball_reward = 1;
  Harness h(o);
  GameState start = quiet_state(h, {0, 1, -10}, {0, 2, 0});
  start.robots[1].position = {10, 1, 20};
  h.env.set_state(start);
  for (int t = 0; t < 20; ++t) {
    h.act[0].target_velocity = {0, 0, 30};  // at the ball
    h.act[1].target_velocity = {0, 0, 30};  // away from it (robot 1 is past the ball)
    h.step();
  }
  EXPECT_GT(h.rew[0], 0.9f) << "full speed straight at the ball is about +1 per tick";
  EXPECT_LT(h.rew[1], -0.5f);

  // A save: team 0's robot meets a ball rolling at its own goal in its own half.
  CodeballOptions so = one_v_one(100);
  so.save_reward = 5;
  Harness g(so);
  quiet_state(g, {0, 1, -30}, {0, 1, -24});
  GameState s = g.s();
  s.ball.velocity = {0, 0, -20};
  g.env.set_state(s);
  float saved = 0;
  for (int t = 0; t < 30; ++t) {
    g.act[0].target_velocity = {0, 0, 30};
    g.step();
    saved += g.rew[0];
  }
  EXPECT_FLOAT_EQ(saved, 5.0f) << "one save, rewarded once";
}

TEST(Codeball, DrawsA3DFrameWithEveryBody) {
  Harness h(CodeballOptions{});
  h.reset(3);
  Frame f;
  h.env.draw(f);
  EXPECT_EQ(f.dims, 3);
  int robots = 0;
  for (const auto& it : f.items) robots += (it.prim == Prim::sphere && it.team >= 0) ? 1 : 0;
  EXPECT_EQ(robots, 4);
}

}  // namespace
}  // namespace ludus::codeball
