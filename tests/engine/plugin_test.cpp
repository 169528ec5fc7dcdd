// Plugins: the example plugin (envs/examples/plugin, built with ludus_add_env_plugin)
// loads, registers its game and bot, and passes the conformance suite; plugins with a
// missing or mismatched ABI stamp are refused and leave nothing registered; loading a
// game name twice is refused. Each test runs in its own process under CTest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "ludus/engine/agent.hpp"
#include "ludus/engine/match.hpp"
#include "ludus/engine/conformance.hpp"
#include "ludus/engine/plugin.hpp"
#include "ludus/engine/registry.hpp"

namespace ludus {
namespace {

using ::testing::HasSubstr;

std::string refusal(const std::string& path) {
  try {
    load_plugin(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Plugin, ExampleRegistersItsGameAndBotAndPassesConformance) {
  const auto names = load_plugin(LUDUS_TEST_PONG_PLUGIN);
  ASSERT_EQ(names, std::vector<std::string>{"pong"});
  const EnvEntry* e = EnvRegistry::global().find("pong");
  ASSERT_NE(e, nullptr);
  EXPECT_THAT(e->origin, HasSubstr("libludus_pong.so"));
  const auto agents = agents_for("pong");
  EXPECT_NE(std::find(agents.begin(), agents.end(), "tracker"), agents.end());

  ConformanceOptions co;
  co.random_ticks = 3000;
  for (const auto& check : run_conformance("pong", ConfigTree(), co))
    EXPECT_TRUE(check.passed) << check.name << ": " << check.detail;

  // The plugin's bot plays its game: against a random paddle it wins most points.
  auto env = make_env("pong");
  auto tracker = make_agent("tracker", "pong");
  auto random = make_agent("random", "pong");
  int wins = 0;
  for (int m = 0; m < 10; ++m) {
    std::vector<Agent*> agents_by_team{tracker.get(), random.get()};
    MatchOptions mo;
    mo.seed = 100 + static_cast<uint64_t>(m);
    wins += run_match(*env, agents_by_team, mo).winner == 0;
  }
  EXPECT_GE(wins, 9);
}

TEST(Plugin, MinimalGameOfTheGuidePassesConformance) {
  EXPECT_EQ(load_plugin(LUDUS_TEST_TUG_PLUGIN), std::vector<std::string>{"tug"});
  for (const auto& check : run_conformance("tug", ConfigTree(), ConformanceOptions{}))
    EXPECT_TRUE(check.passed) << check.name << ": " << check.detail;
}

TEST(Plugin, SecondLoadOfTheSameGameIsRefused) {
  load_plugin(LUDUS_TEST_PONG_PLUGIN);
  EXPECT_THAT(refusal(LUDUS_TEST_PONG_PLUGIN), HasSubstr("already loaded"));
  // Another file that registers the same game name.
  const auto copy =
      std::filesystem::temp_directory_path() / ("libludus_pong_copy_" + std::to_string(::getpid()) + ".so");
  std::filesystem::copy_file(LUDUS_TEST_PONG_PLUGIN, copy, std::filesystem::copy_options::overwrite_existing);
  EXPECT_THAT(refusal(copy.string()), HasSubstr("is already registered"));
  std::filesystem::remove(copy);
  EXPECT_NE(EnvRegistry::global().find("pong"), nullptr);  // the first load still works
  auto env = make_env("pong");
  EXPECT_EQ(env->spec().num_agents, 2);
}

TEST(Plugin, MismatchedStampIsRefusedAndRegistersNothing) {
  const std::string why = refusal(LUDUS_TEST_BAD_STAMP_PLUGIN);
  EXPECT_THAT(why, HasSubstr("plugin refused"));
  EXPECT_THAT(why, HasSubstr("ABI stamp 'ludus-abi-0;test-mismatch'"));
  EXPECT_THAT(why, HasSubstr(LUDUS_TEST_BAD_STAMP_PLUGIN));
  EXPECT_EQ(EnvRegistry::global().find("pong"), nullptr);
  EXPECT_EQ(AgentRegistry::global().find("tracker"), nullptr);
  // Nothing of the refused library is left behind: the good one loads afterwards.
  EXPECT_EQ(load_plugin(LUDUS_TEST_PONG_PLUGIN), std::vector<std::string>{"pong"});
  EXPECT_NE(AgentRegistry::global().find("tracker"), nullptr);
}

TEST(Plugin, MissingStampIsRefused) {
  const std::string why = refusal(LUDUS_TEST_NO_STAMP_PLUGIN);
  EXPECT_THAT(why, HasSubstr("no ludus_plugin_abi() stamp"));
  EXPECT_EQ(EnvRegistry::global().find("pong"), nullptr);
  EXPECT_EQ(AgentRegistry::global().find("tracker"), nullptr);
}

}  // namespace
}  // namespace ludus
