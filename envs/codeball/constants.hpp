// Every Codeball constant, named as in the rules (shared/specs/codeball.md); units: length
// in arena units (metre-like), time in seconds, mass in arbitrary units, y is up.
#pragma once

namespace ludus::codeball::constants {

inline constexpr int TICKS_PER_SECOND = 60;
inline constexpr int MICROTICKS_PER_TICK = 100;
inline constexpr int MAX_TICK_COUNT = 18000;  // match length in ticks (5 minutes)
inline constexpr int RESET_TICKS = 120;       // pause after a goal, in ticks

inline constexpr double GRAVITY = 30.0;  // units / s^2, along -y

inline constexpr double ROBOT_RADIUS = 1.0;
inline constexpr double ROBOT_MIN_RADIUS = 1.0;
inline constexpr double ROBOT_MAX_RADIUS = 1.05;
inline constexpr double ROBOT_MASS = 2.0;
inline constexpr double ROBOT_ARENA_E = 0.0;              // restitution against the arena
inline constexpr double ROBOT_ACCELERATION = 100.0;       // units / s^2 on the ground
inline constexpr double ROBOT_MAX_GROUND_SPEED = 30.0;    // units / s
inline constexpr double ROBOT_MAX_JUMP_SPEED = 15.0;      // units / s
inline constexpr double ROBOT_NITRO_ACCELERATION = 30.0;  // units / s^2

inline constexpr double BALL_RADIUS = 2.0;
inline constexpr double BALL_MASS = 1.0;
inline constexpr double BALL_ARENA_E = 0.7;

inline constexpr double MIN_HIT_E = 0.4;
inline constexpr double MAX_HIT_E = 0.5;
inline constexpr double MAX_ENTITY_SPEED = 100.0;  // units / s, every body

inline constexpr double MAX_NITRO_AMOUNT = 100.0;
inline constexpr double START_NITRO_AMOUNT = 50.0;
inline constexpr double NITRO_POINT_VELOCITY_CHANGE = 0.6;  // units / s of speed per nitro point
inline constexpr double NITRO_PACK_X = 20.0;
inline constexpr double NITRO_PACK_Y = 1.0;
inline constexpr double NITRO_PACK_Z = 30.0;
inline constexpr double NITRO_PACK_RADIUS = 0.5;
inline constexpr double NITRO_PACK_AMOUNT = 100.0;
inline constexpr int NITRO_PACK_RESPAWN_TICKS = 600;

// Arena dimensions (the rules' `arena` object).
inline constexpr double ARENA_WIDTH = 60.0;   // x in [-30, 30]
inline constexpr double ARENA_HEIGHT = 20.0;  // y in [0, 20]
inline constexpr double ARENA_DEPTH = 80.0;   // z in [-40, 40]; goals beyond
inline constexpr double ARENA_BOTTOM_RADIUS = 3.0;
inline constexpr double ARENA_TOP_RADIUS = 7.0;
inline constexpr double ARENA_CORNER_RADIUS = 13.0;
inline constexpr double ARENA_GOAL_TOP_RADIUS = 3.0;
inline constexpr double ARENA_GOAL_WIDTH = 30.0;
inline constexpr double ARENA_GOAL_HEIGHT = 10.0;
inline constexpr double ARENA_GOAL_DEPTH = 10.0;
inline constexpr double ARENA_GOAL_SIDE_RADIUS = 1.0;

// A goal counts when |ball.z| exceeds this (depth / 2 + ball radius = 42).
inline constexpr double GOAL_LINE_Z = ARENA_DEPTH / 2 + BALL_RADIUS;

// Kickoff layout (as observed in the official runner's logs): robots 20 from the ball,
// a team spread over a 60 degree arc on its own half; the ball at rest at y in [2, 8].
inline constexpr double KICKOFF_DISTANCE = 20.0;
inline constexpr double KICKOFF_ARC_DEG = 60.0;
inline constexpr double KICKOFF_BALL_MIN_Y = 2.0;
inline constexpr double KICKOFF_BALL_MAX_Y = 8.0;

inline constexpr int NUM_TEAMS = 2;
inline constexpr int MAX_TEAM_SIZE = 3;
inline constexpr int MAX_ROBOTS = NUM_TEAMS * MAX_TEAM_SIZE;
inline constexpr int NUM_NITRO_PACKS = 4;

}  // namespace ludus::codeball::constants
