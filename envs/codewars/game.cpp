// Codewars rules: the plain state's set-up (map, armies), the original's actions, the tick
// (movement and collisions on a grid or b2DynamicTree broadphase, combat, repair, facilities,
// strikes, upkeep) and snapshot validation.
#include "codewars/game.hpp"

#include <box2d/b2_collision.h>
#include <box2d/b2_dynamic_tree.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace ludus::codewars {

using namespace constants;

namespace {

constexpr float kMoveMargin = 1e-4f;  // fraction of a move kept back from a contact

float clampf(float v, float lo, float hi) { return std::min(std::max(v, lo), hi); }
bool in_group(const Unit& u, int g) { return (u.groups[static_cast<size_t>((g - 1) / 64)] >> ((g - 1) % 64)) & 1u; }
void set_group(Unit& u, int g, bool on) {
  const uint64_t bit = uint64_t{1} << ((g - 1) % 64);
  auto& w = u.groups[static_cast<size_t>((g - 1) / 64)];
  w = on ? (w | bit) : (w & ~bit);
}
// Ground collides with all ground; air only with its own side's air.
bool collide(const Unit& a, const Unit& b) {
  const bool air_a = is_aerial(a.type), air_b = is_aerial(b.type);
  if (air_a != air_b) return false;
  return !air_a || a.team == b.team;
}
void* to_user_data(int id) { return reinterpret_cast<void*>(static_cast<intptr_t>(id) + 1); }
int from_user_data(void* p) { return static_cast<int>(reinterpret_cast<intptr_t>(p) - 1); }

}  // namespace

const char* to_string(ActionStatus status) {
  switch (status) {
    case ActionStatus::ok:
      return "ok";
    case ActionStatus::rate_limited:
      return "rate_limited";
    case ActionStatus::invalid:
      return "invalid";
    case ActionStatus::unavailable:
      return "unavailable";
  }
  return "?";
}

// Broadphase over living units, one structure per (team, layer), so that a query only
// walks the units it can concern (enemies for attacks, own side for repairs, ground for
// ground collisions). Two interchangeable kinds (GameSetup::broadphase):
// - grid (default): a uniform grid of kCell-unit cells, each an intrusive doubly linked
//   list over unit ids, so moving, adding and removing a unit is O(1) and allocates
//   nothing. Every vehicle is a circle of radius 2 and most queries reach 5-25 units,
//   which a few cells answer.
// - box2d: one b2DynamicTree per layer. Vehicles move farther per tick than the tree's
//   fat margin, so it re-inserts nearly every moving vehicle every tick.
// Queries return slightly different supersets of the units in the box, and every consumer
// filters exactly and is order-free, so the game's trajectories are the same bit for bit
// under either (tests/envs/codewars, tests/envs/golden_test.cpp). Rebuilt from the plain
// state (reset, load, tests), so no history carries over.
struct CodewarsGame::Index {
  static constexpr int kLayers = 4;      // layer = team * 2 + (aerial ? 1 : 0)
  static constexpr float kCell = 16.0f;  // grid: world units per cell side
  bool tree_mode = false;
  std::vector<uint8_t> layer;  // per unit id
  std::vector<float> px, py;   // per unit id: the position it is indexed at
  std::vector<int32_t> cell;   // per unit id: grid cell or tree proxy; -1 when not indexed
  // grid
  int side = 0;                                    // cells per side
  std::array<std::vector<int32_t>, kLayers> head;  // per layer, per cell: first unit id, or -1
  std::vector<int32_t> next, prev;                 // per unit id: the cell's list
  // box2d
  std::array<std::unique_ptr<b2DynamicTree>, kLayers> trees;

  static int layer_of(const Unit& u) { return u.team * 2 + (is_aerial(u.type) ? 1 : 0); }
  int axis(float v) const { return std::clamp(static_cast<int>(v / kCell), 0, side - 1); }
  int cell_at(float x, float y) const { return axis(y) * side + axis(x); }
  static b2AABB box(float x, float y, float half) {
    b2AABB b;
    b.lowerBound.Set(x - half, y - half);
    b.upperBound.Set(x + half, y + half);
    return b;
  }

  void rebuild(const std::vector<Unit>& units, float world, bool tree) {
    tree_mode = tree;
    side = std::max(1, static_cast<int>(std::ceil(world / kCell)));
    for (auto& h : head) h.assign(tree ? 0 : static_cast<size_t>(side * side), -1);
    for (auto& t : trees) t = tree ? std::make_unique<b2DynamicTree>() : nullptr;
    for (auto* v : {&next, &prev, &cell}) v->assign(units.size(), -1);
    layer.assign(units.size(), 0);
    px.assign(units.size(), 0.0f);
    py.assign(units.size(), 0.0f);
    for (size_t i = 0; i < units.size(); ++i)
      if (units[i].alive) add(static_cast<int>(i), units[i]);
  }
  void link(int id, int c) {
    const auto i = static_cast<size_t>(id);
    int32_t& h = head[layer[i]][static_cast<size_t>(c)];
    cell[i] = c, prev[i] = -1, next[i] = h;
    if (h >= 0) prev[static_cast<size_t>(h)] = id;
    h = id;
  }
  void unlink(int id) {
    const auto i = static_cast<size_t>(id);
    if (prev[i] >= 0)
      next[static_cast<size_t>(prev[i])] = next[i];
    else
      head[layer[i]][static_cast<size_t>(cell[i])] = next[i];
    if (next[i] >= 0) prev[static_cast<size_t>(next[i])] = prev[i];
  }
  void add(int id, const Unit& u) {
    const auto i = static_cast<size_t>(id);
    if (i >= cell.size()) {
      for (auto* v : {&next, &prev, &cell}) v->resize(i + 1, -1);
      layer.resize(i + 1, 0), px.resize(i + 1, 0.0f), py.resize(i + 1, 0.0f);
    }
    layer[i] = static_cast<uint8_t>(layer_of(u));
    px[i] = u.x, py[i] = u.y;
    if (tree_mode)
      cell[i] = trees[layer[i]]->CreateProxy(box(u.x, u.y, kVehicleRadius), to_user_data(id));
    else
      link(id, cell_at(u.x, u.y));
  }
  void remove(int id) {
    const auto i = static_cast<size_t>(id);
    if (cell[i] < 0) return;
    if (tree_mode)
      trees[layer[i]]->DestroyProxy(cell[i]);
    else
      unlink(id);
    cell[i] = -1;
  }
  // After the unit moved by (dx, dy) to u's position.
  void move(int id, const Unit& u, float dx, float dy) {
    const auto i = static_cast<size_t>(id);
    px[i] = u.x, py[i] = u.y;
    if (tree_mode) {
      trees[layer[i]]->MoveProxy(cell[i], box(u.x, u.y, kVehicleRadius), b2Vec2(dx, dy));
      return;
    }
    const int c = cell_at(u.x, u.y);
    if (c == cell[i]) return;
    unlink(id);
    link(id, c);
  }

  template <class F>
  struct TreeWalk {
    const b2DynamicTree* tree;
    F* f;
    bool stopped = false;
    bool QueryCallback(int32 node) {
      stopped = !(*f)(from_user_data(tree->GetUserData(node)));
      return !stopped;
    }
  };
  bool near(int id, float x, float y, float reach) const {
    const auto i = static_cast<size_t>(id);
    return std::abs(px[i] - x) <= reach && std::abs(py[i] - y) <= reach;
  }
  // Calls f(unit id) for every unit of the layers in `mask` (CodewarsGame::layers) whose
  // box (its centre +- kVehicleRadius) overlaps [x-half, x+half] x [y-half, y+half], in no
  // particular order, until f returns false; returns false if it did. The box is widened:
  // the tree's by its fat margins (0.1 and the last move), the grid's by kSlack. Either
  // way the set holds every unit within `half - 2` of (x, y) and every unit a consumer's
  // own float test can accept at that edge: a move that ends exactly at contact solves to
  // t = 1 - 1e-7 for a unit whose exact box test reads 4.0900001 against a reach of 4.09.
  static constexpr float kSlack = 0.25f;
  template <class F>
  bool walk(unsigned mask, float x, float y, float half, F&& f) const {
    if (tree_mode) {
      for (int l = 0; l < kLayers; ++l) {
        if (!(mask >> l & 1u)) continue;
        TreeWalk<std::remove_reference_t<F>> cb{trees[static_cast<size_t>(l)].get(), &f};
        trees[static_cast<size_t>(l)]->Query(&cb, box(x, y, half));
        if (cb.stopped) return false;
      }
      return true;
    }
    const float reach = half + kVehicleRadius + kSlack;
    const int x0 = axis(x - reach), x1 = axis(x + reach), y0 = axis(y - reach), y1 = axis(y + reach);
    for (int l = 0; l < kLayers; ++l) {
      if (!(mask >> l & 1u)) continue;
      const auto& h = head[static_cast<size_t>(l)];
      for (int cy = y0; cy <= y1; ++cy)
        for (int cx = x0; cx <= x1; ++cx)
          for (int32_t id = h[static_cast<size_t>(cy * side + cx)]; id >= 0; id = next[static_cast<size_t>(id)])
            if (near(id, x, y, reach) && !f(static_cast<int>(id))) return false;
    }
    return true;
  }
  template <class F>
  void query(unsigned mask, float x, float y, float half, F&& f) const {
    walk(mask, x, y, half, [&](int id) {
      f(id);
      return true;
    });
  }
  // True if pred(unit id) holds for some unit that query() would visit; stops at the first.
  template <class P>
  bool any(unsigned mask, float x, float y, float half, P&& pred) const {
    return !walk(mask, x, y, half, [&](int id) { return !pred(id); });
  }
};

const char* to_string(MapSize size) {
  switch (size) {
    case MapSize::full:
      return "full";
    case MapSize::small:
      return "small";
    case MapSize::duel:
      return "duel";
  }
  return "?";
}

CodewarsGame::CodewarsGame(GameSetup setup) : setup_(setup), index_(std::make_unique<Index>()) {
  switch (setup_.size) {
    case MapSize::full:
      world_ = 1024, squads_per_team_ = 5;
      break;
    case MapSize::small:
      world_ = 256, squads_per_team_ = 5;
      break;
    case MapSize::duel:
      world_ = 128, squads_per_team_ = 1;
      break;
  }
}

int CodewarsGame::world_cells() const { return static_cast<int>(std::ceil(world_ / kCellSize)); }

CodewarsGame::~CodewarsGame() = default;

void CodewarsGame::rebuild_index() { index_->rebuild(state_.units, world_, setup_.broadphase == Broadphase::box2d); }

void CodewarsGame::units_near(unsigned mask, float x, float y, float half, std::vector<int32_t>& out) const {
  out.clear();
  index_->query(mask, x, y, half, [&](int id) { out.push_back(id); });
  std::sort(out.begin(), out.end());
}

int CodewarsGame::cell_of(float x, float y) const {
  // A point on a cell boundary belongs to the cell nearer the map centre, so that a point
  // and its 180-degree mirror always fall in mirrored cells (fairness).
  const int n = state_.world_cells;
  const auto axis = [&](float v) {
    const float c = v / kCellSize;
    const int i = v < world_ / 2 ? static_cast<int>(std::floor(c)) : static_cast<int>(std::ceil(c)) - 1;
    return std::clamp(i, 0, n - 1);
  };
  return axis(y) * n + axis(x);
}

float CodewarsGame::speed_factor(const Unit& u) const {
  const auto c = static_cast<size_t>(cell_of(u.x, u.y));
  return is_aerial(u.type) ? kWeatherFactors[state_.weather[c]].speed : kTerrainFactors[state_.terrain[c]].speed;
}

bool CodewarsGame::unit_sees(int unit_id, float x, float y) const {
  const Unit& u = state_.units[static_cast<size_t>(unit_id)];
  if (!u.alive) return false;
  const auto own = static_cast<size_t>(cell_of(u.x, u.y)), at = static_cast<size_t>(cell_of(x, y));
  const bool air = is_aerial(u.type);
  const float vision_factor =
      air ? kWeatherFactors[state_.weather[own]].vision : kTerrainFactors[state_.terrain[own]].vision;
  const float stealth = air ? kWeatherFactors[state_.weather[at]].stealth : kTerrainFactors[state_.terrain[at]].stealth;
  const float r = kStats[u.type].vision * vision_factor * stealth;
  const float dx = u.x - x, dy = u.y - y;
  return dx * dx + dy * dy <= r * r;
}

bool CodewarsGame::sees(int team, float x, float y) const {
  // No vehicle sees farther than the longest vision (the cell factors are at most 1), so
  // only the team's vehicles within that box can see the point.
  constexpr float kFarthest = [] {
    float v = 0;
    for (const auto& st : kStats) v = std::max(v, st.vision);
    return v;
  }();
  static_assert(
      std::ranges::all_of(kTerrainFactors, [](const CellFactors& f) { return f.vision <= 1 && f.stealth <= 1; }) &&
      std::ranges::all_of(kWeatherFactors, [](const CellFactors& f) { return f.vision <= 1 && f.stealth <= 1; }));
  return index_->any(layers(team, true, true), x, y, kFarthest, [&](int id) { return unit_sees(id, x, y); });
}

// ---- map and armies --------------------------------------------------------------------

void CodewarsGame::generate_map() {
  const int n = world_cells();
  state_.world_cells = n;
  const size_t cells = static_cast<size_t>(n * n);
  state_.terrain.assign(cells, kPlain);
  state_.weather.assign(cells, kClear);
  // Symmetric under 180 degree rotation: cell i and cell (n*n - 1 - i) are the same kind.
  for (size_t i = 0; i < cells; ++i) {
    const size_t m = cells - 1 - i;
    if (m < i) continue;
    const double t = rng_.uniform(), w = rng_.uniform();
    const uint8_t terrain = !setup_.terrain ? kPlain : t < 0.7 ? kPlain : t < 0.85 ? kSwamp : kForest;
    const uint8_t weather = !setup_.weather ? kClear : w < 0.7 ? kClear : w < 0.85 ? kCloud : kRain;
    state_.terrain[i] = state_.terrain[m] = terrain;
    state_.weather[i] = state_.weather[m] = weather;
  }
  state_.facilities.clear();
  if (!setup_.facilities) return;
  const int pairs = setup_.size == MapSize::full ? 4 : setup_.size == MapSize::small ? 1 : 0;
  const int slots = static_cast<int>((world_ - kFacilitySize) / kCellSize) + 1;
  for (int p = 0; p < pairs; ++p) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      const float x = kCellSize * static_cast<float>(rng_.below(static_cast<uint32_t>(slots)));
      const float y = kCellSize * static_cast<float>(rng_.below(static_cast<uint32_t>(slots)));
      const float mx = world_ - kFacilitySize - x, my = world_ - kFacilitySize - y;
      const float cx = x + kFacilitySize / 2, cy = y + kFacilitySize / 2;
      // Away from both starting corners, and not overlapping its mirror or another one.
      const float corner = 0.35f * world_;
      bool ok = std::hypot(cx, cy) > corner && std::hypot(world_ - cx, world_ - cy) > corner &&
                (std::abs(x - mx) >= kFacilitySize || std::abs(y - my) >= kFacilitySize);
      for (const auto& f : state_.facilities)
        ok = ok && (std::abs(f.x - x) >= kFacilitySize || std::abs(f.y - y) >= kFacilitySize) &&
             (std::abs(f.x - mx) >= kFacilitySize || std::abs(f.y - my) >= kFacilitySize);
      if (!ok) continue;
      Facility a;
      a.x = x, a.y = y, a.kind = p % 2 == 0 ? kControlCentre : kFactory;
      Facility b = a;
      b.x = mx, b.y = my;
      state_.facilities.push_back(a);
      state_.facilities.push_back(b);
      break;
    }
  }
}

void CodewarsGame::spawn(int team, int type, float x, float y, int squad) {
  Unit u;
  u.x = x, u.y = y;
  u.durability = kMaxDurability;
  u.type = static_cast<uint8_t>(type);
  u.team = static_cast<uint8_t>(team);
  u.alive = 1;
  u.squad = squad;
  if (squad >= 0) set_group(u, squad - team * squads_per_team_ + 1, true);
  state_.units.push_back(u);
  index_->add(static_cast<int>(state_.units.size() - 1), u);
}

void CodewarsGame::place_armies() {
  state_.units.clear();
  rebuild_index();
  struct Placed {
    int type, squad;
    float x, y;
  };
  std::vector<Placed> side;
  if (setup_.size == MapSize::duel) {
    for (int col = 0; col < 5; ++col)
      for (int row = 0; row < 2; ++row)
        side.push_back({col, 0, 24 + (static_cast<float>(col) - 2) * kBlockSpacing,
                        24 + (static_cast<float>(row) - 0.5f) * kBlockSpacing});
  } else {
    const bool full = setup_.size == MapSize::full;
    const auto& centres = full ? kFullSlotCentres : kSmallSlotCentres;
    const int cols = full ? 10 : 5, rows = full ? 10 : 2;
    std::array<int, 9> slot{};
    for (int i = 0; i < 9; ++i) slot[static_cast<size_t>(i)] = i;
    for (int i = 8; i > 0; --i) std::swap(slot[static_cast<size_t>(i)], slot[rng_.below(static_cast<uint32_t>(i + 1))]);
    for (int type = 0; type < kNumTypes; ++type) {
      const int s = slot[static_cast<size_t>(type)];
      const float bx = centres[static_cast<size_t>(s % 3)], by = centres[static_cast<size_t>(s / 3)];
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
          side.push_back({type, type,
                          bx + (static_cast<float>(c) - 0.5f * static_cast<float>(cols - 1)) * kBlockSpacing,
                          by + (static_cast<float>(r) - 0.5f * static_cast<float>(rows - 1)) * kBlockSpacing});
    }
  }
  // Team 1 is team 0's layout rotated by 180 degrees.
  for (int team = 0; team < kNumTeams; ++team)
    for (const auto& p : side)
      spawn(team, p.type, team == 0 ? p.x : world_ - p.x, team == 0 ? p.y : world_ - p.y,
            team * squads_per_team_ + p.squad);
}

void CodewarsGame::reset(uint64_t seed) {
  rng_.seed(seed);
  state_.tick = 0;
  state_.done = 0;
  state_.teams = {};
  generate_map();
  place_armies();
  state_.rng = rng_.state();
}

int CodewarsGame::control_centres(int team) const {
  int n = 0;
  for (const auto& f : state_.facilities) n += (f.kind == kControlCentre && f.owner == team) ? 1 : 0;
  return n;
}

int CodewarsGame::actions_left(int team) const {
  const TeamState& t = state_.teams[static_cast<size_t>(team)];
  int recent = 0;
  for (int k = 0; k < t.action_count; ++k)
    recent += t.action_ticks[static_cast<size_t>((t.action_head + k) % 64)] > state_.tick - kActionWindowTicks ? 1 : 0;
  return kActionsPerWindow + kActionsPerControlCentre * control_centres(team) - recent;
}

bool CodewarsGame::count_action(int team) {
  TeamState& t = state_.teams[static_cast<size_t>(team)];
  while (t.action_count > 0 && t.action_ticks[static_cast<size_t>(t.action_head)] <= state_.tick - kActionWindowTicks) {
    t.action_head = (t.action_head + 1) % 64;
    --t.action_count;
  }
  if (setup_.rate_limit && actions_left(team) <= 0) return false;
  if (t.action_count == 64) {  // only reachable with the limit off: forget the oldest
    t.action_head = (t.action_head + 1) % 64;
    --t.action_count;
  }
  t.action_ticks[static_cast<size_t>((t.action_head + t.action_count) % 64)] = state_.tick;
  ++t.action_count;
  return true;
}

bool CodewarsGame::matches_selection(const Unit& u, int team, const Action& a) const {
  if (!u.alive || u.team != team) return false;
  if (a.group > 0) return in_group(u, a.group);
  return u.x >= a.left && u.x <= a.right && u.y >= a.top && u.y <= a.bottom &&
         (a.vehicle_type < 0 || u.type == a.vehicle_type);
}

ActionStatus CodewarsGame::act(int team, const Action& a) {
  if (team < 0 || team >= kNumTeams) return ActionStatus::invalid;
  const auto finite = [](std::initializer_list<float> v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
  };
  TeamState& ts = state_.teams[static_cast<size_t>(team)];
  const float lo = kVehicleRadius, hi = world_ - kVehicleRadius;
  switch (a.type) {
    case ActionType::none:
      return ActionStatus::ok;
    case ActionType::clear_and_select:
    case ActionType::add_to_selection:
    case ActionType::deselect: {
      if (a.group < 0 || a.group > kMaxGroup || a.vehicle_type < -1 || a.vehicle_type >= kNumTypes)
        return ActionStatus::invalid;
      if (a.group == 0 && (!finite({a.left, a.top, a.right, a.bottom}) || a.left > a.right || a.top > a.bottom))
        return ActionStatus::invalid;
      if (!count_action(team)) return ActionStatus::rate_limited;
      for (auto& u : state_.units) {
        if (u.team != team) continue;
        const bool m = matches_selection(u, team, a);
        if (a.type == ActionType::clear_and_select)
          u.selected = m;
        else if (m)
          u.selected = a.type == ActionType::add_to_selection;
      }
      ts.selected_group = (a.type == ActionType::clear_and_select && a.group > 0) ? a.group : -1;
      return ActionStatus::ok;
    }
    case ActionType::assign:
    case ActionType::dismiss:
    case ActionType::disband: {
      if (a.group < 1 || a.group > kMaxGroup) return ActionStatus::invalid;
      if (!count_action(team)) return ActionStatus::rate_limited;
      for (auto& u : state_.units) {
        if (u.team != team || !u.alive) continue;
        if (a.type == ActionType::disband)
          set_group(u, a.group, false);
        else if (u.selected)
          set_group(u, a.group, a.type == ActionType::assign);
      }
      if (a.type != ActionType::assign) ts.selected_group = -1;
      return ActionStatus::ok;
    }
    case ActionType::move:
    case ActionType::scale:
    case ActionType::rotate: {
      if (!finite({a.x, a.y, a.angle, a.factor, a.max_speed, a.max_angular_speed}) || a.max_speed < 0 ||
          a.max_angular_speed < 0)
        return ActionStatus::invalid;
      if (a.type == ActionType::scale && (a.factor < kMinScale || a.factor > kMaxScale)) return ActionStatus::invalid;
      if (a.type == ActionType::rotate && std::abs(a.angle) > std::numbers::pi_v<float> + 1e-6f)
        return ActionStatus::invalid;
      if (!count_action(team)) return ActionStatus::rate_limited;
      for (auto& u : state_.units) {
        if (u.team != team || !u.alive || !u.selected) continue;
        u.max_speed = a.max_speed;
        u.max_angular_speed = 0;
        if (a.type == ActionType::move) {
          u.order = static_cast<uint8_t>(UnitOrder::move);
          u.tx = clampf(u.x + a.x, lo, hi), u.ty = clampf(u.y + a.y, lo, hi);
        } else if (a.type == ActionType::scale) {
          u.order = static_cast<uint8_t>(UnitOrder::move);
          u.tx = clampf(a.x + a.factor * (u.x - a.x), lo, hi), u.ty = clampf(a.y + a.factor * (u.y - a.y), lo, hi);
        } else {
          u.order = static_cast<uint8_t>(UnitOrder::rotate);
          u.tx = a.x, u.ty = a.y, u.angle_left = a.angle, u.max_angular_speed = a.max_angular_speed;
        }
      }
      return ActionStatus::ok;
    }
    case ActionType::setup_vehicle_production: {
      if (a.facility < 0 || a.facility >= static_cast<int>(state_.facilities.size()) || a.vehicle_type < -1 ||
          a.vehicle_type >= kNumTypes)
        return ActionStatus::invalid;
      Facility& f = state_.facilities[static_cast<size_t>(a.facility)];
      if (f.kind != kFactory || f.owner != team) return ActionStatus::unavailable;
      if (!count_action(team)) return ActionStatus::rate_limited;
      f.production = a.vehicle_type;
      f.progress = 0;
      return ActionStatus::ok;
    }
    case ActionType::tactical_nuclear_strike: {
      if (!finite({a.x, a.y}) || a.vehicle_id < 0 || a.vehicle_id >= static_cast<int>(state_.units.size()))
        return ActionStatus::invalid;
      const Unit& spotter = state_.units[static_cast<size_t>(a.vehicle_id)];
      if (!setup_.nuclear || spotter.team != team || !spotter.alive || ts.strike.land_tick >= 0 ||
          state_.tick < ts.nuke_ready_tick || a.x < 0 || a.x > world_ || a.y < 0 || a.y > world_ ||
          !unit_sees(a.vehicle_id, a.x, a.y))
        return ActionStatus::unavailable;
      if (!count_action(team)) return ActionStatus::rate_limited;
      ts.strike = NuclearStrike{state_.tick + kNukeDelayTicks, a.vehicle_id, a.x, a.y, 0};
      ts.nuke_ready_tick = state_.tick + kNukeCooldownTicks - kNukeCooldownPerControlCentre * control_centres(team);
      return ActionStatus::ok;
    }
  }
  return ActionStatus::invalid;
}

void CodewarsGame::move_units() {
  order_.clear();
  for (size_t i = 0; i < state_.units.size(); ++i)
    if (state_.units[i].alive && state_.units[i].order != static_cast<uint8_t>(UnitOrder::none))
      order_.push_back(static_cast<int32_t>(i));
  for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(static_cast<uint32_t>(i))]);
  const float lo = kVehicleRadius, hi = world_ - kVehicleRadius;
  for (int32_t id : order_) {
    Unit& u = state_.units[static_cast<size_t>(id)];
    float speed = kStats[u.type].speed * speed_factor(u);
    if (u.max_speed > 0) speed = std::min(speed, u.max_speed);
    float nx = u.x, ny = u.y, angle_left = 0;
    bool finishes = false;
    if (u.order == static_cast<uint8_t>(UnitOrder::move)) {
      const float dx = u.tx - u.x, dy = u.ty - u.y, len = std::hypot(dx, dy);
      if (len <= speed) {
        nx = u.tx, ny = u.ty, finishes = true;
      } else {
        nx = u.x + dx / len * speed, ny = u.y + dy / len * speed;
      }
    } else {
      const float rx = u.x - u.tx, ry = u.y - u.ty, r = std::hypot(rx, ry);
      float step = std::abs(u.angle_left);
      if (r > 1e-4f) step = std::min(step, speed / r);
      if (u.max_angular_speed > 0) step = std::min(step, u.max_angular_speed);
      const float turn = u.angle_left < 0 ? -step : step;
      const float c = std::cos(turn), s = std::sin(turn);
      nx = u.tx + rx * c - ry * s, ny = u.ty + rx * s + ry * c;
      angle_left = u.angle_left - turn;
      finishes = std::abs(angle_left) <= 1e-6f;
    }
    nx = clampf(nx, lo, hi), ny = clampf(ny, lo, hi);
    const float dx = nx - u.x, dy = ny - u.y;
    const float a = dx * dx + dy * dy;
    if (a <= 0) {
      if (finishes) u.order = static_cast<uint8_t>(UnitOrder::none), u.angle_left = 0;
      continue;
    }
    // Largest fraction of the move that keeps every colliding centre >= 4 away.
    float allowed = 1;
    const float half = 0.5f * std::max(std::abs(dx), std::abs(dy)) + kMinCentreDistance - kVehicleRadius;
    const unsigned mask =
        is_aerial(u.type) ? layers(u.team, false, true) : layers(0, true, false) | layers(1, true, false);
    index_->query(mask, u.x + dx / 2, u.y + dy / 2, half, [&](int j) {
      if (j == id) return;
      const Unit& o = state_.units[static_cast<size_t>(j)];
      if (!collide(u, o)) return;
      const float wx = u.x - o.x, wy = u.y - o.y;
      const float c = wx * wx + wy * wy - kMinCentreDistance * kMinCentreDistance;
      const float b = 2 * (wx * dx + wy * dy);
      if (c < 0) {  // already overlapping (spawn): only moves that separate are allowed
        if (b < 0) allowed = 0;
        return;
      }
      if (b >= 0) return;
      const float disc = b * b - 4 * a * c;
      if (disc <= 0) return;
      const float t = (-b - std::sqrt(disc)) / (2 * a);
      if (t < allowed) allowed = std::max(0.0f, t);
    });
    if (allowed < 1) {
      // A blocked move waits; a move order advances up to the contact.
      if (u.order == static_cast<uint8_t>(UnitOrder::rotate) || allowed <= kMoveMargin) continue;
      allowed -= kMoveMargin;
      finishes = false;
    }
    u.x += dx * allowed, u.y += dy * allowed;
    if (u.order == static_cast<uint8_t>(UnitOrder::rotate)) u.angle_left = angle_left;
    if (finishes) u.order = static_cast<uint8_t>(UnitOrder::none), u.angle_left = 0;
    index_->move(id, u, dx * allowed, dy * allowed);
  }
}

void CodewarsGame::fight() {
  const size_t n = state_.units.size();
  damage_.assign(n, 0.0f);
  for (size_t i = 0; i < n; ++i) {
    Unit& u = state_.units[i];
    if (!u.alive) continue;
    if (u.cooldown > 0) --u.cooldown;
    if (u.cooldown > 0) continue;
    const VehicleStats& st = kStats[u.type];
    const float reach = std::max(st.range_ground, st.range_air);
    if (reach <= 0) continue;
    candidates_.clear();
    index_->query(layers(1 - u.team, st.range_ground > 0, st.range_air > 0), u.x, u.y, reach + kVehicleRadius,
                  [&](int j) {
                    const Unit& t = state_.units[static_cast<size_t>(j)];
                    if (t.team == u.team || hit_damage(u.type, t.type) <= 0) return;
                    const float r = attack_range(u.type, t.type);
                    if ((t.x - u.x) * (t.x - u.x) + (t.y - u.y) * (t.y - u.y) <= r * r) candidates_.push_back(j);
                  });
    if (candidates_.empty()) continue;
    std::sort(candidates_.begin(), candidates_.end());
    // A random target in range, weighted by the damage it would take.
    float total = 0;
    for (int32_t j : candidates_) total += hit_damage(u.type, state_.units[static_cast<size_t>(j)].type);
    float pick = static_cast<float>(rng_.uniform()) * total;
    int32_t target = candidates_.back();
    for (int32_t j : candidates_) {
      pick -= hit_damage(u.type, state_.units[static_cast<size_t>(j)].type);
      if (pick < 0) {
        target = j;
        break;
      }
    }
    damage_[static_cast<size_t>(target)] += hit_damage(u.type, state_.units[static_cast<size_t>(target)].type);
    u.cooldown = kAttackCooldownTicks;
  }
  for (size_t i = 0; i < n; ++i) {
    if (damage_[i] <= 0) continue;
    Unit& u = state_.units[i];
    u.durability -= damage_[i];
    if (u.durability <= 0) kill(static_cast<int>(i));
  }
}

void CodewarsGame::repair() {
  // The damaged vehicles, per team, as the tick's repairs start (repairs only raise
  // durability, so no vehicle joins them during the loop). Until the armies meet there
  // are none and the ARRVs have nothing to look for; while there are few, each ARRV
  // checks them directly instead of querying the broadphase.
  constexpr size_t kFewDamaged = 64;
  std::array<size_t, kNumTeams> first{}, count{};
  damaged_.clear();
  damaged_.reserve(state_.units.size());  // no allocation while the unit count holds
  for (int team = 0; team < kNumTeams; ++team) {
    first[static_cast<size_t>(team)] = damaged_.size();
    for (size_t j = 0; j < state_.units.size(); ++j) {
      const Unit& t = state_.units[j];
      if (t.alive && t.team == team && t.durability < kMaxDurability) damaged_.push_back(static_cast<int32_t>(j));
    }
    count[static_cast<size_t>(team)] = damaged_.size() - first[static_cast<size_t>(team)];
  }
  for (size_t i = 0; i < state_.units.size(); ++i) {
    const Unit& r = state_.units[i];
    if (!r.alive || r.type != kArrv) continue;
    const auto team = static_cast<size_t>(r.team);
    if (count[team] == 0) continue;
    int best = -1;
    // The most damaged vehicle in range (ties: the lowest id); the visiting order does not matter.
    const auto consider = [&](int j) {
      const Unit& t = state_.units[static_cast<size_t>(j)];
      if (static_cast<size_t>(j) == i || t.team != r.team || t.durability >= kMaxDurability) return;
      if (std::hypot(t.x - r.x, t.y - r.y) > kArrvRepairRange) return;
      const Unit* b = best < 0 ? nullptr : &state_.units[static_cast<size_t>(best)];
      if (!b || t.durability < b->durability || (t.durability == b->durability && j < best)) best = j;
    };
    if (count[team] <= kFewDamaged) {
      for (size_t k = first[team]; k < first[team] + count[team]; ++k) {
        const Unit& t = state_.units[static_cast<size_t>(damaged_[k])];
        if (std::abs(t.x - r.x) <= kArrvRepairRange && std::abs(t.y - r.y) <= kArrvRepairRange) consider(damaged_[k]);
      }
    } else {
      index_->query(layers(r.team, true, true), r.x, r.y, kArrvRepairRange + kVehicleRadius, consider);
    }
    if (best >= 0) {
      Unit& t = state_.units[static_cast<size_t>(best)];
      t.durability = std::min(kMaxDurability, t.durability + kArrvRepairPerTick);
    }
  }
}

void CodewarsGame::facilities_tick() {
  for (auto& f : state_.facilities) {
    std::array<int, kNumTeams> inside{};
    index_->query(layers(0, true, false) | layers(1, true, false), f.x + kFacilitySize / 2, f.y + kFacilitySize / 2,
                  kFacilitySize / 2 + kVehicleRadius, [&](int j) {
                    const Unit& u = state_.units[static_cast<size_t>(j)];
                    if (!is_aerial(u.type) && u.x >= f.x && u.x <= f.x + kFacilitySize && u.y >= f.y &&
                        u.y <= f.y + kFacilitySize)
                      ++inside[u.team];
                  });
    f.capture = clampf(f.capture + kCapturePerVehicleTick * static_cast<float>(inside[0] - inside[1]), -kCaptureFull,
                       kCaptureFull);
    if ((f.owner == 0 && f.capture <= 0) || (f.owner == 1 && f.capture >= 0)) f.owner = -1, f.production = -1;
    const int holder = f.capture >= kCaptureFull ? 0 : f.capture <= -kCaptureFull ? 1 : -1;
    if (holder >= 0 && f.owner != holder) {
      f.owner = holder, f.production = -1, f.progress = 0;
      state_.teams[static_cast<size_t>(holder)].score += kScorePerFacility;
    }
    if (f.kind != kFactory || f.owner < 0 || f.production < 0) continue;
    if (++f.progress < kStats[static_cast<size_t>(f.production)].production_ticks) continue;
    // The new vehicle takes the first free spot of a 6-unit lattice inside the factory
    // (none free: it waits) and joins the squad of its type.
    const int team = f.owner, type = f.production;
    Unit probe;
    probe.type = static_cast<uint8_t>(type), probe.team = static_cast<uint8_t>(team);
    const auto free_at = [&](float x, float y) {
      bool free = true;
      index_->query(kAllLayers, x, y, kMinCentreDistance, [&](int j) {
        const Unit& o = state_.units[static_cast<size_t>(j)];
        if (collide(probe, o) && std::hypot(o.x - x, o.y - y) < kMinCentreDistance) free = false;
      });
      return free;
    };
    bool placed = false;
    for (float y = f.y + 4; y <= f.y + kFacilitySize - 4 && !placed; y += kBlockSpacing)
      for (float x = f.x + 4; x <= f.x + kFacilitySize - 4 && !placed; x += kBlockSpacing) {
        if (!free_at(x, y)) continue;
        spawn(team, type, x, y, team * squads_per_team_ + (squads_per_team_ == kNumTypes ? type : 0));
        f.progress = 0;
        placed = true;
      }
  }
}

void CodewarsGame::kill(int id) {
  Unit& u = state_.units[static_cast<size_t>(id)];
  u.alive = 0;
  u.selected = 0;
  u.durability = 0;
  u.order = 0;
  index_->remove(id);
  state_.teams[static_cast<size_t>(1 - u.team)].score += kScorePerVehicle;
}

void CodewarsGame::nukes_tick() {
  for (auto& team : state_.teams) {
    NuclearStrike& s = team.strike;
    if (s.land_tick < 0) continue;
    if (!unit_sees(s.spotter, s.x, s.y)) {
      s = NuclearStrike{};
      continue;
    }
    if (state_.tick + 1 < s.land_tick) continue;  // lands in the step that reaches land_tick
    candidates_.clear();
    index_->query(kAllLayers, s.x, s.y, kNukeRadius + kVehicleRadius, [&](int j) { candidates_.push_back(j); });
    std::sort(candidates_.begin(), candidates_.end());
    for (int32_t j : candidates_) {
      Unit& u = state_.units[static_cast<size_t>(j)];
      const float d = std::hypot(u.x - s.x, u.y - s.y);
      if (d >= kNukeRadius) continue;
      u.durability -= kNukeCentreDamage * (1 - d / kNukeRadius);
      if (u.durability <= 0) kill(j);
    }
    s = NuclearStrike{};
  }
}

void CodewarsGame::upkeep() {
  if (state_.tick < kUpkeepStartTick || (state_.tick - kUpkeepStartTick) % kUpkeepPeriodTicks != 0) return;
  std::array<int, kNumTeams> alive{};
  for (const auto& u : state_.units) alive[u.team] += u.alive;
  for (int t = 0; t < kNumTeams; ++t)
    state_.teams[static_cast<size_t>(t)].score -=
        std::max(kUpkeepMinPoints, alive[static_cast<size_t>(t)] / kUpkeepVehiclesPerPoint);
}

std::array<double, kNumTeams> CodewarsGame::team_hit_points() const {
  std::array<double, kNumTeams> hp{};
  for (const auto& u : state_.units)
    if (u.alive) hp[u.team] += u.durability;
  return hp;
}

std::array<int, kNumTeams> CodewarsGame::alive_counts() const {
  std::array<int, kNumTeams> alive{};
  for (const auto& u : state_.units) alive[u.team] += u.alive;
  return alive;
}

void CodewarsGame::tick() {
  rng_.set_state(state_.rng);
  move_units();
  fight();
  repair();
  facilities_tick();
  nukes_tick();
  ++state_.tick;
  upkeep();
  const auto alive = alive_counts();
  for (int t = 0; t < kNumTeams; ++t)
    if (alive[static_cast<size_t>(t)] == 0 && alive[static_cast<size_t>(1 - t)] > 0)
      state_.teams[static_cast<size_t>(1 - t)].score += kScoreForArmy;
  state_.done = (alive[0] == 0 || alive[1] == 0) ? 1 : 0;
  state_.rng = rng_.state();
}

// ---- snapshots ---------------------------------------------------------------------------

std::string CodewarsGame::validate(const CodewarsState& s) const {
  const int n = world_cells();
  if (s.world_cells != n) return "world grid size differs";
  const size_t cells = static_cast<size_t>(n) * static_cast<size_t>(n);
  if (s.terrain.size() != cells || s.weather.size() != cells) return "terrain/weather grid has the wrong size";
  for (size_t i = 0; i < cells; ++i)
    if (s.terrain[i] > kForest || s.weather[i] > kRain) return "unknown terrain or weather kind";
  const float w = world_;
  const int squads = kNumTeams * squads_per_team_;
  const auto in = [](float v, float lo, float hi) { return std::isfinite(v) && v >= lo && v <= hi; };
  for (const auto& u : s.units)
    if (u.type >= kNumTypes || u.team >= kNumTeams || u.alive > 1 || u.selected > 1 || u.order > 2 || u.squad < -1 ||
        u.squad >= squads || !in(u.x, 0, w) || !in(u.y, 0, w) || !in(u.durability, -1e6f, 1e6f) ||
        !in(u.tx, -16 * w, 17 * w) || !in(u.ty, -16 * w, 17 * w) || !in(u.angle_left, -1e3f, 1e3f) ||
        !in(u.max_speed, 0, 1e3f) || !in(u.max_angular_speed, 0, 1e3f) || u.cooldown < 0)
      return "unit out of range";
  for (const auto& f : s.facilities)
    if (f.kind < 0 || f.kind > kFactory || f.owner < -1 || f.owner >= kNumTeams || f.production < -1 ||
        f.production >= kNumTypes || !in(f.x, 0, w) || !in(f.y, 0, w) || !in(f.capture, -1e3f, 1e3f) || f.progress < 0)
      return "facility out of range";
  for (const auto& t : s.teams)
    if (t.action_count < 0 || t.action_count > 64 || t.action_head < 0 || t.action_head >= 64 ||
        t.strike.spotter < -1 || t.strike.spotter >= static_cast<int32_t>(s.units.size()) ||
        (t.strike.land_tick >= 0 && t.strike.spotter < 0) || !in(t.strike.x, -w, 2 * w) || !in(t.strike.y, -w, 2 * w) ||
        !std::isfinite(t.score) || t.selected_group < -1 || t.selected_group > 100)
      return "team state out of range";
  return {};
}

void CodewarsGame::load(CodewarsState state) {
  if (const std::string why = validate(state); !why.empty()) throw std::invalid_argument("codewars state: " + why);
  state_ = std::move(state);
  rng_.set_state(state_.rng);
  rebuild_index();
}

MatchResult CodewarsGame::result() const {
  MatchResult r = result_from_scores({state_.teams[0].score, state_.teams[1].score}, state_.tick);
  // Destroying the whole enemy army wins whatever the score.
  const auto alive = alive_counts();
  if (alive[0] > 0 && alive[1] == 0)
    r.winner = 0;
  else if (alive[1] > 0 && alive[0] == 0)
    r.winner = 1;
  return r;
}

}  // namespace ludus::codewars
