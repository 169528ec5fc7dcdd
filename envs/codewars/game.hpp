// Codewars rules: the game state as a plain value (CodewarsState), the original's actions
// and the tick (movement, combat, repair, facilities, strikes, upkeep, scoring), free of the
// RL adapter (envs/codewars/codewars.hpp: macro orders, observations, rewards) so that bots,
// tools and tests can play the game itself.
//
// Physics design (why no b2World): Box2D 2.4's b2World keeps history (contact lists,
// warm-starting impulses, proxy ids) that no snapshot can restore, and rebuilding a world
// of 1000 bodies every tick costs more than the whole game tick. The rules also ask for
// no inertia ("a blocked move waits"), which a rigid-body solver does not give. So all
// unit state lives in plain arrays (CodewarsState) and Box2D supplies the collision
// pieces: b2DynamicTree broadphases, one per (team, layer), rebuilt from the plain state
// on reset and load (so their history never matters: every query's result set is exact
// and results are consumed in unit-id order or by order-independent minima), and exact
// swept circle-circle narrowphase. Each tick, vehicles move in a seeded random order; a
// move that would bring two colliding centres closer than 4 is cut at the contact (a
// blocked move waits). Ground collides with all ground, air only with its own side's air,
// ground and air never collide; nobody leaves the world.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codewars/constants.hpp"
#include "ludus/engine/env.hpp"
#include "ludus/engine/rng.hpp"

namespace ludus::codewars {

enum class MapSize : uint8_t { full, small, duel };
const char* to_string(MapSize size);

// What the rules depend on. Which features are on is decided by whoever builds the game
// (the env maps its `auto` options here).
// The broadphase behind movement, combat, repairs and every spatial query (game.cpp,
// Index): a uniform grid, or Box2D's dynamic AABB tree. The same trajectories either way.
enum class Broadphase : uint8_t { grid, box2d };

struct GameSetup {
  MapSize size = MapSize::small;  // full: 1024 x 1024, 2 x 500 units; small: 256 x 256, 2 x 50; duel: 128, 2 x 10
  bool nuclear = false;           // tactical nuclear strikes
  bool facilities = false;        // control centres and factories
  bool terrain = true;            // seeded swamps and forests (off: all plain)
  bool weather = true;            // seeded clouds and rain (off: all clear)
  bool rate_limit = true;         // the original's 12 actions per 60 ticks (+3 per control centre)
  Broadphase broadphase = Broadphase::grid;
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
  std::array<uint64_t, 4> rng{};  // the rules' random stream (move order, target choice) after the last tick
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

class CodewarsGame {
 public:
  explicit CodewarsGame(GameSetup setup);
  ~CodewarsGame();
  CodewarsGame(const CodewarsGame&) = delete;
  CodewarsGame& operator=(const CodewarsGame&) = delete;

  // A new game from `seed`: a 180-degree-symmetric map, facilities in mirrored pairs, and
  // both armies in their corners (team 1's layout is team 0's rotated by 180 degrees).
  void reset(uint64_t seed);
  // One tick: movement, combat, repair, facilities, nuclear strikes, then the tick count
  // and upkeep, and the army bonus once a side is destroyed (state().done).
  void tick();

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
  // Terrain/weather cell of a world point (a point on a boundary belongs to the cell
  // nearer the map centre, so a point and its mirror fall in mirrored cells).
  int cell_of(float x, float y) const;
  // Summed durability of each team's living vehicles.
  std::array<double, constants::kNumTeams> team_hit_points() const;
  std::array<int, constants::kNumTeams> alive_counts() const;
  // Winner: the side that destroyed the whole enemy army, else the higher score.
  MatchResult result() const;

  // Spatial queries for controllers. Layers: bit team * 2 (ground) and team * 2 + 1 (air).
  static unsigned layers(int team, bool ground, bool air) {
    return (ground ? 1u << (team * 2) : 0u) | (air ? 1u << (team * 2 + 1) : 0u);
  }
  static constexpr unsigned kAllLayers = 0xF;
  // Replaces `out` with the ids of the living units of `layers` whose box overlaps
  // [x - half, x + half] x [y - half, y + half] (widened by a fraction of a unit: a
  // superset of those within half - 2 of (x, y)), in ascending id order.
  void units_near(unsigned layers, float x, float y, float half, std::vector<int32_t>& out) const;

  // ---- inspection and scenario set-up ----------------------------------------------
  const CodewarsState& state() const { return state_; }
  const GameSetup& setup() const { return setup_; }
  float world_size() const { return world_; }
  int world_cells() const;  // the terrain/weather grid is world_cells x world_cells
  int squads_per_team() const { return squads_per_team_; }
  bool nuclear() const { return setup_.nuclear; }
  bool facilities() const { return setup_.facilities; }
  // Direct access for scenario tools and tests; call rebuild_index() after changing
  // units (positions, additions, `alive`).
  CodewarsState& edit_state() { return state_; }
  void rebuild_index();
  // Replaces the whole state (a snapshot), after validate(): the index is rebuilt.
  void load(CodewarsState state);
  // Empty when every value of `state` is one the rules can produce for this setup (units,
  // facilities, teams, grids), else what is wrong: a snapshot is refused rather than fed
  // to the tick as NaNs, infinities or out-of-range indices.
  std::string validate(const CodewarsState& state) const;
  // +1 for team 0, -1 for team 1 (team 1 sees the world rotated by 180 degrees).
  static float mirror(int team) { return team == 0 ? 1.0f : -1.0f; }

 private:
  struct Index;  // b2DynamicTree broadphase, rebuilt from state_

  void generate_map();
  void place_armies();
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

  GameSetup setup_;
  CodewarsState state_;
  Rng rng_;
  float world_ = 0;
  int squads_per_team_ = 0;
  std::unique_ptr<Index> index_;
  // Scratch, sized once.
  std::vector<int32_t> order_, candidates_, damaged_;
  std::vector<float> damage_;
};

}  // namespace ludus::codewars
