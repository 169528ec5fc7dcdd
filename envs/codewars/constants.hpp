// Codewars: every rule constant of the game (Russian AI Cup 2017 CodeWars, rules 1.2.2).
//
// Units: lengths in world units (the full world is 1024 x 1024, y down), time in ticks,
// speeds in world units per tick, angles in radians (positive = clockwise, y down),
// durability and damage in hit points.
#pragma once

#include <array>
#include <cstdint>

namespace ludus::codewars::constants {

inline constexpr int kNumTeams = 2;
inline constexpr int kNumTypes = 5;
// Vehicle types, in the order of the damage table's rows and columns.
inline constexpr int kTank = 0, kIfv = 1, kArrv = 2, kHelicopter = 3, kFighter = 4;
inline constexpr const char* kTypeNames[kNumTypes] = {"tank", "ifv", "arrv", "helicopter", "fighter"};

inline constexpr float kVehicleRadius = 2.0f;
inline constexpr float kMinCentreDistance = 2 * kVehicleRadius;  // colliding centres stay this far apart
inline constexpr float kMaxDurability = 100.0f;
inline constexpr int kAttackCooldownTicks = 60;
inline constexpr float kArrvRepairPerTick = 0.1f;
inline constexpr float kArrvRepairRange = 10.0f;

struct VehicleStats {
  float speed;           // world units per tick on plain terrain / in clear weather
  float vision;          // world units, before terrain/weather factors
  float range_ground;    // attack range against ground targets (0: cannot)
  float range_air;       // attack range against aerial targets (0: cannot)
  float damage_ground;   // attack damage against ground targets
  float damage_air;      // attack damage against aerial targets
  float defence_ground;  // defence against ground attackers
  float defence_air;     // defence against aerial attackers
  int production_ticks;  // factory time to build one
  bool aerial;
};

inline constexpr std::array<VehicleStats, kNumTypes> kStats = {{
    {0.3f, 80, 20, 18, 100, 60, 80, 60, 60, false},  // tank
    {0.4f, 80, 18, 20, 90, 80, 60, 80, 60, false},   // IFV
    {0.4f, 60, 0, 0, 0, 0, 50, 20, 60, false},       // ARRV
    {0.9f, 100, 20, 18, 100, 80, 40, 40, 75, true},  // helicopter
    {1.2f, 120, 0, 20, 0, 100, 70, 70, 90, true},    // fighter
}};

inline constexpr bool is_aerial(int type) { return kStats[static_cast<size_t>(type)].aerial; }

// Damage one hit of `attacker` deals to `target`: attack damage for the target's layer
// minus the target's defence against the attacker's layer, at least 0.
inline constexpr float hit_damage(int attacker, int target) {
  const VehicleStats& a = kStats[static_cast<size_t>(attacker)];
  const VehicleStats& t = kStats[static_cast<size_t>(target)];
  const float attack = t.aerial ? a.damage_air : a.damage_ground;
  const float defence = a.aerial ? t.defence_air : t.defence_ground;
  const float d = attack - defence;
  return d > 0 ? d : 0;
}

// Attack range of `attacker` against `target` (0: cannot attack it at all).
inline constexpr float attack_range(int attacker, int target) {
  const VehicleStats& a = kStats[static_cast<size_t>(attacker)];
  return is_aerial(target) ? a.range_air : a.range_ground;
}

// Terrain (for ground vehicles) and weather (for aerial vehicles) on a grid of 32-unit cells.
inline constexpr float kCellSize = 32.0f;
inline constexpr int kPlain = 0, kSwamp = 1, kForest = 2;  // terrain kinds
inline constexpr int kClear = 0, kCloud = 1, kRain = 2;    // weather kinds
struct CellFactors {
  float speed, vision, stealth;
};
inline constexpr std::array<CellFactors, 3> kTerrainFactors = {
    {{1.0f, 1.0f, 1.0f}, {0.6f, 1.0f, 1.0f}, {0.8f, 0.8f, 0.6f}}};
inline constexpr std::array<CellFactors, 3> kWeatherFactors = {
    {{1.0f, 1.0f, 1.0f}, {0.8f, 0.8f, 0.8f}, {0.6f, 0.6f, 0.6f}}};

// Orders: the action rate limit.
inline constexpr int kActionWindowTicks = 60;
inline constexpr int kActionsPerWindow = 12;
inline constexpr int kActionsPerControlCentre = 3;
inline constexpr int kMaxGroup = 100;  // groups are 1..100
inline constexpr float kMinScale = 0.1f, kMaxScale = 10.0f;

// Tactical nuclear strike.
inline constexpr float kNukeRadius = 50.0f;
inline constexpr float kNukeCentreDamage = 99.0f;  // falls linearly to 0 at kNukeRadius
inline constexpr int kNukeDelayTicks = 30;
inline constexpr int kNukeCooldownTicks = 1200;
inline constexpr int kNukeCooldownPerControlCentre = 60;

// Facilities.
inline constexpr float kFacilitySize = 64.0f;
inline constexpr float kCapturePerVehicleTick = 0.005f;
inline constexpr float kCaptureFull = 100.0f;
inline constexpr int kControlCentre = 0, kFactory = 1;

// Score.
inline constexpr double kScorePerVehicle = 1.0;
inline constexpr double kScorePerFacility = 100.0;
inline constexpr double kScoreForArmy = 1000.0;
inline constexpr int64_t kUpkeepStartTick = 10000;
inline constexpr int64_t kUpkeepPeriodTicks = 1000;
inline constexpr int kUpkeepVehiclesPerPoint = 25;
inline constexpr int kUpkeepMinPoints = 20;

// Starting layout: blocks of one type, spacing 6, in a 3 x 3 grid of slots per corner.
inline constexpr float kBlockSpacing = 6.0f;
inline constexpr std::array<float, 3> kFullSlotCentres = {45.0f, 119.0f, 193.0f};
inline constexpr std::array<float, 3> kSmallSlotCentres = {20.0f, 50.0f, 80.0f};

inline constexpr double kTickRateHz = 60.0;

}  // namespace ludus::codewars::constants
