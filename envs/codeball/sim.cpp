// The rules' arena distance function and update step, in the rules' order.
#include "codeball/sim.hpp"

#include <algorithm>
#include <numbers>

#include "codeball/bullet_arena.hpp"

namespace ludus::codeball {

using namespace constants;

namespace {

struct Dan {
  double distance;
  Vec3 normal;
};

inline void min_plane(Dan& d, const Vec3& p, const Vec3& on_plane, const Vec3& n) {
  const double dist = (p - on_plane).dot(n);
  if (dist < d.distance) d = {dist, n};
}

// Concave rounding: inside a sphere, distance to its surface, normal toward the centre.
inline void min_sphere_inner(Dan& d, const Vec3& p, const Vec3& c, double r) {
  const Vec3 to_c = c - p;
  const double len = to_c.length();
  const double dist = r - len;
  if (dist < d.distance) d = {dist, len > 0 ? to_c * (1.0 / len) : Vec3{0, 1, 0}};
}

// Convex rounding (the goal mouth's edges): outside a sphere, normal away from the centre.
inline void min_sphere_outer(Dan& d, const Vec3& p, const Vec3& c, double r) {
  const Vec3 from_c = p - c;
  const double len = from_c.length();
  const double dist = len - r;
  if (dist < d.distance) d = {dist, len > 0 ? from_c * (1.0 / len) : Vec3{0, 1, 0}};
}

// The arena for x >= 0, z >= 0 (the rules' dan_to_arena_quarter).
Dan dan_quarter(const Vec3& p) {
  constexpr double hw = ARENA_WIDTH / 2, hd = ARENA_DEPTH / 2, h = ARENA_HEIGHT;
  constexpr double gw = ARENA_GOAL_WIDTH / 2, gh = ARENA_GOAL_HEIGHT, gd = ARENA_GOAL_DEPTH;
  constexpr double br = ARENA_BOTTOM_RADIUS, tr = ARENA_TOP_RADIUS, cr = ARENA_CORNER_RADIUS;
  constexpr double gtr = ARENA_GOAL_TOP_RADIUS, gsr = ARENA_GOAL_SIDE_RADIUS;
  static_assert(ARENA_BOTTOM_RADIUS == ARENA_GOAL_TOP_RADIUS, "the rules' goal corners assume this");

  Dan d{p.y, {0, 1, 0}};                         // ground
  min_plane(d, p, {0, h, 0}, {0, -1, 0});        // ceiling
  min_plane(d, p, {hw, 0, 0}, {-1, 0, 0});       // side x
  min_plane(d, p, {0, 0, hd + gd}, {0, 0, -1});  // goal back
  {                                              // end wall, outside the goal mouth
    const double vx = p.x - (gw - gtr), vy = p.y - (gh - gtr);
    if (p.x >= gw + gsr || p.y >= gh + gsr || (vx > 0 && vy > 0 && std::sqrt(vx * vx + vy * vy) >= gtr + gsr))
      min_plane(d, p, {0, 0, hd}, {0, 0, -1});
  }
  if (p.z >= hd + gsr) {  // goal sides and ceiling
    min_plane(d, p, {gw, 0, 0}, {-1, 0, 0});
    min_plane(d, p, {0, gh, 0}, {0, -1, 0});
  }
  if (p.z > hd + gd - br)  // goal back corners
    min_sphere_inner(d, p, {std::clamp(p.x, br - gw, gw - br), std::clamp(p.y, br, gh - gtr), hd + gd - br}, br);
  if (p.x > hw - cr && p.z > hd - cr)  // vertical corner
    min_sphere_inner(d, p, {hw - cr, p.y, hd - cr}, cr);
  if (p.z < hd + gsr) {  // goal mouth's outer edges
    if (p.x < gw + gsr) min_sphere_outer(d, p, {gw + gsr, p.y, hd + gsr}, gsr);
    if (p.y < gh + gsr) min_sphere_outer(d, p, {p.x, gh + gsr, hd + gsr}, gsr);
    const double ox = gw - gtr, oy = gh - gtr;
    const double vx = p.x - ox, vy = p.y - oy;
    if (vx > 0 && vy > 0) {
      const double k = (gtr + gsr) / std::sqrt(vx * vx + vy * vy);
      min_sphere_outer(d, p, {ox + vx * k, oy + vy * k, hd + gsr}, gsr);
    }
  }
  if (p.z > hd + gsr && p.y > gh - gtr) {  // goal inside top corners
    if (p.x > gw - gtr) min_sphere_inner(d, p, {gw - gtr, gh - gtr, p.z}, gtr);
    if (p.z > hd + gd - gtr) min_sphere_inner(d, p, {p.x, gh - gtr, hd + gd - gtr}, gtr);
  }
  if (p.y < br) {  // bottom corners
    if (p.x > hw - br) min_sphere_inner(d, p, {hw - br, br, p.z}, br);
    if (p.z > hd - br && p.x >= gw + gsr) min_sphere_inner(d, p, {p.x, br, hd - br}, br);
    if (p.z > hd + gd - br) min_sphere_inner(d, p, {p.x, br, hd + gd - br}, br);
    {
      const double ox = gw + gsr, oz = hd + gsr;
      const double vx = p.x - ox, vz = p.z - oz;
      const double len = std::sqrt(vx * vx + vz * vz);
      if (vx < 0 && vz < 0 && len < gsr + br) {
        const double k = (gsr + br) / len;
        min_sphere_inner(d, p, {ox + vx * k, br, oz + vz * k}, br);
      }
    }
    if (p.z >= hd + gsr && p.x > gw - br) min_sphere_inner(d, p, {gw - br, br, p.z}, br);
    if (p.x > hw - cr && p.z > hd - cr) {
      const double nx = p.x - (hw - cr), nz = p.z - (hd - cr);
      const double len = std::sqrt(nx * nx + nz * nz);
      if (len > cr - br) {
        const double k = (cr - br) / len;
        min_sphere_inner(d, p, {hw - cr + nx * k, br, hd - cr + nz * k}, br);
      }
    }
  }
  if (p.y > h - tr) {  // ceiling corners
    if (p.x > hw - tr) min_sphere_inner(d, p, {hw - tr, h - tr, p.z}, tr);
    if (p.z > hd - tr) min_sphere_inner(d, p, {p.x, h - tr, hd - tr}, tr);
    if (p.x > hw - cr && p.z > hd - cr) {
      const double nx = p.x - (hw - cr), nz = p.z - (hd - cr);
      const double len = std::sqrt(nx * nx + nz * nz);
      if (len > cr - tr) {
        const double k = (cr - tr) / len;
        min_sphere_inner(d, p, {hw - cr + nx * k, h - tr, hd - cr + nz * k}, tr);
      }
    }
  }
  return d;
}

inline void move(Vec3& position, Vec3& velocity, double dt) {
  velocity = velocity.clamped(MAX_ENTITY_SPEED);
  position += velocity * dt;
  position.y -= GRAVITY * dt * dt / 2;
  velocity.y -= GRAVITY * dt;
}

// Pushes apart overlapping bodies a and b and applies the hit impulse (rules, step 3).
// Returns true if they overlapped.
inline bool collide(Vec3& pa, Vec3& va, double ra, double rcs_a, double inv_ma, Vec3& pb, Vec3& vb, double rb,
                    double rcs_b, double inv_mb, double hit_e) {
  const Vec3 delta = pb - pa;
  const double dist2 = delta.length_sq();
  const double rsum = ra + rb;
  if (dist2 >= rsum * rsum) return false;
  const double dist = std::sqrt(dist2);
  const double penetration = rsum - dist;
  const double ka = inv_ma / (inv_ma + inv_mb), kb = inv_mb / (inv_ma + inv_mb);
  const Vec3 normal = dist > 0 ? delta * (1.0 / dist) : Vec3{0, 1, 0};
  pa -= normal * (penetration * ka);
  pb += normal * (penetration * kb);
  const double approach = (vb - va).dot(normal) - rcs_b - rcs_a;
  if (approach < 0) {
    const Vec3 impulse = normal * ((1 + hit_e) * approach);
    va += impulse * ka;
    vb -= impulse * kb;
  }
  return true;
}

// The rules' distance function (the default collision backend).
struct AnalyticArena {
  bool contact(const Vec3& p, double radius, ArenaContact& out) const {
    if (radius <= kMiddleClearance && in_middle(p)) {
      // The ground, as dan_to_arena gives it (its normal's zeros keep their mirrored signs).
      out = {p.y, {p.x < 0 ? -0.0 : 0.0, 1, p.z < 0 ? -0.0 : 0.0}};
      return true;
    }
    out = dan_to_arena(p);
    return true;
  }
};

// Pushes a body out of the arena and reflects it; returns true (and the normal) if the
// body touched the arena.
template <class Arena>
inline bool collide_arena(const Arena& arena, Vec3& p, Vec3& v, double radius, double rcs, double arena_e,
                          Vec3& normal_out) {
  ArenaContact c;
  if (!arena.contact(p, radius, c)) return false;
  const double penetration = radius - c.distance;
  if (penetration <= 0) return false;
  p += c.normal * penetration;
  const double into = v.dot(c.normal) - rcs;
  if (into < 0) {
    v -= c.normal * ((1 + arena_e) * into);
    normal_out = c.normal;
    return true;
  }
  return false;
}

}  // namespace

ArenaContact dan_to_arena(Vec3 p) {
  const bool neg_x = p.x < 0, neg_z = p.z < 0;
  if (neg_x) p.x = -p.x;
  if (neg_z) p.z = -p.z;
  Dan d = dan_quarter(p);
  if (neg_x) d.normal.x = -d.normal.x;
  if (neg_z) d.normal.z = -d.normal.z;
  return {d.distance, d.normal};
}

void simulate_ball_tick(Ball& ball, int microticks) {
  const double dt = 1.0 / (TICKS_PER_SECOND * microticks);
  Vec3 n;
  for (int m = 0; m < microticks; ++m) {
    move(ball.position, ball.velocity, dt);
    collide_arena(AnalyticArena{}, ball.position, ball.velocity, ball.radius, 0, BALL_ARENA_E, n);
  }
}

namespace {

// Margin on the broadphase bounds: bodies move and are pushed during a microtick after
// the candidate pairs are found; 0.5 units is far more than either in one microtick.
constexpr double kPairMargin = 0.5;

template <class Arena>
TickEvents tick_impl(GameState& s, const RobotAction* actions, const SimOptions& opt, Rng& rng, const Arena& arena,
                     BulletBodies* bodies) {
  TickEvents ev;
  const double dt = 1.0 / (TICKS_PER_SECOND * opt.microticks);
  const int n = s.num_robots;
  std::array<int, MAX_ROBOTS> order{};
  for (int i = 0; i < n; ++i) {
    order[static_cast<size_t>(i)] = i;
    s.robots[static_cast<size_t>(i)].touched_ball = 0;
  }
  constexpr double inv_robot = 1.0 / ROBOT_MASS, inv_ball = 1.0 / BALL_MASS;
  for (int micro = 0; micro < opt.microticks; ++micro) {
    // The rules shuffle the robots every microtick (one draw here) and walk them in that
    // order. Step 1 moves each robot from its own state and action alone, so its order
    // cannot be seen and it runs in id order: a shuffled walk costs more than a quarter of
    // the tick in mispredicted branches. The order decides the sequence of robot pairs and
    // of robots hitting the ball (step 3) and who takes a nitro pack first (step 6).
    if (!opt.deterministic) rng.shuffle_short(order.data(), n);
    // 1. Robots: drive, nitro, move, jump radius.
    for (int i = 0; i < n; ++i) {
      Robot& r = s.robots[static_cast<size_t>(i)];
      const RobotAction& a = actions[i];
      if (r.touch) {
        Vec3 target = a.target_velocity.clamped(ROBOT_MAX_GROUND_SPEED);
        target -= r.touch_normal * r.touch_normal.dot(target);
        const Vec3 change = target - r.velocity;
        const double len = change.length();
        if (len > 0) {
          const double accel = ROBOT_ACCELERATION * std::max(0.0, r.touch_normal.y);
          r.velocity += (change * (1.0 / len) * (accel * dt)).clamped(len);
        }
      }
      if (a.use_nitro && opt.nitro) {
        const Vec3 change = (a.target_velocity - r.velocity).clamped(r.nitro * NITRO_POINT_VELOCITY_CHANGE);
        const double len = change.length();
        if (len > 0) {
          const Vec3 dv = (change * (ROBOT_NITRO_ACCELERATION * dt / len)).clamped(len);
          r.velocity += dv;
          r.nitro = std::max(0.0, r.nitro - dv.length() / NITRO_POINT_VELOCITY_CHANGE);
        }
      }
      move(r.position, r.velocity, dt);
      r.radius = ROBOT_MIN_RADIUS + (ROBOT_MAX_RADIUS - ROBOT_MIN_RADIUS) * a.jump_speed / ROBOT_MAX_JUMP_SPEED;
      r.radius_change_speed = a.jump_speed;
    }
    // 2. The ball.
    move(s.ball.position, s.ball.velocity, dt);
    // 3. Robot pairs, then robots with the ball.
    auto robot_pair = [&](int i, int j) {
      Robot& a = s.robots[static_cast<size_t>(i)];
      Robot& b = s.robots[static_cast<size_t>(j)];
      const Vec3 d = b.position - a.position;
      const double rs = a.radius + b.radius;
      if (d.length_sq() >= rs * rs) return;  // no contact: no random number drawn
      const double e = opt.deterministic ? MAX_HIT_E : rng.uniform(MIN_HIT_E, MAX_HIT_E);
      collide(a.position, a.velocity, a.radius, a.radius_change_speed, inv_robot, b.position, b.velocity, b.radius,
              b.radius_change_speed, inv_robot, e);
    };
    auto robot_ball = [&](int i) {
      Robot& r = s.robots[static_cast<size_t>(i)];
      const Vec3 d = s.ball.position - r.position;
      const double rs = r.radius + s.ball.radius;
      if (d.length_sq() >= rs * rs) return;
      const double e = opt.deterministic ? MAX_HIT_E : rng.uniform(MIN_HIT_E, MAX_HIT_E);
      collide(r.position, r.velocity, r.radius, r.radius_change_speed, inv_robot, s.ball.position, s.ball.velocity,
              s.ball.radius, 0, inv_ball, e);
      r.touched_ball = 1;
    };
    if (bodies != nullptr) {
      // Bullet's broadphase finds the candidates; they are walked in the rules' order: a robot
      // pair by (higher rank, lower rank) in the shuffled order, then each robot with the ball
      // by its rank (id order when deterministic). A pair cache holds each pair at most once.
      std::array<int, MAX_ROBOTS> rank{};
      for (int k = 0; k < n; ++k) rank[static_cast<size_t>(order[static_cast<size_t>(k)])] = k;
      constexpr int kBallKey = MAX_ROBOTS * MAX_ROBOTS;
      std::array<int, (MAX_ROBOTS + 1) * MAX_ROBOTS / 2> keys{};
      size_t m = 0;
      for (const auto& [i, j] : bodies->candidate_pairs(s, kPairMargin)) {
        const int ri = rank[static_cast<size_t>(i)];
        const int rj = j < 0 ? -1 : rank[static_cast<size_t>(j)];
        keys.at(m++) = j < 0 ? kBallKey + ri : std::max(ri, rj) * MAX_ROBOTS + std::min(ri, rj);
      }
      std::sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(m));
      for (size_t k = 0; k < m; ++k) {
        if (keys[k] >= kBallKey)
          robot_ball(order[static_cast<size_t>(keys[k] - kBallKey)]);
        else
          robot_pair(order[static_cast<size_t>(keys[k] / MAX_ROBOTS)],
                     order[static_cast<size_t>(keys[k] % MAX_ROBOTS)]);
      }
    } else {
      for (int a = 0; a < n; ++a)
        for (int b = 0; b < a; ++b) robot_pair(order[static_cast<size_t>(a)], order[static_cast<size_t>(b)]);
      for (int a = 0; a < n; ++a) robot_ball(order[static_cast<size_t>(a)]);
    }
    // 4. Robots against the arena (restitution 0), then the ball (0.7).
    for (int i = 0; i < n; ++i) {
      Robot& r = s.robots[static_cast<size_t>(i)];
      Vec3 normal;
      r.touch =
          collide_arena(arena, r.position, r.velocity, r.radius, r.radius_change_speed, ROBOT_ARENA_E, normal) ? 1 : 0;
      if (r.touch) r.touch_normal = normal;
    }
    Vec3 ball_normal;
    collide_arena(arena, s.ball.position, s.ball.velocity, s.ball.radius, 0, BALL_ARENA_E, ball_normal);
    // 5. Goal.
    if (ev.goal_team < 0 && s.reset_ticks == 0 && std::abs(s.ball.position.z) > GOAL_LINE_Z)
      ev.goal_team = s.ball.position.z > 0 ? 0 : 1;
    // 6. Nitro packs.
    if (opt.nitro)
      for (int k = 0; k < n; ++k) {
        Robot& r = s.robots[static_cast<size_t>(order[static_cast<size_t>(k)])];
        if (r.nitro == MAX_NITRO_AMOUNT) continue;
        for (auto& pack : s.packs) {
          if (pack.respawn_ticks > 0) continue;
          const Vec3 d = r.position - pack.position;
          const double reach = r.radius + NITRO_PACK_RADIUS;
          if (d.length_sq() > reach * reach * (1 + 1e-9)) continue;  // surely out of reach: no square root
          if (d.length() <= reach) {
            r.nitro = MAX_NITRO_AMOUNT;
            pack.respawn_ticks = NITRO_PACK_RESPAWN_TICKS;
          }
        }
      }
  }
  for (auto& pack : s.packs)
    if (pack.respawn_ticks > 0) --pack.respawn_ticks;
  return ev;
}

}  // namespace

TickEvents simulate_tick(GameState& s, const RobotAction* actions, const SimOptions& opt, Rng& rng,
                         BulletBodies* bullet) {
  if (bullet != nullptr) return tick_impl(s, actions, opt, rng, BulletArena::shared(), bullet);
  return tick_impl(s, actions, opt, rng, AnalyticArena{}, nullptr);
}

void place_kickoff(GameState& s, int team_size, Rng& rng) {
  s.ball = Ball{};
  s.ball.position = {0, rng.uniform(KICKOFF_BALL_MIN_Y, KICKOFF_BALL_MAX_Y), 0};
  const double arc = KICKOFF_ARC_DEG * std::numbers::pi / 180;
  // The arc's centre is seeded within +-30 degrees of the line to the team's own goal.
  const double centre = rng.uniform(-arc / 2, arc / 2);
  for (int k = 0; k < team_size; ++k) {
    const double angle = team_size == 1 ? centre : centre - arc / 2 + arc * k / (team_size - 1);
    const Vec3 pos{KICKOFF_DISTANCE * std::sin(angle), ROBOT_RADIUS, -KICKOFF_DISTANCE * std::cos(angle)};
    for (int team = 0; team < NUM_TEAMS; ++team) {
      Robot& r = s.robots[static_cast<size_t>(team * team_size + k)];
      const double nitro = r.nitro;
      r = Robot{};
      r.nitro = nitro;
      r.team = team;
      r.touch = 1;  // on the floor: the first microtick can already drive
      r.position = team == 0 ? pos : Vec3{-pos.x, pos.y, -pos.z};
    }
  }
}

}  // namespace ludus::codeball
