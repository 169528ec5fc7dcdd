// Scripted Codewars bots: `rush` (attack-move to the nearest enemy mass) and `swarm`
// (a potential-flow controller in the spirit of the seeds' 2017 entry).
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "codewars/codewars.hpp"
#include "ludus/engine/agent.hpp"

namespace ludus::codewars {
namespace {

using namespace constants;

// Every squad attack-moves to the nearest enemy mass, every decision.
class RushBot final : public Agent {
 public:
  void reset(const Env&, int, uint64_t) override {}
  void act(const Env&, const float*, std::span<const int> agent_ids, float* actions) override {
    for (int id : agent_ids) actions[id] = static_cast<float>(macro::kAttack);
  }
};

// A group of vehicles seen as one particle: centre, composition and hit points.
struct Mass {
  float x = 0, y = 0;
  std::array<float, kNumTypes> count{};
  float hp = 0, missing_hp = 0;
  int n = 0;
  bool aerial_only = true;
};

// Fraction of `b` that `a` destroys per tick at full contact: its damage per tick spread
// over b's composition, divided by b's hit points.
float destroy_rate(const Mass& a, const Mass& b) {
  if (a.n == 0 || b.n == 0 || b.hp <= 0) return 0;
  float dps = 0;
  for (int s = 0; s < kNumTypes; ++s) {
    if (a.count[static_cast<size_t>(s)] == 0) continue;
    float per_hit = 0;
    for (int t = 0; t < kNumTypes; ++t)
      per_hit += b.count[static_cast<size_t>(t)] / static_cast<float>(b.n) * hit_damage(s, t);
    dps += a.count[static_cast<size_t>(s)] * per_hit / kAttackCooldownTicks;
  }
  return dps / b.hp;
}

// Potential-flow swarm. Each squad is a particle in a field made of:
// - sources at enemy masses it beats (attraction that grows as it closes in),
// - sinks at enemy masses that beat it (repulsion within a danger radius),
// - allied squads as obstacles (repulsion plus a tangential flow around them),
// - walls as obstacles, facilities it does not hold as weak sources (ground squads),
// - for ARRV squads, a source behind the most damaged allied squad.
// The field's direction at the squad centre becomes one of the 8 direction orders.
class SwarmBot final : public Agent {
 public:
  void reset(const Env&, int team, uint64_t) override { team_ = team; }

  void act(const Env& env, const float*, std::span<const int> agent_ids, float* actions) override {
    const auto& cw = dynamic_cast<const CodewarsEnv&>(env);
    const CodewarsGame& game = cw.game();
    const CodewarsState& s = game.state();
    if (s.tick % cw.options().decision_ticks != 0) {
      for (int id : agent_ids) actions[id] = static_cast<float>(macro::kKeep);
      return;
    }
    const float world = game.world_size();
    const float scale = world / 1024.0f;
    const int squads = game.squads_per_team();
    const int first = team_ * squads;
    // Own squads and enemy masses (enemy vehicles this team can see, grouped by squad:
    // a stand-in for the clustering the original entries used).
    own_.assign(static_cast<size_t>(squads), Mass{});
    enemy_.assign(static_cast<size_t>(squads), Mass{});
    for (const auto& u : s.units) {
      if (!u.alive || u.squad < 0) continue;
      const bool mine = u.team == team_;
      if (!mine && cw.fog() && !game.sees(team_, u.x, u.y)) continue;
      Mass& m = mine ? own_[static_cast<size_t>(u.squad - first)]
                     : enemy_[static_cast<size_t>(u.squad - (1 - team_) * squads)];
      m.x += u.x, m.y += u.y, m.n += 1, m.hp += u.durability, m.missing_hp += kMaxDurability - u.durability;
      m.count[u.type] += 1;
      m.aerial_only = m.aerial_only && is_aerial(u.type);
    }
    for (auto* list : {&own_, &enemy_})
      for (auto& m : *list)
        if (m.n) m.x /= static_cast<float>(m.n), m.y /= static_cast<float>(m.n);

    // The whole army as one mass (its centre is the swarm's rally point), and each enemy
    // mass merged with the enemy masses near it (what a squad would meet there).
    Mass army;
    for (const Mass& m : own_) {
      if (!m.n) continue;
      army.x += m.x * static_cast<float>(m.n), army.y += m.y * static_cast<float>(m.n);
      army.n += m.n, army.hp += m.hp;
      for (int t = 0; t < kNumTypes; ++t) army.count[static_cast<size_t>(t)] += m.count[static_cast<size_t>(t)];
    }
    if (army.n) army.x /= static_cast<float>(army.n), army.y /= static_cast<float>(army.n);
    const float join = 60 * scale + 20;
    merged_.assign(enemy_.size(), Mass{});
    for (size_t a = 0; a < enemy_.size(); ++a) {
      if (!enemy_[a].n) continue;
      Mass& c = merged_[a];
      for (const Mass& b : enemy_) {
        if (!b.n || std::hypot(b.x - enemy_[a].x, b.y - enemy_[a].y) > join) continue;
        c.n += b.n, c.hp += b.hp;
        for (int t = 0; t < kNumTypes; ++t) c.count[static_cast<size_t>(t)] += b.count[static_cast<size_t>(t)];
      }
    }

    const bool nuke_ready = game.nuclear() && s.teams[static_cast<size_t>(team_)].strike.land_tick < 0 &&
                            s.tick >= s.teams[static_cast<size_t>(team_)].nuke_ready_tick;
    bool nuke_used = false;
    for (int id : agent_ids) {
      const Mass& me = own_[static_cast<size_t>(id - first)];
      if (me.n == 0) {
        actions[id] = static_cast<float>(macro::kKeep);
        continue;
      }
      float fx = 0, fy = 0, nearest = 1e30f;
      const bool arrv = me.count[kArrv] * 2 > static_cast<float>(me.n);
      // Cohesion: the swarm fights as one body, so every squad is drawn to the army centre.
      {
        const float dx = army.x - me.x, dy = army.y - me.y, d = std::hypot(dx, dy);
        if (d > 1) fx += 1.2f * dx / d * std::min(1.0f, d / join), fy += 1.2f * dy / d * std::min(1.0f, d / join);
      }
      const float danger = 200 * scale + 50;
      // Nothing in sight: the enemy started at our mirror point; the army flows there.
      if (std::none_of(enemy_.begin(), enemy_.end(), [](const Mass& e) { return e.n > 0; })) {
        const float dx = world - 2 * army.x, dy = world - 2 * army.y, d = std::max(1.0f, std::hypot(dx, dy));
        fx += 0.8f * dx / d, fy += 0.8f * dy / d;
      }
      for (size_t k = 0; k < enemy_.size(); ++k) {
        const Mass& e = enemy_[k];
        if (e.n == 0) continue;
        const float dx = e.x - me.x, dy = e.y - me.y, d = std::max(1.0f, std::hypot(dx, dy));
        nearest = std::min(nearest, d);
        const auto edge = [](const Mass& a, const Mass& b) {
          const float mine = destroy_rate(a, b), theirs = destroy_rate(b, a);
          return (mine - theirs) / std::max(1e-9f, mine + theirs);  // -1..1: who wins the exchange
        };
        const float army_edge = edge(army, merged_[k]), my_edge = edge(me, merged_[k]);
        if (army_edge > 0 && my_edge > -0.2f && !arrv) {
          // A source: the army beats it and this squad can take part.
          const float w = (0.6f + my_edge) * (0.5f + army_edge) * (1 + 2 * std::max(0.0f, 1 - d / danger));
          fx += w * dx / d, fy += w * dy / d;
        } else if (d < danger) {
          // A sink: it beats this squad (or the army); the closer, the harder the push.
          const float threat = std::max(0.2f, std::max(-my_edge, -army_edge));
          const float w = (arrv ? 4.0f : 2.5f) * threat * (1 - d / danger);
          fx -= w * dx / d, fy -= w * dy / d;
        }
      }
      // Allied squads are obstacles: push apart and flow around (tangent on the side we are on).
      for (int k = 0; k < squads; ++k) {
        const Mass& o = own_[static_cast<size_t>(k)];
        if (&o == &me || o.n == 0 || o.aerial_only != me.aerial_only) continue;
        const float dx = me.x - o.x, dy = me.y - o.y, d = std::max(1.0f, std::hypot(dx, dy));
        const float reach = 50 * std::max(scale, 0.5f);
        if (d >= reach) continue;
        const float w = 1.5f * (1 - d / reach);
        fx += w * dx / d, fy += w * dy / d;
        const float side = (fx * -dy + fy * dx) >= 0 ? 1.0f : -1.0f;
        fx += side * w * -dy / d, fy += side * w * dx / d;
      }
      // Walls.
      const float margin = 24;
      if (me.x < margin) fx += 1 - me.x / margin;
      if (me.y < margin) fy += 1 - me.y / margin;
      if (me.x > world - margin) fx -= 1 - (world - me.x) / margin;
      if (me.y > world - margin) fy -= 1 - (world - me.y) / margin;
      // Facilities the team does not hold pull ground squads gently.
      if (!me.aerial_only && !arrv)
        for (const auto& f : s.facilities) {
          if (f.owner == team_) continue;
          const float dx = f.x + kFacilitySize / 2 - me.x, dy = f.y + kFacilitySize / 2 - me.y;
          const float d = std::max(1.0f, std::hypot(dx, dy));
          fx += 0.4f * dx / d / (1 + d / 300), fy += 0.4f * dy / d / (1 + d / 300);
        }
      if (nuke_ready && !nuke_used && nearest < 110) {
        actions[id] = static_cast<float>(macro::kNuke);
        nuke_used = true;
        continue;
      }
      const float mag = std::hypot(fx, fy);
      if (mag < 0.05f) {
        actions[id] = static_cast<float>(macro::kHold);
        continue;
      }
      // To the squad's own (mirrored) frame, then the nearest of the 8 directions.
      const float m = CodewarsGame::mirror(team_);
      double angle = std::atan2(m * fy, m * fx);
      if (angle < 0) angle += 2 * std::numbers::pi;
      const int dir = static_cast<int>(std::lround(angle / (std::numbers::pi / 4))) % 8;
      actions[id] = static_cast<float>(macro::kDirFirst + dir);
    }
  }

 private:
  int team_ = 0;
  std::vector<Mass> own_, enemy_, merged_;
};

}  // namespace
}  // namespace ludus::codewars

LUDUS_REGISTER_AGENT("rush", {"codewars"}, "every squad attack-moves to the nearest enemy mass",
                     [](const ludus::AgentArgs&) { return std::make_unique<ludus::codewars::RushBot>(); });
LUDUS_REGISTER_AGENT("swarm", {"codewars"},
                     "potential-flow swarm: attract to beaten enemies, avoid threats, flow around allies",
                     [](const ludus::AgentArgs&) { return std::make_unique<ludus::codewars::SwarmBot>(); });
