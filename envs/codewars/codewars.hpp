// Codewars: a 2D swarm RTS after the Russian AI Cup 2017 game: armies of vehicles under
// group orders (select, move, rotate, scale), rock-paper-scissors combat, terrain and
// weather, fog of war, tactical nuclear strikes and facilities.
//
// This header is the RL adapter over the rules in codewars/game.hpp (the plain state, the
// original's 12 actions with their rate limit, the tick): one agent per squad, a discrete
// macro order every `decision_ticks` ticks, translated into game-level actions (which
// count against the rate limit). Observations are coarse spatial grids (channels named
// in obs::Channel) plus a squad summary, mirrored so that each side sees the map from its
// own corner; rewards are score gains plus optional damage shaping. Measured at 2 x 500
// units in contact: about 0.6 ms per tick on one core (BENCHMARKS.md), observations
// included. See envs/codewars/README.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codewars/constants.hpp"
#include "codewars/game.hpp"
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
  std::string broadphase = "grid";  // grid | box2d: the same trajectories, the grid is faster
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
    static constexpr std::string_view kBroadphases[] = {"grid", "box2d"};
    v.value("broadphase", broadphase, kBroadphases,
            "spatial index of the vehicles: a uniform grid, or Box2D's dynamic tree (same trajectories, slower)");
    v.value("decision_ticks", decision_ticks, 1, 600, "ticks between macro orders of each squad");
    v.value("max_ticks", max_ticks, 0, 100000, "episode length limit in ticks (0: size default)");
    v.value("obs_grid", obs_grid, 4, 64, "cells per side of the observation grids");
    v.value("reward", reward, kRewards, "per-agent reward: own score gained, or own minus enemy");
    v.value("damage_reward", damage_reward, 0.0f, 100.0f,
            "shaping added to the reward: this weight x (hit points the enemy lost - hit points we lost) / 100 each "
            "tick (a vehicle is 100; repair and production count as hit points regained)");
  }
};

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

// Observation grid channels, each obs_grid x obs_grid, row-major, in the squad's mirrored
// frame (README "Observation").
namespace obs {
enum Channel : int {
  kOwnDensity = 0,    // + vehicle type (5): own vehicles x 16 / cell area, capped at 1
  kEnemyDensity = 5,  // + vehicle type (5): enemies, only in visible cells when fog is on
  kSwamp = 10,        // fraction of the cell that is swamp
  kForest = 11,       // ... forest
  kCloud = 12,        // ... cloud
  kRain = 13,         // ... rain
  kVisible = 14,      // an own vehicle sees the cell centre
  kFacility = 15,     // +1 own, -1 enemy, neutral: half the capture progress toward the team
  kStrike = 16,       // a pending nuclear strike covers the cell: +1 own, -1 enemy
  kChannels = 17,
};
inline constexpr int kMaxSquads = 5;
inline constexpr int kSummary = 18 + kMaxSquads;  // squad summary floats after the grids
}  // namespace obs

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
  MatchResult result() const override { return game_.result(); }
  int64_t tick() const override { return game_.state().tick; }

  // The rules underneath: state, game-level actions (act() affects the next step), vision.
  const CodewarsGame& game() const { return game_; }
  CodewarsGame& game() { return game_; }
  const CodewarsState& state() const { return game_.state(); }
  const CodewarsOptions& options() const { return options_; }
  bool fog() const { return fog_; }
  // Scenario set-up: edit the state, then rebuild_index() (after changing units or the
  // terrain/weather grids: it also refreshes the observation's map planes).
  CodewarsState& edit_state() { return game_.edit_state(); }
  void rebuild_index();
  // Squad agent index -> team.
  int agent_team(int agent) const { return spec_.agent_team[static_cast<size_t>(agent)]; }

 private:
  void apply_macro(const float* actions);
  void issue_macro(int agent, int order);
  bool select_group(int team, int group);
  void squad_centre(int agent, float& cx, float& cy, int& count) const;
  bool find_strike(int agent, float& x, float& y, int& spotter) const;
  void build_team_grids() const;
  void refresh_map_cache();
  // After build_team_grids(): whether (x, y) lies in a grid cell `team` sees.
  bool visible_cell(int team, float x, float y) const;
  uint8_t feature_bits() const;
  void reserve_scratch();  // fog | nuclear << 1 | facilities << 2, as snapshots record them

  CodewarsOptions options_;
  EnvSpec spec_;
  CodewarsGame game_;
  std::vector<int32_t> squad_macro_;  // last macro order per agent (0: none yet); in snapshots
  float world_ = 0;
  int squads_per_team_ = 0;
  int64_t max_ticks_ = 0;
  bool fog_ = false;
  bool reward_diff_ = false;  // options.reward == score_diff, read once at construction
  int grid_ = 16;
  // Scratch, sized once.
  mutable std::vector<int32_t> near_, near2_;
  mutable std::vector<float> team_grid_;  // [team][channel][cell]
  std::vector<float> map_cache_;          // [team][MapPlane][cell]
};

}  // namespace ludus::codewars
