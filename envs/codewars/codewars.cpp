// Codewars env: options to rules, the macro-order layer, observations, rewards, snapshots
// and drawing, over the rules in codewars/game.cpp.
#include "codewars/codewars.hpp"

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

// Planes of the per-team map cache (terrain and weather do not change in a game).
enum MapPlane : int { kMapSwamp, kMapForest, kMapCloud, kMapRain, kMapStealthGround, kMapStealthAir, kMapPlanes };

GameSetup setup_from(const CodewarsOptions& o) {
  GameSetup g;
  if (o.size == "full")
    g.size = MapSize::full;
  else if (o.size == "small")
    g.size = MapSize::small;
  else if (o.size == "duel")
    g.size = MapSize::duel;
  else
    throw ConfigError("codewars: size must be full, small or duel, got '" + o.size + "'");
  const auto on = [&](const std::string& v) { return v == "on" || (v == "auto" && g.size == MapSize::full); };
  g.nuclear = on(o.nuclear);
  g.facilities = on(o.facilities);
  g.terrain = o.terrain;
  g.weather = o.weather;
  g.rate_limit = o.rate_limit;
  g.broadphase = o.broadphase == "box2d" ? Broadphase::box2d : Broadphase::grid;
  return g;
}

}  // namespace

CodewarsEnv::CodewarsEnv(CodewarsOptions options) : options_(std::move(options)), game_(setup_from(options_)) {
  fog_ = options_.fog == "on" || (options_.fog == "auto" && options_.size == "full");
  reward_diff_ = options_.reward == "score_diff";
  world_ = game_.world_size();
  squads_per_team_ = game_.squads_per_team();
  max_ticks_ = options_.max_ticks > 0                 ? options_.max_ticks
               : game_.setup().size == MapSize::full  ? 20000
               : game_.setup().size == MapSize::small ? 6000
                                                      : 3000;
  grid_ = options_.obs_grid;
  spec_.name = "codewars";
  spec_.num_teams = kNumTeams;
  spec_.num_agents = kNumTeams * squads_per_team_;
  for (int i = 0; i < spec_.num_agents; ++i) spec_.agent_team.push_back(i / squads_per_team_);
  spec_.obs_shape = {static_cast<int64_t>(obs::kChannels) * grid_ * grid_ + obs::kSummary};
  spec_.action_space = ActionSpace::discrete(macro::kCount);
  spec_.tick_rate_hz = kTickRateHz;
  spec_.max_ticks = max_ticks_;
  spec_.decision_interval = options_.decision_ticks;
  spec_.validate();
  squad_macro_.assign(static_cast<size_t>(spec_.num_agents), 0);
  team_grid_.resize(static_cast<size_t>(kNumTeams * obs::kChannels * grid_ * grid_));
}

CodewarsEnv::~CodewarsEnv() = default;

uint8_t CodewarsEnv::feature_bits() const {
  return static_cast<uint8_t>(fog_ | (game_.nuclear() << 1) | (game_.facilities() << 2));
}

void CodewarsEnv::reserve_scratch() {
  // Room for every unit twice over (production adds some), so that steps do not allocate.
  const size_t room = 2 * state().units.size();
  near_.reserve(room);
  near2_.reserve(room);
}

void CodewarsEnv::rebuild_index() {
  game_.rebuild_index();
  refresh_map_cache();
}

void CodewarsEnv::reset(uint64_t seed, StepView out) {
  std::fill(squad_macro_.begin(), squad_macro_.end(), 0);
  game_.reset(seed);
  reserve_scratch();
  refresh_map_cache();
  observe(out.obs);
  std::fill_n(out.reward, spec_.num_agents, 0.0f);
  *out.terminated = 0;
  *out.truncated = 0;
}

// ---- the macro layer ---------------------------------------------------------------------

void CodewarsEnv::squad_centre(int agent, float& cx, float& cy, int& count) const {
  double sx = 0, sy = 0;
  count = 0;
  for (const auto& u : state().units)
    if (u.alive && u.squad == agent) sx += u.x, sy += u.y, ++count;
  cx = count ? static_cast<float>(sx / count) : 0;
  cy = count ? static_cast<float>(sy / count) : 0;
}

bool CodewarsEnv::select_group(int team, int group) {
  if (state().teams[static_cast<size_t>(team)].selected_group == group) return true;
  Action a;
  a.type = ActionType::clear_and_select;
  a.group = group;
  return game_.act(team, a) == ActionStatus::ok;
}

// Best strike point for squad `agent`: among enemy positions its vehicles see (every 7th
// per spotter, at most 64 in all, to bound the cost), the one where the strike's damage
// to enemies minus damage to own vehicles is largest. False when no point is worth it.
bool CodewarsEnv::find_strike(int agent, float& best_x, float& best_y, int& best_spotter) const {
  const int team = agent_team(agent);
  float best = 0;
  int evaluated = 0;
  for (size_t s = 0; s < state().units.size() && evaluated < 64; ++s) {
    const Unit& su = state().units[s];
    if (!su.alive || su.squad != agent) continue;
    const float reach = kStats[su.type].vision;
    game_.units_near(CodewarsGame::layers(1 - team, true, true), su.x, su.y, reach, near_);
    std::erase_if(near_, [&](int32_t id) {
      const Unit& e = state().units[static_cast<size_t>(id)];
      return e.team == team || !game_.unit_sees(static_cast<int>(s), e.x, e.y);
    });
    std::sort(near_.begin(), near_.end());
    for (size_t k = 0; k < near_.size() && evaluated < 64; k += 7, ++evaluated) {
      const Unit& e = state().units[static_cast<size_t>(near_[k])];
      float value = 0;
      game_.units_near(CodewarsGame::kAllLayers, e.x, e.y, kNukeRadius, near2_);
      for (const int32_t id : near2_) {
        const Unit& v = state().units[static_cast<size_t>(id)];
        const float d = std::hypot(v.x - e.x, v.y - e.y);
        if (d >= kNukeRadius) continue;
        const float dmg = std::min(v.durability, kNukeCentreDamage * (1 - d / kNukeRadius));
        value += v.team == team ? -dmg : dmg;
      }
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
  const float m = CodewarsGame::mirror(team);
  if (order == macro::kNuke) {
    float x = 0, y = 0;
    int spotter = -1;
    if (game_.nuclear() && state().tick >= state().teams[static_cast<size_t>(team)].nuke_ready_tick &&
        state().teams[static_cast<size_t>(team)].strike.land_tick < 0 && find_strike(agent, x, y, spotter)) {
      Action a;
      a.type = ActionType::tactical_nuclear_strike;
      a.x = x, a.y = y, a.vehicle_id = spotter;
      game_.act(team, a);
    }
    return;
  }
  float slowest = 1e9f;
  for (const auto& u : state().units)
    if (u.alive && u.squad == agent) slowest = std::min(slowest, kStats[u.type].speed);
  const float leg = slowest * static_cast<float>(options_.decision_ticks);
  // Nearest enemy this team can see (fog) or any (no fog).
  int nearest = -1;
  float nearest_d2 = 0;
  for (size_t i = 0; i < state().units.size(); ++i) {
    const Unit& e = state().units[i];
    if (!e.alive || e.team == team) continue;
    const float d2 = (e.x - cx) * (e.x - cx) + (e.y - cy) * (e.y - cy);
    if (nearest >= 0 && d2 >= nearest_d2) continue;
    if (fog_ && !game_.sees(team, e.x, e.y)) continue;
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
    const Unit& e = state().units[static_cast<size_t>(nearest)];
    if (order == macro::kAttack) {
      double sx = 0, sy = 0;
      int n = 0;
      game_.units_near(CodewarsGame::layers(1 - team, true, true), e.x, e.y, 40.0f, near_);
      for (const int32_t id : near_) {
        const Unit& o = state().units[static_cast<size_t>(id)];
        if (o.team != team && std::hypot(o.x - e.x, o.y - e.y) <= 40.0f) sx += o.x, sy += o.y, ++n;
      }
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
    for (const auto& f : state().facilities) {
      if (f.owner == team) continue;
      const float fx = f.x + kFacilitySize / 2, fy = f.y + kFacilitySize / 2;
      const float d = std::hypot(fx - cx, fy - cy);
      if (d < best) best = d, a.x = fx - cx, a.y = fy - cy;
    }
    if (best == 1e30f) a.x = a.y = 0;
  }
  if (!select_group(team, group)) return;
  game_.act(team, a);
}

void CodewarsEnv::apply_macro(const float* actions) {
  if (state().tick % options_.decision_ticks != 0) return;
  for (int i = 0; i < spec_.num_agents; ++i) {
    const int order = std::clamp(static_cast<int>(actions[i]), 0, macro::kCount - 1);
    squad_macro_[static_cast<size_t>(i)] = order;
    issue_macro(i, order);
  }
  // Factories the team holds but leaves idle build the type it has fewest of.
  for (size_t f = 0; f < state().facilities.size(); ++f) {
    const Facility& fac = state().facilities[f];
    if (fac.kind != kFactory || fac.owner < 0 || fac.production >= 0) continue;
    std::array<int, kNumTypes> have{};
    for (const auto& u : state().units)
      if (u.alive && u.team == fac.owner) ++have[u.type];
    Action a;
    a.type = ActionType::setup_vehicle_production;
    a.facility = static_cast<int>(f);
    a.vehicle_type = static_cast<int>(std::min_element(have.begin(), have.end()) - have.begin());
    game_.act(fac.owner, a);
  }
}

void CodewarsEnv::step(const float* actions, StepView out) {
  const CodewarsState& st = state();
  std::array<double, kNumTeams> before{}, hp_before{};
  for (int t = 0; t < kNumTeams; ++t) before[static_cast<size_t>(t)] = st.teams[static_cast<size_t>(t)].score;
  if (options_.damage_reward > 0) hp_before = game_.team_hit_points();
  apply_macro(actions);
  game_.tick();
  std::array<double, kNumTeams> hp_lost{};
  if (options_.damage_reward > 0) {
    const auto hp = game_.team_hit_points();
    for (size_t t = 0; t < kNumTeams; ++t) hp_lost[t] = hp_before[t] - hp[t];
  }
  for (int i = 0; i < spec_.num_agents; ++i) {
    const auto t = static_cast<size_t>(agent_team(i));
    const double own = st.teams[t].score - before[t], other = st.teams[1 - t].score - before[1 - t];
    const double shaping = options_.damage_reward * (hp_lost[1 - t] - hp_lost[t]) / 100.0;
    out.reward[i] = static_cast<float>((reward_diff_ ? own - other : own) + shaping);
  }
  *out.terminated = st.done;
  *out.truncated = (!st.done && st.tick >= max_ticks_) ? 1 : 0;
  // Observations only where an agent acts on them (env.hpp): most of a tick's cost otherwise.
  if (observations_due(st.tick, options_.decision_ticks, *out.terminated || *out.truncated)) observe(out.obs);
}

// ---- observations ------------------------------------------------------------------------

void CodewarsEnv::refresh_map_cache() {
  const int g = grid_;
  const size_t plane = static_cast<size_t>(g * g);
  map_cache_.assign(static_cast<size_t>(kNumTeams) * kMapPlanes * plane, 0.0f);
  const float cell = world_ / static_cast<float>(g);
  for (int team = 0; team < kNumTeams; ++team) {
    float* out = map_cache_.data() + static_cast<size_t>(team) * kMapPlanes * plane;
    const bool mirrored = team == 1;
    const auto world_cell = [&](float lx, float ly) {
      return static_cast<size_t>(game_.cell_of(mirrored ? world_ - lx : lx, mirrored ? world_ - ly : ly));
    };
    for (int gy = 0; gy < g; ++gy)
      for (int gx = 0; gx < g; ++gx) {
        const size_t k = static_cast<size_t>(gy * g + gx);
        // Terrain and weather: fraction of the cell, sampled 4 x 4.
        for (int sy = 0; sy < 4; ++sy)
          for (int sx = 0; sx < 4; ++sx) {
            const size_t c = world_cell((static_cast<float>(gx) + (static_cast<float>(sx) + 0.5f) / 4) * cell,
                                        (static_cast<float>(gy) + (static_cast<float>(sy) + 0.5f) / 4) * cell);
            const uint8_t tr = state().terrain[c], we = state().weather[c];
            out[kMapSwamp * plane + k] += tr == kSwamp ? 1.0f / 16 : 0.0f;
            out[kMapForest * plane + k] += tr == kForest ? 1.0f / 16 : 0.0f;
            out[kMapCloud * plane + k] += we == kCloud ? 1.0f / 16 : 0.0f;
            out[kMapRain * plane + k] += we == kRain ? 1.0f / 16 : 0.0f;
          }
        // Stealth factor at the cell centre, against ground and against aerial observers.
        const size_t c = world_cell((static_cast<float>(gx) + 0.5f) * cell, (static_cast<float>(gy) + 0.5f) * cell);
        out[kMapStealthGround * plane + k] = kTerrainFactors[state().terrain[c]].stealth;
        out[kMapStealthAir * plane + k] = kWeatherFactors[state().weather[c]].stealth;
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
    float* grid = team_grid_.data() + static_cast<size_t>(team) * obs::kChannels * plane;
    const float m = CodewarsGame::mirror(team);
    const auto local = [&](float x, float y, int& gx, int& gy) {
      const float mx = m > 0 ? x : world_ - x, my = m > 0 ? y : world_ - y;
      gx = std::clamp(static_cast<int>(mx / cell), 0, g - 1), gy = std::clamp(static_cast<int>(my / cell), 0, g - 1);
    };
    // The cache's swamp..rain planes are the grid's obs::kSwamp..kRain, in the same order.
    static_assert(obs::kForest - obs::kSwamp == kMapForest - kMapSwamp &&
                  obs::kRain - obs::kSwamp == kMapRain - kMapSwamp);
    const float* cache = map_cache_.data() + static_cast<size_t>(team) * kMapPlanes * plane;
    std::copy_n(cache + kMapSwamp * plane, (kMapRain - kMapSwamp + 1) * plane, grid + obs::kSwamp * plane);
    const float* stealth = cache + kMapStealthGround * plane;  // then kMapStealthAir
    // Visibility: a cell is visible when an own vehicle sees its centre (vision x own
    // cell's vision factor x the centre's stealth factor for the vehicle's layer).
    float* vis = grid + obs::kVisible * plane;
    for (const auto& u : state().units) {
      if (!u.alive || u.team != team) continue;
      const auto own = static_cast<size_t>(game_.cell_of(u.x, u.y));
      const bool air = is_aerial(u.type);
      const float r = kStats[u.type].vision * (air ? kWeatherFactors[state().weather[own]].vision
                                                   : kTerrainFactors[state().terrain[own]].vision);
      const float* st = stealth + (air ? (kMapStealthAir - kMapStealthGround) * plane : 0);
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
    for (const auto& u : state().units) {
      if (!u.alive) continue;
      int gx, gy;
      local(u.x, u.y, gx, gy);
      const size_t k = static_cast<size_t>(gy * g + gx);
      if (u.team == team) {
        grid[(obs::kOwnDensity + u.type) * plane + k] += density;
      } else if (!fog_ || vis[k] > 0) {
        grid[(obs::kEnemyDensity + u.type) * plane + k] += density;
      }
    }
    for (size_t k = obs::kOwnDensity * plane; k < (obs::kEnemyDensity + kNumTypes) * plane; ++k)
      grid[k] = std::min(grid[k], 1.0f);
    for (const auto& f : state().facilities) {
      int gx, gy;
      local(f.x + kFacilitySize / 2, f.y + kFacilitySize / 2, gx, gy);
      const float held = f.capture / kCaptureFull * (team == 0 ? 1.0f : -1.0f);
      grid[obs::kFacility * plane + static_cast<size_t>(gy * g + gx)] =
          f.owner < 0 ? 0.5f * held : (f.owner == team ? 1.0f : -1.0f);
    }
    for (int t = 0; t < kNumTeams; ++t) {
      const NuclearStrike& s = state().teams[static_cast<size_t>(t)].strike;
      if (s.land_tick < 0) continue;
      for (int gy = 0; gy < g; ++gy)
        for (int gx = 0; gx < g; ++gx) {
          const float lx = (static_cast<float>(gx) + 0.5f) * cell, ly = (static_cast<float>(gy) + 0.5f) * cell;
          const float wx = m > 0 ? lx : world_ - lx, wy = m > 0 ? ly : world_ - ly;
          if (std::hypot(wx - s.x, wy - s.y) < kNukeRadius + cell * 0.71f)
            grid[obs::kStrike * plane + static_cast<size_t>(gy * g + gx)] = t == team ? 1.0f : -1.0f;
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
  return team_grid_[(static_cast<size_t>(team) * obs::kChannels + obs::kVisible) * plane +
                    static_cast<size_t>(gy * grid_ + gx)] > 0;
}

void CodewarsEnv::observe(float* obs) const {
  build_team_grids();
  const size_t grid_floats = static_cast<size_t>(obs::kChannels * grid_ * grid_);
  const auto dim = static_cast<size_t>(spec_.obs_dim());
  for (int i = 0; i < spec_.num_agents; ++i) {
    const int team = agent_team(i);
    const float m = CodewarsGame::mirror(team);
    float* o = obs + static_cast<size_t>(i) * dim;
    std::copy_n(team_grid_.data() + static_cast<size_t>(team) * grid_floats, grid_floats, o);
    o += grid_floats;
    int alive = 0, total = 0;
    double hp = 0, sx = 0, sy = 0;
    std::array<int, kNumTypes> types{};
    for (const auto& u : state().units) {
      if (u.squad != i) continue;
      ++total;
      if (!u.alive) continue;
      ++alive, hp += u.durability, sx += u.x, sy += u.y, ++types[u.type];
    }
    const float cx = alive ? static_cast<float>(sx / alive) : 0, cy = alive ? static_cast<float>(sy / alive) : 0;
    double spread = 0;
    float nearest = 1e30f, ndx = 0, ndy = 0;
    for (const auto& u : state().units) {
      if (!u.alive) continue;
      if (u.squad == i) spread += (u.x - cx) * (u.x - cx) + (u.y - cy) * (u.y - cy);
      if (u.team != team && alive) {
        const float d = std::hypot(u.x - cx, u.y - cy);
        if (d < nearest && (!fog_ || visible_cell(team, u.x, u.y))) nearest = d, ndx = u.x - cx, ndy = u.y - cy;
      }
    }
    const TeamState& ts = state().teams[static_cast<size_t>(team)];
    const TeamState& os = state().teams[static_cast<size_t>(1 - team)];
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
    *o++ = (game_.nuclear() && ts.strike.land_tick < 0 && state().tick >= ts.nuke_ready_tick) ? 1.0f : 0.0f;
    *o++ = std::clamp(static_cast<float>(game_.actions_left(team)) / kActionsPerWindow, 0.0f, 1.0f);
    *o++ = 1.0f - static_cast<float>(state().tick) / static_cast<float>(max_ticks_);
    *o++ = static_cast<float>(std::tanh((ts.score - os.score) / 100.0));
    *o++ = static_cast<float>(squad_macro_[static_cast<size_t>(i)]) / macro::kCount;
    const int slot = i - team * squads_per_team_;
    for (int s = 0; s < obs::kMaxSquads; ++s) *o++ = s == slot ? 1.0f : 0.0f;
  }
}

// ---- snapshots ---------------------------------------------------------------------------

void CodewarsEnv::save_state(std::vector<uint8_t>& out) const {
  const CodewarsState& st = state();
  out.clear();
  ByteWriter w(out);
  w.put<uint32_t>(kSnapshotMagic);
  w.put_string(options_.size);
  w.put<uint8_t>(feature_bits());
  w.put<int64_t>(st.tick);
  w.put<int32_t>(st.world_cells);
  w.put<uint8_t>(st.done);
  w.put_array<uint8_t>(st.terrain);
  w.put_array<uint8_t>(st.weather);
  w.put_array<Unit>(st.units);
  w.put_array<Facility>(st.facilities);
  for (const auto& t : st.teams) w.put<TeamState>(t);
  w.put_array<int32_t>(squad_macro_);
  for (uint64_t r : st.rng) w.put<uint64_t>(r);
}

void CodewarsEnv::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "codewars snapshot");
  if (r.get<uint32_t>() != kSnapshotMagic) r.fail("not a codewars snapshot");
  const std::string size = r.get_string(16);
  if (size != options_.size) r.fail("snapshot is of size '" + size + "', this env is '" + options_.size + "'");
  if (r.get<uint8_t>() != feature_bits()) r.fail("snapshot has different fog/nuclear/facilities options");
  CodewarsState s;
  s.tick = r.get<int64_t>();
  s.world_cells = r.get<int32_t>();
  s.done = r.get<uint8_t>();
  if (s.world_cells != game_.world_cells()) r.fail("world grid size differs");
  const size_t cells = static_cast<size_t>(s.world_cells * s.world_cells);
  r.get_array(s.terrain, cells);
  r.get_array(s.weather, cells);
  r.get_array(s.units, 1u << 16);
  r.get_array(s.facilities, 16);
  for (auto& t : s.teams) t = r.get<TeamState>();
  std::vector<int32_t> squad_macro;
  r.get_array(squad_macro, static_cast<uint64_t>(spec_.num_agents));
  for (uint64_t& v : s.rng) v = r.get<uint64_t>();
  r.expect_end();
  if (s.tick < 0 || s.tick > max_ticks_) r.fail("tick out of range");
  if (squad_macro.size() != static_cast<size_t>(spec_.num_agents)) r.fail("squad count differs");
  if (const std::string why = game_.validate(s); !why.empty()) r.fail(why);
  for (const int32_t m : squad_macro)
    if (m < 0 || m >= spec_.action_space.nvec[0]) r.fail("squad order out of range");
  game_.load(std::move(s));
  squad_macro_ = std::move(squad_macro);
  reserve_scratch();
  refresh_map_cache();
}

// ---- drawing and results ------------------------------------------------------------------

void CodewarsEnv::draw(Frame& frame) const {
  frame.clear();
  frame.dims = 2;
  frame.tick = state().tick;
  const float b[6] = {0, world_, 0, world_, 0, 0};
  std::copy(b, b + 6, frame.bounds);
  frame.scores = {state().teams[0].score, state().teams[1].score};
  const auto rect = [&](float x0, float y0, float x1, float y1, Rgba c, bool filled, int team = -1) {
    const float p[12] = {x0, y0, 0, x1, y0, 0, x1, y1, 0, x0, y1, 0};
    frame.polygon(p, 4, c, filled, team);
  };
  rect(0, 0, world_, world_, Rgba{34, 38, 30, 255}, true);
  const int n = state().world_cells;
  for (int cy = 0; cy < n; ++cy)
    for (int cx = 0; cx < n; ++cx) {
      const auto c = static_cast<size_t>(cy * n + cx);
      const float x0 = static_cast<float>(cx) * kCellSize, y0 = static_cast<float>(cy) * kCellSize;
      const float x1 = std::min(world_, x0 + kCellSize), y1 = std::min(world_, y0 + kCellSize);
      if (state().terrain[c] == kSwamp) rect(x0, y0, x1, y1, Rgba{52, 70, 78, 255}, true);
      if (state().terrain[c] == kForest) rect(x0, y0, x1, y1, Rgba{28, 64, 30, 255}, true);
      if (state().weather[c] == kCloud) rect(x0, y0, x1, y1, Rgba{200, 200, 210, 50}, true);
      if (state().weather[c] == kRain) rect(x0, y0, x1, y1, Rgba{90, 110, 170, 80}, true);
    }
  for (const auto& f : state().facilities) {
    const Rgba c = f.owner < 0 ? Rgba{200, 200, 200, 255} : team_color(f.owner);
    rect(f.x, f.y, f.x + kFacilitySize, f.y + kFacilitySize, c, false);
    const float bar = std::abs(f.capture) / kCaptureFull * kFacilitySize;
    frame.line2d(f.x, f.y - 3, f.x + bar, f.y - 3, f.capture >= 0 ? team_color(0) : team_color(1), 2);
    frame.label(f.x + 4, f.y + 12, 0, f.kind == kControlCentre ? "CC" : "F", c, 8);
  }
  const float r = kVehicleRadius;
  for (const auto& u : state().units) {
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
    for (const auto& u : state().units)
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
    const NuclearStrike& s = state().teams[static_cast<size_t>(t)].strike;
    if (s.land_tick < 0) continue;
    frame.circle(s.x, s.y, kNukeRadius, Rgba{255, 120, 20, 255}, t, false);
    frame.circle(s.x, s.y, 3, Rgba{255, 60, 20, 255}, t, true);
    const Unit& sp = state().units[static_cast<size_t>(s.spotter)];
    frame.line2d(sp.x, sp.y, s.x, s.y, Rgba{255, 120, 20, 160}, 1);
  }
}

}  // namespace ludus::codewars

LUDUS_REGISTER_ENV("codewars", ludus::codewars::CodewarsEnv, ludus::codewars::CodewarsOptions,
                   "swarm RTS after Russian AI Cup 2017: armies of 5 vehicle types under group orders (Box2D tree)");
