// Inputs the fuzzers found crashing (tests/data/fuzz/<target>/), replayed in the regular
// build: each must now be refused with the documented error. The first byte of a
// load_state input picks the game, in the order of tests/fuzz/fuzz_load_state.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/registry.hpp"

namespace ludus {
namespace {

std::vector<uint8_t> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(FuzzRegressions, LoadStateRefusesEveryInputThatCrashedIt) {
  const char* data = std::getenv("LUDUS_TEST_DATA");
  ASSERT_NE(data, nullptr) << "LUDUS_TEST_DATA not set (CTest sets it to tests/data)";
  const char* cases[][2] = {
      {"reach", "{}"},
      {"codeball", "{}"},
      {"codeball", "{team_size: 1, microticks: 20, action_mode: discrete, decision_ticks: 4}"},
      {"codewars", "{size: duel}"},
      {"codewars", "{size: small}"},
  };
  int checked = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(data) / "fuzz" / "load_state")) {
    const auto bytes = read_all(f.path());
    ASSERT_FALSE(bytes.empty()) << f.path();
    const auto& c = cases[bytes[0] % std::size(cases)];
    auto env = make_env(c[0], ConfigTree::from_string(c[1], "fuzz case"));
    EXPECT_THROW(env->load_state(std::span<const uint8_t>(bytes.data() + 1, bytes.size() - 1)), FormatError)
        << f.path().filename() << " (" << c[0] << " " << c[1] << ") was accepted";
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

}  // namespace
}  // namespace ludus
