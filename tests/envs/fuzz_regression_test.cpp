// Inputs the fuzzers found crashing (tests/data/fuzz/<target>/), replayed in the regular
// build: each must now be refused with the documented error. The first byte of a
// load_state input picks the game (tests/fuzz/load_state_cases.hpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/load_state_cases.hpp"
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
  int checked = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(data) / "fuzz" / "load_state")) {
    const auto bytes = read_all(f.path());
    ASSERT_FALSE(bytes.empty()) << f.path();
    const auto& c = ludus_fuzz::kLoadStateCases[bytes[0] % ludus_fuzz::kLoadStateCases.size()];
    auto env = make_env(c.game, ConfigTree::from_string(c.options, "fuzz case"));
    EXPECT_THROW(env->load_state(std::span<const uint8_t>(bytes.data() + 1, bytes.size() - 1)), FormatError)
        << f.path().filename() << " (" << c.game << " " << c.options << ") was accepted";
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

}  // namespace
}  // namespace ludus
