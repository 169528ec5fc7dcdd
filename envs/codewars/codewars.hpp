// Codewars: a 2D swarm RTS after the Russian AI Cup 2017 game: armies of vehicles under
// group orders (select, move, rotate, scale), rock-paper-scissors combat, terrain and
// weather, fog of war, tactical nuclear strikes and facilities.
//
// Physics design (why no b2World): Box2D 2.4's b2World keeps history (contact lists,
// warm-starting impulses, proxy ids) that no snapshot can restore, and rebuilding a world
// of 1000 bodies every tick costs more than the whole game tick. The rules also ask for
// no inertia ("a blocked move waits"), which a rigid-body solver does not give. So all
// unit state lives in plain arrays (CodewarsState) and Box2D supplies the collision
// pieces: b2DynamicTree broadphases, one per (team, layer), rebuilt from the plain state
// on reset and load (so their history never matters: every query's result set is exact
// and results are consumed in unit-id order or by order-independent minima), and exact
// swept circle-circle narrowphase. Measured at 2 x 500 units in contact: about 0.6 ms per
// tick on one core (BENCHMARKS.md), observations included. Each tick, vehicles move in a seeded random order; a move
// that would bring two colliding centres closer than 4 is cut at the contact (a blocked
// move waits). Ground collides with all ground, air only with its own side's air,
// ground and air never collide; nobody leaves the world.
//
// Two interfaces:
// - The game-level API (act(), the original's 12 actions with its rate limit) for C++
//   programs, tests and the macro layer below.
// - The RL interface at squad level: one agent per squad, a discrete macro order every
//   `decision_ticks` ticks, translated into game-level actions (which count against the
//   rate limit). Observations are coarse spatial grids plus a squad summary, mirrored
//   so that each side sees the map from its own corner. See envs/codewars/README.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codewars/constants.hpp"
#include "ludus/engine/config.hpp"
#include "ludus/engine/env.hpp"
#include "ludus/engine/rng.hpp"

namespace ludus::codewars {

struct CodewarsOptions {
  std::string size = "small";       // full | small | duel
  std::string fog = "auto";         // auto (on in full) | on | off
  std::string nuclear = "auto";     // auto (on in full) | on | off
  std::string facilities = "auto";  // auto (on in full) | on | off
  bool terrain = true;              // seeded swamps and forests (off: all plain)
  bool weather = true;              // seeded clouds and rain (off: all clear)
  bool rate_limit = true;           // the original's 12 actions per 60 ticks (+3 per control centre)
  int decision_ticks = 60;          // macro orders are read every this many ticks
  int max_ticks = 0;                // 0: size default (full 20000, small 6000, duel 3000)
  int obs_grid = 16;                // observation grid is obs_grid x obs_grid cells
  std::string reward = "score";     // score: own score gained; score_diff: own minus enemy gain
  float damage_reward = 0;          // shaping: weight x (enemy minus own hit points lost) / 100 per tick

  void visit(OptionVisitor& v) {
    static constexpr std::string_view kSizes[] = {"full", "small", "duel"};
    static constexpr std::string_view kSwitch[] = {"auto", "on", "off"};
    static constexpr std::string_view kRewards[] = {"score", "score_diff"};
    v.value("size", size, kSizes,
            "full: 1024x1024 world, 2x500 units; small: 256x256, 2x50; duel: 128x128, one squad of 10 per side");
    v.value("fog", fog, kSwitch, "fog of war in observations (auto: on in full only)");
    v.value("nuclear", nuclear, kSwitch, "tactical nuclear strikes (auto: on in full only)");
    v.value("facilities", facilities, kSwitch, "control centres and factories (auto: on in full only)");
    v.value("terrain", terrain, "seeded swamp and forest cells for ground units");
    v.value("weather", weather, "seeded cloud and rain cells for aerial units");
    v.value("rate_limit", rate_limit, "limit orders to 12 per 60 ticks (+3 per control centre)");
    v.value("decision_ticks", decision_ticks, 1, 600, "ticks between macro orders of each squad");
    v.value("max_ticks", max_ticks, 0, 100000, "episode length limit in ticks (0: size default)");
    v.value("obs_grid", obs_grid, 4, 64, "cells per side of the observation grids");
    v.value("reward", reward, kRewards, "per-agent reward: own score gained, or own minus enemy");
    v.value("damage_reward", damage_reward, 0.0f, 100.0f,
            "shaping added to the reward: this weight x (hit points the enemy lost - hit points we lost) / 100 each "
            "tick (a vehicle is 100; repair and production count as hit points regained)");
  }
};

// Standing order of one vehicle.
enum class UnitOrder : uint8_t { none = 0, move = 1, rotate = 2 };

// One vehicle. Plain, padding-free, saved byte for byte.
struct Unit {
  float x = 0, y = 0;           // centre, world units
  float durability = 0;         // hit points, (0, 100] while alive
  float tx = 0, ty = 0;         // move: target point; rotate: rotation centre
  float angle_left = 0;         // rotate: radians still to turn (sign = direction)
  float max_speed = 0;          // order's speed cap per tick (0: none)
  float max_angular_speed = 0;  // rotate: radians per tick cap (0: none)
  int32_t cooldown = 0;         // ticks until the next attack
  int32_t squad = -1;           // agent (squad) index it belongs to, -1 for none
  uint8_t type = 0, team = 0, alive = 0, selected = 0;
  uint8_t order = 0;  // UnitOrder
  uint8_t pad[3] = {0, 0, 0};
  std::array<uint64_t, 2> groups{};  // bit g-1 set: member of group g (1..100)
};
static_assert(sizeof(Unit) == 64, "Unit must stay padding-free: it is saved as raw bytes");

struct Facility {
  float x = 0, y = 0;       // top-left corner; the facility covers 64 x 64 from there
  float capture = 0;        // -100 (team 1 holds) .. +100 (team 0 holds)
  int32_t kind = 0;         // constants::kControlCentre or kFactory
  int32_t owner = -1;       // team, or -1
  int32_t production = -1;  // factory: vehicle type in production, or -1
  int32_t progress = 0;     // factory: ticks of production so far
  int32_t pad = 0;
};
static_assert(sizeof(Facility) == 32, "Facility must stay padding-free");

struct NuclearStrike {
  int64_t land_tick = -1;  // -1: none pending
  int32_t spotter = -1;    // unit id that must keep sight of the point
  float x = 0, y = 0;
  int32_t pad = 0;
};
static_assert(sizeof(NuclearStrike) == 24, "NuclearStrike must stay padding-free");

struct TeamState {
  double score = 0;
  int64_t nuke_ready_tick = 0;  // a strike may be called from this tick on
  NuclearStrike strike;         // pending strike (land_tick -1: none)
  int32_t selected_group = -1;  // the selection is exactly this group (macro layer shortcut), or -1
  int32_t pad = 0;
  std::array<int64_t, 64> action_ticks{};  // ticks of recent counted actions (ring)
  int32_t action_count = 0;                // valid entries in action_ticks, oldest first from action_head
  int32_t action_head = 0;
};

// The whole game state: a plain value, saved and restored exactly.
struct CodewarsState {
  int64_t tick = 0;
  int32_t world_cells = 0;       // terrain grid is world_cells x world_cells
  uint8_t done = 0;              // an army was destroyed
  std::vector<uint8_t> terrain;  // per cell, row-major (y * world_cells + x)
  std::vector<uint8_t> weather;
  std::vector<Unit> units;  // by id; dead units stay (alive = 0)
  std::vector<Facility> facilities;
  std::array<TeamState, constants::kNumTeams> teams{};
  std::vector<int32_t> squad_macro;  // last macro order per agent (0: none yet)
  std::array<uint64_t, 4> rng{};
};

// The original's actions. Coordinates are world coordinates of the full map frame
// (not mirrored): the game-level API is the same for both sides.
enum class ActionType : uint8_t {
  none,
  clear_and_select,  // rectangle [left,right]x[top,bottom] and optional type, or group
  add_to_selection,
  deselect,
  assign,                    // add `group` to every selected vehicle
  dismiss,                   // remove `group` from every selected vehicle
  disband,                   // remove `group` from every vehicle of the team
  move,                      // by vector (x, y), optional max_speed
  rotate,                    // about point (x, y) by `angle` in [-pi, pi], optional max_speed / max_angular_speed
  scale,                     // about point (x, y) by `factor` in [0.1, 10], optional max_speed
  setup_vehicle_production,  // factory `facility` builds `vehicle_type` (progress resets)
  tactical_nuclear_strike,   // at (x, y), spotted by own vehicle `vehicle_id`
};

struct Action {
  ActionType type = ActionType::none;
  float left = 0, top = 0, right = 0, bottom = 0;
  int vehicle_type = -1;  // -1: any type
  int group = 0;          // 1..100; select actions use the group instead of the rectangle when > 0
  float x = 0, y = 0;
  float angle = 0;
  float factor = 1;
  float max_speed = 0;          // per tick, 0: no cap
  float max_angular_speed = 0;  // radians per tick, 0: no cap
  int facility = -1;
  int vehicle_id = -1;
};

enum class ActionStatus : uint8_t { ok, rate_limited, invalid, unavailable };
const char* to_string(ActionStatus status);

// Macro orders of the RL interface (one discrete action per squad every decision_ticks).
// Directions are in the squad's own mirrored frame: 2 = +x, then clockwise every 45 deg
// (y down), so for team 1 "+x" points toward the left of the full map.
namespace macro {
inline constexpr int kKeep = 0;          // issue nothing (costs no action)
inline constexpr int kHold = 1;          // stop where it is
inline constexpr int kDirFirst = 2;      // 2..9: move one leg (decision_ticks x speed) in direction k-2
inline constexpr int kAttack = 10;       // move onto the nearest enemy mass
inline constexpr int kRetreat = 11;      // move one leg away from the nearest enemy
inline constexpr int kConcentrate = 12;  // scale by 0.5 about the squad centre
inline constexpr int kSpread = 13;       // scale by 1.5 about the squad centre
inline constexpr int kCapture = 14;      // move onto the nearest facility the team does not hold
inline constexpr int kNuke = 15;         // nuclear strike where it hurts the enemy most, spotted by this squad
inline constexpr int kCount = 16;
}  // namespace macro

class CodewarsEnv final : public Env {
 public:
  explicit CodewarsEnv(CodewarsOptions options);
  ~CodewarsEnv() override;

  const EnvSpec& spec() const override { return spec_; }
  void reset(uint64_t seed, StepView out) override;
  void step(const float* actions, StepView out) override;
  void observe(float* obs) const override;
  void save_state(std::vector<uint8_t>& out) const override;
  void load_state(std::span<const uint8_t> bytes) override;
  void draw(Frame& frame) const override;
  MatchResult result() const override;
  int64_t tick() const override { return state_.tick; }

  // ---- game-level API -------------------------------------------------------------
  // Performs one of the original's actions for `team` now (it affects the next tick).
  // Every action but `none` counts against the rate limit, even one that does nothing;
  // refused actions (rate_limited, invalid, unavailable) change nothing and count nothing.
  ActionStatus act(int team, const Action& action);
  // Actions `team` may still perform in the current 60-tick window.
  int actions_left(int team) const;
  int control_centres(int team) const;
  // True if some living vehicle of `team` sees point (x, y) (vision x own cell's vision
  // factor x the point's cell stealth factor).
  bool sees(int team, float x, float y) const;
  bool unit_sees(int unit_id, float x, float y) const;
  // Terrain/weather speed factor applied to unit `u` where it stands.
  float speed_factor(const Unit& u) const;

  // ---- inspection and scenario set-up ----------------------------------------------
  const CodewarsState& state() const { return state_; }
  const CodewarsOptions& options() const { return options_; }
  float world_size() const { return world_; }
  int num_squads() const { return squads_per_team_; }
  bool fog() const { return fog_; }
  bool nuclear() const { return nuclear_; }
  // Direct access for scenario tools and tests; call rebuild_index() after changing
  // units (positions, additions, `alive`) or the terrain/weather grids.
  CodewarsState& edit_state() { return state_; }
  void rebuild_index();
  // +1 for team 0, -1 for team 1 (team 1 sees the world rotated by 180 degrees).
  static float mirror(int team) { return team == 0 ? 1.0f : -1.0f; }
  // Squad agent index -> team.
  int agent_team(int agent) const { return spec_.agent_team[static_cast<size_t>(agent)]; }

 private:
  struct Index;  // b2DynamicTree broadphase, rebuilt from state_

  int cell_of(float x, float y) const;
  void generate_map();
  void place_armies();
  void apply_macro(const float* actions);
  void issue_macro(int agent, int order);
  bool select_group(int team, int group);
  void move_units();
  void fight();
  void repair();
  void facilities_tick();
  void nukes_tick();
  void upkeep();
  void kill(int id);
  void spawn(int team, int type, float x, float y, int squad);
  bool count_action(int team);
  bool matches_selection(const Unit& u, int team, const Action& a) const;
  void squad_centre(int agent, float& cx, float& cy, int& count) const;
  bool find_strike(int agent, float& x, float& y, int& spotter) const;
  void build_team_grids() const;
  void refresh_map_cache();
  // Summed durability of each team's living vehicles (the damage_reward shaping).
  std::array<double, constants::kNumTeams> team_hit_points() const;
  // After build_team_grids(): whether (x, y) lies in a grid cell `team` sees.
  bool visible_cell(int team, float x, float y) const;

  CodewarsOptions options_;
  EnvSpec spec_;
  CodewarsState state_;
  Rng rng_;
  float world_ = 0;
  int squads_per_team_ = 0;
  int64_t max_ticks_ = 0;
  bool fog_ = false, nuclear_ = false, facilities_ = false;
  bool reward_diff_ = false;  // options.reward == score_diff, read once at construction
  int grid_ = 16, channels_ = 0, summary_ = 0;
  std::unique_ptr<Index> index_;
  // Scratch, sized once.
  std::vector<int32_t> order_;
  mutable std::vector<int32_t> candidates_;
  std::vector<float> damage_, weights_;
  mutable std::vector<float> team_grid_;  // [team][channel][cell]
  std::vector<float> map_cache_;          // [team][swamp, forest, cloud, rain, stealth ground, stealth air][cell]
};

}  // namespace ludus::codewars
