// The games and modes whose load_state the fuzzer feeds, in the order the first byte of an
// input picks them (fuzz_load_state.cpp, make_seeds.cpp and the regression test share it).
#pragma once

#include <array>

namespace ludus_fuzz {

struct GameCase {
  const char* game;
  const char* options;  // YAML
};

inline constexpr std::array<GameCase, 5> kLoadStateCases{{
    {"reach", "{}"},
    {"codeball", "{}"},
    {"codeball", "{team_size: 1, microticks: 20, action_mode: discrete, decision_ticks: 4}"},
    {"codewars", "{size: duel}"},
    {"codewars", "{size: small}"},
}};

}  // namespace ludus_fuzz
