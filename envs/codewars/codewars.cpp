// Codewars: rules, movement and collisions on a b2DynamicTree, combat, orders, macro layer,
// observations, snapshots and drawing.
#include "codewars/codewars.hpp"

#include <box2d/b2_collision.h>
#include <box2d/b2_dynamic_tree.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/registry.hpp"

namespace ludus::codewars {

using namespace constants;

namespace {

constexpr uint32_t kSnapshotMagic = 0x31525743;  // "CWR1"
constexpr int kChannels = 17;                    // observation grid channels (see README)
constexpr int kMaxSquads = 5;
constexpr int kSummary = 18 + kMaxSquads;  // squad summary floats
constexpr float kMoveMargin = 1e-4f;       // fraction of a move kept back from a contact

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

// Broadphase over living units: one b2DynamicTree per (team, layer), so that a query only
// walks the units it can concern (enemies for attacks, own side for repairs, ground for
// ground collisions). Rebuilt from the plain state (reset, load, tests), so no history
// carries over; every query's result set is exact and consumers are order-free.
struct CodewarsEnv::Index {
  static constexpr int kTrees = 4;  // tree = team * 2 + (aerial ? 1 : 0)
  std::array<std::unique_ptr<b2DynamicTree>, kTrees> trees;
  std::vector<int32_t> proxy;  // per unit id, -1 if not in a tree

  static int tree_of(const Unit& u) { return u.team * 2 + (is_aerial(u.type) ? 1 : 0); }
  static unsigned mask(int team, bool ground, bool air) {
    return (ground ? 1u << (team * 2) : 0u) | (air ? 1u << (team * 2 + 1) : 0u);
  }
  static constexpr unsigned kAll = 0xF;
  static b2AABB box(float x, float y, float half) {
    b2AABB b;
    b.lowerBound.Set(x - half, y - half);
    b.upperBound.Set(x + half, y + half);
    return b;
  }
  void rebuild(const std::vector<Unit>& units) {
    for (auto& t : trees) t = std::make_unique<b2DynamicTree>();
    proxy.assign(units.size(), -1);
    for (size_t i = 0; i < units.size(); ++i)
      if (units[i].alive) add(static_cast<int>(i), units[i]);
  }
  void add(int id, const Unit& u) {
    if (static_cast<size_t>(id) >= proxy.size()) proxy.resize(static_cast<size_t>(id) + 1, -1);
    proxy[static_cast<size_t>(id)] =
        trees[static_cast<size_t>(tree_of(u))]->CreateProxy(box(u.x, u.y, kVehicleRadius), to_user_data(id));
  }
  void remove(int id, const Unit& u) {
    auto& p = proxy[static_cast<size_t>(id)];
    if (p >= 0) trees[static_cast<size_t>(tree_of(u))]->DestroyProxy(p);
    p = -1;
  }
  void move(int id, const Unit& u, float dx, float dy) {
    trees[static_cast<size_t>(tree_of(u))]->MoveProxy(proxy[static_cast<size_t>(id)], box(u.x, u.y, kVehicleRadius),
                                                      b2Vec2(dx, dy));
  }
  template <class F>
  struct Callback {
    const b2DynamicTree* tree;
    F* f;
    bool QueryCallback(int32 node) {
      (*f)(from_user_data(tree->GetUserData(node)));
      return true;
    }
  };
  // Calls f(unit id) for every unit of the trees in `trees_mask` whose box overlaps
  // [x-half, x+half] x [y-half, y+half] (a superset of the units within `half - 2` of
  // (x, y)), in no particular order.
  template <class F>
  void query(unsigned trees_mask, float x, float y, float half, F&& f) const {
    for (int t = 0; t < kTrees; ++t) {
      if (!(trees_mask >> t & 1u)) continue;
      Callback<std::remove_reference_t<F>> cb{trees[static_cast<size_t>(t)].get(), &f};
      trees[static_cast<size_t>(t)]->Query(&cb, box(x, y, half));
    }
  }
};

CodewarsEnv::CodewarsEnv(CodewarsOptions options) : options_(std::move(options)), index_(std::make_unique<Index>()) {
  const auto on = [&](const std::string& v) { return v == "on" || (v == "auto" && options_.size == "full"); };
  fog_ = on(options_.fog);
  reward_diff_ = options_.reward == "score_diff";
  nuclear_ = on(options_.nuclear);
  facilities_ = on(options_.facilities);
  if (options_.size == "full") {
    world_ = 1024, squads_per_team_ = 5, max_ticks_ = 20000;
  } else if (options_.size == "small") {
    world_ = 256, squads_per_team_ = 5, max_ticks_ = 6000;
  } else if (options_.size == "duel") {
    world_ = 128, squads_per_team_ = 1, max_ticks_ = 3000;
  } else {
    throw ConfigError("codewars: size must be full, small or duel, got '" + options_.size + "'");
  }
  if (options_.max_ticks > 0) max_ticks_ = options_.max_ticks;
  grid_ = options_.obs_grid;
  channels_ = kChannels;
  summary_ = kSummary;
  spec_.name = "codewars";
  spec_.num_teams = kNumTeams;
  spec_.num_agents = kNumTeams * squads_per_team_;
  for (int i = 0; i < spec_.num_agents; ++i) spec_.agent_team.push_back(i / squads_per_team_);
  spec_.obs_shape = {static_cast<int64_t>(channels_) * grid_ * grid_ + summary_};
  spec_.action_space = ActionSpace::discrete(macro::kCount);
  spec_.tick_rate_hz = kTickRateHz;
  spec_.max_ticks = max_ticks_;
  spec_.decision_interval = options_.decision_ticks;
  spec_.validate();
  state_.squad_macro.assign(static_cast<size_t>(spec_.num_agents), 0);
  team_grid_.resize(static_cast<size_t>(kNumTeams * channels_ * grid_ * grid_));
}

CodewarsEnv::~CodewarsEnv() = default;

int CodewarsEnv::cell_of(float x, float y) const {
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

float CodewarsEnv::speed_factor(const Unit& u) const {
  const auto c = static_cast<size_t>(cell_of(u.x, u.y));
  return is_aerial(u.type) ? kWeatherFactors[state_.weather[c]].speed : kTerrainFactors[state_.terrain[c]].speed;
}

bool CodewarsEnv::unit_sees(int unit_id, float x, float y) const {
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

bool CodewarsEnv::sees(int team, float x, float y) const {
  for (size_t i = 0; i < state_.units.size(); ++i)
    if (state_.units[i].team == team && unit_sees(static_cast<int>(i), x, y)) return true;
  return false;
}

void CodewarsEnv::rebuild_index() {
  index_->rebuild(state_.units);
  refresh_map_cache();
}

// ---- map and armies --------------------------------------------------------------------

void CodewarsEnv::generate_map() {
  const int n = static_cast<int>(std::ceil(world_ / kCellSize));
  state_.world_cells = n;
  const size_t cells = static_cast<size_t>(n * n);
  state_.terrain.assign(cells, kPlain);
  state_.weather.assign(cells, kClear);
  // Symmetric under 180 degree rotation: cell i and cell (n*n - 1 - i) are the same kind.
  for (size_t i = 0; i < cells; ++i) {
    const size_t m = cells - 1 - i;
    if (m < i) continue;
    const double t = rng_.uniform(), w = rng_.uniform();
    const uint8_t terrain = !options_.terrain ? kPlain : t < 0.7 ? kPlain : t < 0.85 ? kSwamp : kForest;
    const uint8_t weather = !options_.weather ? kClear : w < 0.7 ? kClear : w < 0.85 ? kCloud : kRain;
    state_.terrain[i] = state_.terrain[m] = terrain;
    state_.weather[i] = state_.weather[m] = weather;
  }
  state_.facilities.clear();
  if (!facilities_) return;
  const int pairs = options_.size == "full" ? 4 : options_.size == "small" ? 1 : 0;
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

void CodewarsEnv::spawn(int team, int type, float x, float y, int squad) {
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

void CodewarsEnv::place_armies() {
  state_.units.clear();
  index_->rebuild(state_.units);
  struct Placed {
    int type, squad;
    float x, y;
  };
  std::vector<Placed> side;
  if (options_.size == "duel") {
    for (int col = 0; col < 5; ++col)
      for (int row = 0; row < 2; ++row)
        side.push_back({col, 0, 24 + (static_cast<float>(col) - 2) * kBlockSpacing,
                        24 + (static_cast<float>(row) - 0.5f) * kBlockSpacing});
  } else {
    const bool full = options_.size == "full";
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

void CodewarsEnv::reset(uint64_t seed, StepView out) {
  rng_.seed(seed);
  state_.tick = 0;
  state_.done = 0;
  state_.teams = {};
  std::fill(state_.squad_macro.begin(), state_.squad_macro.end(), 0);
  generate_map();
  refresh_map_cache();
  place_armies();
  state_.rng = rng_.state();
  observe(out.obs);
  std::fill_n(out.reward, spec_.num_agents, 0.0f);
  *out.terminated = 0;
  *out.truncated = 0;
}

// ---- orders -----------------------------------------------------------------------------

int CodewarsEnv::control_centres(int team) const {
  int n = 0;
  for (const auto& f : state_.facilities) n += (f.kind == kControlCentre && f.owner == team) ? 1 : 0;
  return n;
}

int CodewarsEnv::actions_left(int team) const {
  const TeamState& t = state_.teams[static_cast<size_t>(team)];
  int recent = 0;
  for (int k = 0; k < t.action_count; ++k)
    recent += t.action_ticks[static_cast<size_t>((t.action_head + k) % 64)] > state_.tick - kActionWindowTicks ? 1 : 0;
  return kActionsPerWindow + kActionsPerControlCentre * control_centres(team) - recent;
}

bool CodewarsEnv::count_action(int team) {
  TeamState& t = state_.teams[static_cast<size_t>(team)];
  while (t.action_count > 0 && t.action_ticks[static_cast<size_t>(t.action_head)] <= state_.tick - kActionWindowTicks) {
    t.action_head = (t.action_head + 1) % 64;
    --t.action_count;
  }
  if (options_.rate_limit && actions_left(team) <= 0) return false;
  if (t.action_count == 64) {  // only reachable with the limit off: forget the oldest
    t.action_head = (t.action_head + 1) % 64;
    --t.action_count;
  }
  t.action_ticks[static_cast<size_t>((t.action_head + t.action_count) % 64)] = state_.tick;
  ++t.action_count;
  return true;
}

bool CodewarsEnv::matches_selection(const Unit& u, int team, const Action& a) const {
  if (!u.alive || u.team != team) return false;
  if (a.group > 0) return in_group(u, a.group);
  return u.x >= a.left && u.x <= a.right && u.y >= a.top && u.y <= a.bottom &&
         (a.vehicle_type < 0 || u.type == a.vehicle_type);
}

ActionStatus CodewarsEnv::act(int team, const Action& a) {
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
      if (!nuclear_ || spotter.team != team || !spotter.alive || ts.strike.land_tick >= 0 ||
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

// ---- the macro layer ---------------------------------------------------------------------

void CodewarsEnv::squad_centre(int agent, float& cx, float& cy, int& count) const {
  double sx = 0, sy = 0;
  count = 0;
  for (const auto& u : state_.units)
    if (u.alive && u.squad == agent) sx += u.x, sy += u.y, ++count;
  cx = count ? static_cast<float>(sx / count) : 0;
  cy = count ? static_cast<float>(sy / count) : 0;
}

bool CodewarsEnv::select_group(int team, int group) {
  if (state_.teams[static_cast<size_t>(team)].selected_group == group) return true;
  Action a;
  a.type = ActionType::clear_and_select;
  a.group = group;
  return act(team, a) == ActionStatus::ok;
}

// Best strike point for squad `agent`: among enemy positions its vehicles see (every 7th
// per spotter, at most 64 in all, to bound the cost), the one where the strike's damage
// to enemies minus damage to own vehicles is largest. False when no point is worth it.
bool CodewarsEnv::find_strike(int agent, float& best_x, float& best_y, int& best_spotter) const {
  const int team = agent_team(agent);
  float best = 0;
  int evaluated = 0;
  for (size_t s = 0; s < state_.units.size() && evaluated < 64; ++s) {
    const Unit& su = state_.units[s];
    if (!su.alive || su.squad != agent) continue;
    const float reach = kStats[su.type].vision;
    candidates_.clear();
    index_->query(Index::mask(1 - team, true, true), su.x, su.y, reach, [&](int id) {
      const Unit& e = state_.units[static_cast<size_t>(id)];
      if (e.team != team && unit_sees(static_cast<int>(s), e.x, e.y)) candidates_.push_back(id);
    });
    std::sort(candidates_.begin(), candidates_.end());
    for (size_t k = 0; k < candidates_.size() && evaluated < 64; k += 7, ++evaluated) {
      const Unit& e = state_.units[static_cast<size_t>(candidates_[k])];
      float value = 0;
      index_->query(Index::kAll, e.x, e.y, kNukeRadius, [&](int id) {
        const Unit& v = state_.units[static_cast<size_t>(id)];
        const float d = std::hypot(v.x - e.x, v.y - e.y);
        if (d >= kNukeRadius) return;
        const float dmg = std::min(v.durability, kNukeCentreDamage * (1 - d / kNukeRadius));
        value += v.team == team ? -dmg : dmg;
      });
      if (value > best) best = value, best_x = e.x, best_y = e.y, best_spotter = static_cast<int>(s);
    }
  }
  return best > 0;
}

void CodewarsEnv::issue_macro(int agent, int order) {
  const int team = agent_team(agent);
  const int group = agent - team * squads_per_team_ + 1;
  float cx, cy;
  int count;
  squad_centre(agent, cx, cy, count);
  if (count == 0 || order == macro::kKeep) return;
  const float m = mirror(team);
  if (order == macro::kNuke) {
    float x = 0, y = 0;
    int spotter = -1;
    if (nuclear_ && state_.tick >= state_.teams[static_cast<size_t>(team)].nuke_ready_tick &&
        state_.teams[static_cast<size_t>(team)].strike.land_tick < 0 && find_strike(agent, x, y, spotter)) {
      Action a;
      a.type = ActionType::tactical_nuclear_strike;
      a.x = x, a.y = y, a.vehicle_id = spotter;
      act(team, a);
    }
    return;
  }
  float slowest = 1e9f;
  for (const auto& u : state_.units)
    if (u.alive && u.squad == agent) slowest = std::min(slowest, kStats[u.type].speed);
  const float leg = slowest * static_cast<float>(options_.decision_ticks);
  // Nearest enemy this team can see (fog) or any (no fog).
  int nearest = -1;
  float nearest_d2 = 0;
  for (size_t i = 0; i < state_.units.size(); ++i) {
    const Unit& e = state_.units[i];
    if (!e.alive || e.team == team) continue;
    const float d2 = (e.x - cx) * (e.x - cx) + (e.y - cy) * (e.y - cy);
    if (nearest >= 0 && d2 >= nearest_d2) continue;
    if (fog_ && !sees(team, e.x, e.y)) continue;
    nearest = static_cast<int>(i), nearest_d2 = d2;
  }
  Action a;
  a.type = ActionType::move;
  a.max_speed = slowest;
  if (order == macro::kHold) {
    a.x = a.y = 0;
  } else if (order >= macro::kDirFirst && order < macro::kDirFirst + 8) {
    const double angle = (order - macro::kDirFirst) * std::numbers::pi / 4;
    a.x = m * leg * static_cast<float>(std::cos(angle));
    a.y = m * leg * static_cast<float>(std::sin(angle));
  } else if ((order == macro::kAttack || order == macro::kRetreat) && nearest < 0) {
    // Nothing in sight: advance (or fall back) one leg along the line to the squad's
    // mirror point, where the enemy started.
    const float dx = world_ - 2 * cx, dy = world_ - 2 * cy, d = std::max(1e-3f, std::hypot(dx, dy));
    const float sign = order == macro::kAttack ? 1.0f : -1.0f;
    a.x = sign * dx / d * leg, a.y = sign * dy / d * leg;
  } else if (order == macro::kAttack || order == macro::kRetreat) {
    const Unit& e = state_.units[static_cast<size_t>(nearest)];
    if (order == macro::kAttack) {
      double sx = 0, sy = 0;
      int n = 0;
      index_->query(Index::mask(1 - team, true, true), e.x, e.y, 40.0f, [&](int id) {
        const Unit& o = state_.units[static_cast<size_t>(id)];
        if (o.team != team && std::hypot(o.x - e.x, o.y - e.y) <= 40.0f) sx += o.x, sy += o.y, ++n;
      });
      a.x = static_cast<float>(sx / n) - cx, a.y = static_cast<float>(sy / n) - cy;
    } else {
      const float d = std::max(1e-3f, std::sqrt(nearest_d2));
      a.x = (cx - e.x) / d * leg, a.y = (cy - e.y) / d * leg;
    }
  } else if (order == macro::kConcentrate || order == macro::kSpread) {
    a.type = ActionType::scale;
    a.x = cx, a.y = cy;
    a.factor = order == macro::kConcentrate ? 0.5f : 1.5f;
  } else if (order == macro::kCapture) {
    float best = 1e30f;
    for (const auto& f : state_.facilities) {
      if (f.owner == team) continue;
      const float fx = f.x + kFacilitySize / 2, fy = f.y + kFacilitySize / 2;
      const float d = std::hypot(fx - cx, fy - cy);
      if (d < best) best = d, a.x = fx - cx, a.y = fy - cy;
    }
    if (best == 1e30f) a.x = a.y = 0;
  }
  if (!select_group(team, group)) return;
  act(team, a);
}

void CodewarsEnv::apply_macro(const float* actions) {
  if (state_.tick % options_.decision_ticks != 0) return;
  for (int i = 0; i < spec_.num_agents; ++i) {
    const int order = std::clamp(static_cast<int>(actions[i]), 0, macro::kCount - 1);
    state_.squad_macro[static_cast<size_t>(i)] = order;
    issue_macro(i, order);
  }
  // Factories the team holds but leaves idle build the type it has fewest of.
  for (size_t f = 0; f < state_.facilities.size(); ++f) {
    const Facility& fac = state_.facilities[f];
    if (fac.kind != kFactory || fac.owner < 0 || fac.production >= 0) continue;
    std::array<int, kNumTypes> have{};
    for (const auto& u : state_.units)
      if (u.alive && u.team == fac.owner) ++have[u.type];
    Action a;
    a.type = ActionType::setup_vehicle_production;
    a.facility = static_cast<int>(f);
    a.vehicle_type = static_cast<int>(std::min_element(have.begin(), have.end()) - have.begin());
    act(fac.owner, a);
  }
}

// ---- the tick -------------------------------------------------------------------------------

void CodewarsEnv::move_units() {
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
    const unsigned layers = is_aerial(u.type) ? Index::mask(u.team, false, true)
                                              : Index::mask(0, true, false) | Index::mask(1, true, false);
    index_->query(layers, u.x + dx / 2, u.y + dy / 2, half, [&](int j) {
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

void CodewarsEnv::fight() {
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
    index_->query(Index::mask(1 - u.team, st.range_ground > 0, st.range_air > 0), u.x, u.y, reach + kVehicleRadius,
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

void CodewarsEnv::repair() {
  for (size_t i = 0; i < state_.units.size(); ++i) {
    const Unit& r = state_.units[i];
    if (!r.alive || r.type != kArrv) continue;
    int best = -1;
    index_->query(Index::mask(r.team, true, true), r.x, r.y, kArrvRepairRange + kVehicleRadius, [&](int j) {
      const Unit& t = state_.units[static_cast<size_t>(j)];
      if (static_cast<size_t>(j) == i || t.team != r.team || t.durability >= kMaxDurability) return;
      if (std::hypot(t.x - r.x, t.y - r.y) > kArrvRepairRange) return;
      const Unit* b = best < 0 ? nullptr : &state_.units[static_cast<size_t>(best)];
      if (!b || t.durability < b->durability || (t.durability == b->durability && j < best)) best = j;
    });
    if (best >= 0) {
      Unit& t = state_.units[static_cast<size_t>(best)];
      t.durability = std::min(kMaxDurability, t.durability + kArrvRepairPerTick);
    }
  }
}

void CodewarsEnv::facilities_tick() {
  for (auto& f : state_.facilities) {
    std::array<int, kNumTeams> inside{};
    index_->query(Index::mask(0, true, false) | Index::mask(1, true, false), f.x + kFacilitySize / 2,
                  f.y + kFacilitySize / 2, kFacilitySize / 2 + kVehicleRadius, [&](int j) {
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
      index_->query(Index::kAll, x, y, kMinCentreDistance, [&](int j) {
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

void CodewarsEnv::kill(int id) {
  Unit& u = state_.units[static_cast<size_t>(id)];
  u.alive = 0;
  u.selected = 0;
  u.durability = 0;
  u.order = 0;
  index_->remove(id, u);
  state_.teams[static_cast<size_t>(1 - u.team)].score += kScorePerVehicle;
}

void CodewarsEnv::nukes_tick() {
  for (auto& team : state_.teams) {
    NuclearStrike& s = team.strike;
    if (s.land_tick < 0) continue;
    if (!unit_sees(s.spotter, s.x, s.y)) {
      s = NuclearStrike{};
      continue;
    }
    if (state_.tick + 1 < s.land_tick) continue;  // lands in the step that reaches land_tick
    candidates_.clear();
    index_->query(Index::kAll, s.x, s.y, kNukeRadius + kVehicleRadius, [&](int j) { candidates_.push_back(j); });
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

void CodewarsEnv::upkeep() {
  if (state_.tick < kUpkeepStartTick || (state_.tick - kUpkeepStartTick) % kUpkeepPeriodTicks != 0) return;
  std::array<int, kNumTeams> alive{};
  for (const auto& u : state_.units) alive[u.team] += u.alive;
  for (int t = 0; t < kNumTeams; ++t)
    state_.teams[static_cast<size_t>(t)].score -=
        std::max(kUpkeepMinPoints, alive[static_cast<size_t>(t)] / kUpkeepVehiclesPerPoint);
}

std::array<double, kNumTeams> CodewarsEnv::team_hit_points() const {
  std::array<double, kNumTeams> hp{};
  for (const auto& u : state_.units)
    if (u.alive) hp[u.team] += u.durability;
  return hp;
}

void CodewarsEnv::step(const float* actions, StepView out) {
  rng_.set_state(state_.rng);
  std::array<double, kNumTeams> before{}, hp_before{};
  for (int t = 0; t < kNumTeams; ++t) before[static_cast<size_t>(t)] = state_.teams[static_cast<size_t>(t)].score;
  if (options_.damage_reward > 0) hp_before = team_hit_points();
  apply_macro(actions);
  move_units();
  fight();
  repair();
  facilities_tick();
  nukes_tick();
  ++state_.tick;
  upkeep();
  std::array<int, kNumTeams> alive{};
  for (const auto& u : state_.units) alive[u.team] += u.alive;
  for (int t = 0; t < kNumTeams; ++t)
    if (alive[static_cast<size_t>(t)] == 0 && alive[static_cast<size_t>(1 - t)] > 0)
      state_.teams[static_cast<size_t>(1 - t)].score += kScoreForArmy;
  state_.done = (alive[0] == 0 || alive[1] == 0) ? 1 : 0;
  state_.rng = rng_.state();
  std::array<double, kNumTeams> hp_lost{};
  if (options_.damage_reward > 0) {
    const auto hp = team_hit_points();
    for (size_t t = 0; t < kNumTeams; ++t) hp_lost[t] = hp_before[t] - hp[t];
  }
  for (int i = 0; i < spec_.num_agents; ++i) {
    const auto t = static_cast<size_t>(agent_team(i));
    const double own = state_.teams[t].score - before[t], other = state_.teams[1 - t].score - before[1 - t];
    const double shaping = options_.damage_reward * (hp_lost[1 - t] - hp_lost[t]) / 100.0;
    out.reward[i] = static_cast<float>((reward_diff_ ? own - other : own) + shaping);
  }
  *out.terminated = state_.done;
  *out.truncated = (!state_.done && state_.tick >= max_ticks_) ? 1 : 0;
  // Observations only where an agent acts on them (env.hpp): most of a tick's cost otherwise.
  if (observations_due(state_.tick, options_.decision_ticks, *out.terminated || *out.truncated)) observe(out.obs);
}

// ---- observations ------------------------------------------------------------------------

void CodewarsEnv::refresh_map_cache() {
  const int g = grid_;
  const size_t plane = static_cast<size_t>(g * g);
  map_cache_.assign(static_cast<size_t>(kNumTeams) * 6 * plane, 0.0f);
  const float cell = world_ / static_cast<float>(g);
  for (int team = 0; team < kNumTeams; ++team) {
    float* out = map_cache_.data() + static_cast<size_t>(team) * 6 * plane;
    const bool mirrored = team == 1;
    const auto world_cell = [&](float lx, float ly) {
      return static_cast<size_t>(cell_of(mirrored ? world_ - lx : lx, mirrored ? world_ - ly : ly));
    };
    for (int gy = 0; gy < g; ++gy)
      for (int gx = 0; gx < g; ++gx) {
        const size_t k = static_cast<size_t>(gy * g + gx);
        // Terrain and weather: fraction of the cell, sampled 4 x 4.
        for (int sy = 0; sy < 4; ++sy)
          for (int sx = 0; sx < 4; ++sx) {
            const size_t c = world_cell((static_cast<float>(gx) + (static_cast<float>(sx) + 0.5f) / 4) * cell,
                                        (static_cast<float>(gy) + (static_cast<float>(sy) + 0.5f) / 4) * cell);
            const uint8_t tr = state_.terrain[c], we = state_.weather[c];
            out[0 * plane + k] += tr == kSwamp ? 1.0f / 16 : 0.0f;
            out[1 * plane + k] += tr == kForest ? 1.0f / 16 : 0.0f;
            out[2 * plane + k] += we == kCloud ? 1.0f / 16 : 0.0f;
            out[3 * plane + k] += we == kRain ? 1.0f / 16 : 0.0f;
          }
        // Stealth factor at the cell centre, against ground and against aerial observers.
        const size_t c = world_cell((static_cast<float>(gx) + 0.5f) * cell, (static_cast<float>(gy) + 0.5f) * cell);
        out[4 * plane + k] = kTerrainFactors[state_.terrain[c]].stealth;
        out[5 * plane + k] = kWeatherFactors[state_.weather[c]].stealth;
      }
  }
}

void CodewarsEnv::build_team_grids() const {
  const int g = grid_;
  const size_t plane = static_cast<size_t>(g * g);
  std::fill(team_grid_.begin(), team_grid_.end(), 0.0f);
  const float cell = world_ / static_cast<float>(g);
  // A vehicle's share of a cell at the densest packing (centres 4 apart) is 16 / area.
  const float density = 16.0f / (cell * cell);
  for (int team = 0; team < kNumTeams; ++team) {
    float* grid = team_grid_.data() + static_cast<size_t>(team) * kChannels * plane;
    const float m = mirror(team);
    const auto local = [&](float x, float y, int& gx, int& gy) {
      const float mx = m > 0 ? x : world_ - x, my = m > 0 ? y : world_ - y;
      gx = std::clamp(static_cast<int>(mx / cell), 0, g - 1), gy = std::clamp(static_cast<int>(my / cell), 0, g - 1);
    };
    std::copy_n(map_cache_.data() + static_cast<size_t>(team) * 6 * plane, 4 * plane, grid + 10 * plane);
    const float* stealth = map_cache_.data() + (static_cast<size_t>(team) * 6 + 4) * plane;  // ground, air
    // Visibility: a cell is visible when an own vehicle sees its centre (vision x own
    // cell's vision factor x the centre's stealth factor for the vehicle's layer).
    float* vis = grid + 14 * plane;
    for (const auto& u : state_.units) {
      if (!u.alive || u.team != team) continue;
      const auto own = static_cast<size_t>(cell_of(u.x, u.y));
      const bool air = is_aerial(u.type);
      const float r = kStats[u.type].vision *
                      (air ? kWeatherFactors[state_.weather[own]].vision : kTerrainFactors[state_.terrain[own]].vision);
      const float* st = stealth + (air ? plane : 0);
      int x0, y0, x1, y1;
      local(u.x - r * m, u.y - r * m, x0, y0);
      local(u.x + r * m, u.y + r * m, x1, y1);
      const float ux = m > 0 ? u.x : world_ - u.x, uy = m > 0 ? u.y : world_ - u.y;
      for (int gy = std::min(y0, y1); gy <= std::max(y0, y1); ++gy)
        for (int gx = std::min(x0, x1); gx <= std::max(x0, x1); ++gx) {
          const size_t k = static_cast<size_t>(gy * g + gx);
          if (vis[k] > 0) continue;
          const float dx = (static_cast<float>(gx) + 0.5f) * cell - ux,
                      dy = (static_cast<float>(gy) + 0.5f) * cell - uy;
          const float reach = r * st[k];
          if (dx * dx + dy * dy <= reach * reach) vis[k] = 1;
        }
    }
    for (const auto& u : state_.units) {
      if (!u.alive) continue;
      int gx, gy;
      local(u.x, u.y, gx, gy);
      const size_t k = static_cast<size_t>(gy * g + gx);
      if (u.team == team) {
        grid[u.type * plane + k] += density;
      } else if (!fog_ || vis[k] > 0) {
        grid[(5 + u.type) * plane + k] += density;
      }
    }
    for (size_t k = 0; k < 10 * plane; ++k) grid[k] = std::min(grid[k], 1.0f);
    for (const auto& f : state_.facilities) {
      int gx, gy;
      local(f.x + kFacilitySize / 2, f.y + kFacilitySize / 2, gx, gy);
      const float held = f.capture / kCaptureFull * (team == 0 ? 1.0f : -1.0f);
      grid[15 * plane + static_cast<size_t>(gy * g + gx)] =
          f.owner < 0 ? 0.5f * held : (f.owner == team ? 1.0f : -1.0f);
    }
    for (int t = 0; t < kNumTeams; ++t) {
      const NuclearStrike& s = state_.teams[static_cast<size_t>(t)].strike;
      if (s.land_tick < 0) continue;
      for (int gy = 0; gy < g; ++gy)
        for (int gx = 0; gx < g; ++gx) {
          const float lx = (static_cast<float>(gx) + 0.5f) * cell, ly = (static_cast<float>(gy) + 0.5f) * cell;
          const float wx = m > 0 ? lx : world_ - lx, wy = m > 0 ? ly : world_ - ly;
          if (std::hypot(wx - s.x, wy - s.y) < kNukeRadius + cell * 0.71f)
            grid[16 * plane + static_cast<size_t>(gy * g + gx)] = t == team ? 1.0f : -1.0f;
        }
    }
  }
}

bool CodewarsEnv::visible_cell(int team, float x, float y) const {
  const float cell = world_ / static_cast<float>(grid_);
  const float mx = team == 0 ? x : world_ - x, my = team == 0 ? y : world_ - y;
  const int gx = std::clamp(static_cast<int>(mx / cell), 0, grid_ - 1),
            gy = std::clamp(static_cast<int>(my / cell), 0, grid_ - 1);
  const size_t plane = static_cast<size_t>(grid_ * grid_);
  return team_grid_[(static_cast<size_t>(team) * kChannels + 14) * plane + static_cast<size_t>(gy * grid_ + gx)] > 0;
}

void CodewarsEnv::observe(float* obs) const {
  build_team_grids();
  const size_t grid_floats = static_cast<size_t>(kChannels * grid_ * grid_);
  const auto dim = static_cast<size_t>(spec_.obs_dim());
  for (int i = 0; i < spec_.num_agents; ++i) {
    const int team = agent_team(i);
    const float m = mirror(team);
    float* o = obs + static_cast<size_t>(i) * dim;
    std::copy_n(team_grid_.data() + static_cast<size_t>(team) * grid_floats, grid_floats, o);
    o += grid_floats;
    int alive = 0, total = 0;
    double hp = 0, sx = 0, sy = 0;
    std::array<int, kNumTypes> types{};
    for (const auto& u : state_.units) {
      if (u.squad != i) continue;
      ++total;
      if (!u.alive) continue;
      ++alive, hp += u.durability, sx += u.x, sy += u.y, ++types[u.type];
    }
    const float cx = alive ? static_cast<float>(sx / alive) : 0, cy = alive ? static_cast<float>(sy / alive) : 0;
    double spread = 0;
    float nearest = 1e30f, ndx = 0, ndy = 0;
    for (const auto& u : state_.units) {
      if (!u.alive) continue;
      if (u.squad == i) spread += (u.x - cx) * (u.x - cx) + (u.y - cy) * (u.y - cy);
      if (u.team != team && alive) {
        const float d = std::hypot(u.x - cx, u.y - cy);
        if (d < nearest && (!fog_ || visible_cell(team, u.x, u.y))) nearest = d, ndx = u.x - cx, ndy = u.y - cy;
      }
    }
    const TeamState& ts = state_.teams[static_cast<size_t>(team)];
    const TeamState& os = state_.teams[static_cast<size_t>(1 - team)];
    *o++ = total ? static_cast<float>(alive) / static_cast<float>(total) : 0;
    *o++ = alive ? static_cast<float>(hp / alive) / kMaxDurability : 0;
    *o++ = alive ? (m > 0 ? cx : world_ - cx) / world_ * 2 - 1 : 0;
    *o++ = alive ? (m > 0 ? cy : world_ - cy) / world_ * 2 - 1 : 0;
    *o++ = alive ? std::min(1.0f, static_cast<float>(std::sqrt(spread / alive)) / (world_ / 4)) : 0;
    for (int t = 0; t < kNumTypes; ++t)
      *o++ = alive ? static_cast<float>(types[static_cast<size_t>(t)]) / static_cast<float>(alive) : 0;
    const bool seen = nearest < 1e29f;
    *o++ = seen ? m * ndx / world_ : 0;
    *o++ = seen ? m * ndy / world_ : 0;
    *o++ = seen ? std::min(1.0f, nearest / world_) : 1;
    *o++ = (nuclear_ && ts.strike.land_tick < 0 && state_.tick >= ts.nuke_ready_tick) ? 1.0f : 0.0f;
    *o++ = std::clamp(static_cast<float>(actions_left(team)) / kActionsPerWindow, 0.0f, 1.0f);
    *o++ = 1.0f - static_cast<float>(state_.tick) / static_cast<float>(max_ticks_);
    *o++ = static_cast<float>(std::tanh((ts.score - os.score) / 100.0));
    *o++ = static_cast<float>(state_.squad_macro[static_cast<size_t>(i)]) / macro::kCount;
    const int slot = i - team * squads_per_team_;
    for (int s = 0; s < kMaxSquads; ++s) *o++ = s == slot ? 1.0f : 0.0f;
  }
}

// ---- snapshots ---------------------------------------------------------------------------

void CodewarsEnv::save_state(std::vector<uint8_t>& out) const {
  out.clear();
  ByteWriter w(out);
  w.put<uint32_t>(kSnapshotMagic);
  w.put_string(options_.size);
  w.put<uint8_t>(static_cast<uint8_t>(fog_ | (nuclear_ << 1) | (facilities_ << 2)));
  w.put<int64_t>(state_.tick);
  w.put<int32_t>(state_.world_cells);
  w.put<uint8_t>(state_.done);
  w.put_array<uint8_t>(state_.terrain);
  w.put_array<uint8_t>(state_.weather);
  w.put_array<Unit>(state_.units);
  w.put_array<Facility>(state_.facilities);
  for (const auto& t : state_.teams) w.put<TeamState>(t);
  w.put_array<int32_t>(state_.squad_macro);
  for (uint64_t r : state_.rng) w.put<uint64_t>(r);
}

void CodewarsEnv::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "codewars snapshot");
  if (r.get<uint32_t>() != kSnapshotMagic) r.fail("not a codewars snapshot");
  const std::string size = r.get_string(16);
  if (size != options_.size) r.fail("snapshot is of size '" + size + "', this env is '" + options_.size + "'");
  if (r.get<uint8_t>() != static_cast<uint8_t>(fog_ | (nuclear_ << 1) | (facilities_ << 2)))
    r.fail("snapshot has different fog/nuclear/facilities options");
  CodewarsState s;
  s.tick = r.get<int64_t>();
  s.world_cells = r.get<int32_t>();
  s.done = r.get<uint8_t>();
  if (s.world_cells != static_cast<int32_t>(std::ceil(world_ / kCellSize))) r.fail("world grid size differs");
  const size_t cells = static_cast<size_t>(s.world_cells * s.world_cells);
  r.get_array(s.terrain, cells);
  r.get_array(s.weather, cells);
  if (s.terrain.size() != cells || s.weather.size() != cells) r.fail("terrain/weather grid has the wrong size");
  for (size_t i = 0; i < cells; ++i)
    if (s.terrain[i] > kForest || s.weather[i] > kRain) r.fail("unknown terrain or weather kind");
  r.get_array(s.units, 1u << 16);
  r.get_array(s.facilities, 16);
  for (auto& t : s.teams) t = r.get<TeamState>();
  r.get_array(s.squad_macro, static_cast<uint64_t>(spec_.num_agents));
  for (uint64_t& v : s.rng) v = r.get<uint64_t>();
  r.expect_end();
  if (s.tick < 0 || s.tick > max_ticks_) r.fail("tick out of range");
  if (s.squad_macro.size() != static_cast<size_t>(spec_.num_agents)) r.fail("squad count differs");
  // Every value within what the rules can produce: a snapshot is refused rather than fed
  // to the tick as NaNs, infinities or out-of-range indices.
  const float w = world_;
  const auto in = [](float v, float lo, float hi) { return std::isfinite(v) && v >= lo && v <= hi; };
  for (const auto& u : s.units)
    if (u.type >= kNumTypes || u.team >= kNumTeams || u.alive > 1 || u.selected > 1 || u.order > 2 || u.squad < -1 ||
        u.squad >= spec_.num_agents || !in(u.x, 0, w) || !in(u.y, 0, w) || !in(u.durability, -1e6f, 1e6f) ||
        !in(u.tx, -16 * w, 17 * w) || !in(u.ty, -16 * w, 17 * w) || !in(u.angle_left, -1e3f, 1e3f) ||
        !in(u.max_speed, 0, 1e3f) || !in(u.max_angular_speed, 0, 1e3f) || u.cooldown < 0)
      r.fail("unit out of range");
  for (const auto& f : s.facilities)
    if (f.kind < 0 || f.kind > kFactory || f.owner < -1 || f.owner >= kNumTeams || f.production < -1 ||
        f.production >= kNumTypes || !in(f.x, 0, w) || !in(f.y, 0, w) || !in(f.capture, -1e3f, 1e3f) || f.progress < 0)
      r.fail("facility out of range");
  for (const auto& t : s.teams)
    if (t.action_count < 0 || t.action_count > 64 || t.action_head < 0 || t.action_head >= 64 ||
        t.strike.spotter < -1 || t.strike.spotter >= static_cast<int32_t>(s.units.size()) ||
        (t.strike.land_tick >= 0 && t.strike.spotter < 0) || !in(t.strike.x, -w, 2 * w) || !in(t.strike.y, -w, 2 * w) ||
        !std::isfinite(t.score) || t.selected_group < -1 || t.selected_group > 100)
      r.fail("team state out of range");
  for (const int32_t m : s.squad_macro)
    if (m < 0 || m >= spec_.action_space.nvec[0]) r.fail("squad order out of range");
  state_ = std::move(s);
  rng_.set_state(state_.rng);
  rebuild_index();
}

// ---- drawing and results ------------------------------------------------------------------

void CodewarsEnv::draw(Frame& frame) const {
  frame.clear();
  frame.dims = 2;
  frame.tick = state_.tick;
  const float b[6] = {0, world_, 0, world_, 0, 0};
  std::copy(b, b + 6, frame.bounds);
  frame.scores = {state_.teams[0].score, state_.teams[1].score};
  const auto rect = [&](float x0, float y0, float x1, float y1, Rgba c, bool filled, int team = -1) {
    const float p[12] = {x0, y0, 0, x1, y0, 0, x1, y1, 0, x0, y1, 0};
    frame.polygon(p, 4, c, filled, team);
  };
  rect(0, 0, world_, world_, Rgba{34, 38, 30, 255}, true);
  const int n = state_.world_cells;
  for (int cy = 0; cy < n; ++cy)
    for (int cx = 0; cx < n; ++cx) {
      const auto c = static_cast<size_t>(cy * n + cx);
      const float x0 = static_cast<float>(cx) * kCellSize, y0 = static_cast<float>(cy) * kCellSize;
      const float x1 = std::min(world_, x0 + kCellSize), y1 = std::min(world_, y0 + kCellSize);
      if (state_.terrain[c] == kSwamp) rect(x0, y0, x1, y1, Rgba{52, 70, 78, 255}, true);
      if (state_.terrain[c] == kForest) rect(x0, y0, x1, y1, Rgba{28, 64, 30, 255}, true);
      if (state_.weather[c] == kCloud) rect(x0, y0, x1, y1, Rgba{200, 200, 210, 50}, true);
      if (state_.weather[c] == kRain) rect(x0, y0, x1, y1, Rgba{90, 110, 170, 80}, true);
    }
  for (const auto& f : state_.facilities) {
    const Rgba c = f.owner < 0 ? Rgba{200, 200, 200, 255} : team_color(f.owner);
    rect(f.x, f.y, f.x + kFacilitySize, f.y + kFacilitySize, c, false);
    const float bar = std::abs(f.capture) / kCaptureFull * kFacilitySize;
    frame.line2d(f.x, f.y - 3, f.x + bar, f.y - 3, f.capture >= 0 ? team_color(0) : team_color(1), 2);
    frame.label(f.x + 4, f.y + 12, 0, f.kind == kControlCentre ? "CC" : "F", c, 8);
  }
  const float r = kVehicleRadius;
  for (const auto& u : state_.units) {
    if (!u.alive) continue;
    const Rgba c = team_color(u.team);
    switch (u.type) {
      case kTank:
        rect(u.x - r, u.y - r, u.x + r, u.y + r, c, true, u.team);
        break;
      case kIfv: {
        const float p[9] = {u.x, u.y - r, 0, u.x + r, u.y + r, 0, u.x - r, u.y + r, 0};
        frame.polygon(p, 3, c, true, u.team);
        break;
      }
      case kArrv:
        frame.circle(u.x, u.y, r, c, u.team, false);
        break;
      case kHelicopter:
        frame.circle(u.x, u.y, r, c, u.team, true);
        break;
      default: {
        const float p[12] = {u.x, u.y - r, 0, u.x + r, u.y, 0, u.x, u.y + r, 0, u.x - r, u.y, 0};
        frame.polygon(p, 4, c, false, u.team);
      }
    }
    if (u.durability < kMaxDurability)
      frame.line2d(u.x - r, u.y - r - 1, u.x - r + 2 * r * u.durability / kMaxDurability, u.y - r - 1,
                   Rgba{90, 230, 90, 255}, 1);
  }
  // Orders: one arrow per squad from its centre to the centre of its move targets.
  for (int agent = 0; agent < spec_.num_agents; ++agent) {
    double sx = 0, sy = 0, tx = 0, ty = 0;
    int n_moving = 0;
    for (const auto& u : state_.units)
      if (u.alive && u.squad == agent && u.order == static_cast<uint8_t>(UnitOrder::move))
        sx += u.x, sy += u.y, tx += u.tx, ty += u.ty, ++n_moving;
    if (!n_moving) continue;
    const float x0 = static_cast<float>(sx / n_moving), y0 = static_cast<float>(sy / n_moving);
    const float x1 = static_cast<float>(tx / n_moving), y1 = static_cast<float>(ty / n_moving);
    const float len = std::hypot(x1 - x0, y1 - y0);
    if (len < 1) continue;
    const Rgba c{255, 240, 120, 200};
    frame.line2d(x0, y0, x1, y1, c, 1.5f);
    const float ux = (x1 - x0) / len, uy = (y1 - y0) / len, head = std::min(8.0f, len / 2);
    frame.line2d(x1, y1, x1 - head * (ux - 0.5f * uy), y1 - head * (uy + 0.5f * ux), c, 1.5f);
    frame.line2d(x1, y1, x1 - head * (ux + 0.5f * uy), y1 - head * (uy - 0.5f * ux), c, 1.5f);
  }
  for (int t = 0; t < kNumTeams; ++t) {
    const NuclearStrike& s = state_.teams[static_cast<size_t>(t)].strike;
    if (s.land_tick < 0) continue;
    frame.circle(s.x, s.y, kNukeRadius, Rgba{255, 120, 20, 255}, t, false);
    frame.circle(s.x, s.y, 3, Rgba{255, 60, 20, 255}, t, true);
    const Unit& sp = state_.units[static_cast<size_t>(s.spotter)];
    frame.line2d(sp.x, sp.y, s.x, s.y, Rgba{255, 120, 20, 160}, 1);
  }
}

MatchResult CodewarsEnv::result() const {
  MatchResult r = result_from_scores({state_.teams[0].score, state_.teams[1].score}, state_.tick);
  // Destroying the whole enemy army wins whatever the score.
  std::array<int, kNumTeams> alive{};
  for (const auto& u : state_.units) alive[u.team] += u.alive;
  if (alive[0] > 0 && alive[1] == 0)
    r.winner = 0;
  else if (alive[1] > 0 && alive[0] == 0)
    r.winner = 1;
  return r;
}

}  // namespace ludus::codewars

LUDUS_REGISTER_ENV("codewars", ludus::codewars::CodewarsEnv, ludus::codewars::CodewarsOptions,
                   "swarm RTS after Russian AI Cup 2017: armies of 5 vehicle types under group orders (Box2D tree)");
