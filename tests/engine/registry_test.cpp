// Registry: creation by name with options, unknown names, duplicates, plugin refusal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ludus/engine/plugin.hpp"
#include "ludus/engine/registry.hpp"
#include "test_temp.hpp"

namespace ludus {
namespace {

using ::testing::HasSubstr;

TEST(Registry, CreatesByNameWithOptions) {
  ConfigTree opts;
  opts.apply_override("team_size=3");
  auto env = make_env("reach", opts);
  EXPECT_EQ(env->spec().num_agents, 6);
  EXPECT_EQ(make_env("reach")->spec().num_agents, 4);
}

TEST(Registry, UnknownNameListsTheGames) {
  try {
    make_env("no-such-game");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown env 'no-such-game'"));
    EXPECT_THAT(e.what(), HasSubstr("reach"));
  }
}

TEST(Registry, BadGameOptionIsAConfigError) {
  ConfigTree opts;
  opts.apply_override("team_size=9");
  EXPECT_THROW(make_env("reach", opts), ConfigError);
  ConfigTree unknown;
  unknown.apply_override("colour=red");
  EXPECT_THROW(make_env("reach", unknown), ConfigError);
}

TEST(Registry, DuplicateNameIsRecordedNotReplaced) {
  EnvRegistry reg;
  EnvEntry a;
  a.name = "x";
  a.description = "first";
  EnvEntry b = a;
  b.description = "second";
  EXPECT_TRUE(reg.add(a));
  EXPECT_FALSE(reg.add(b));
  EXPECT_EQ(reg.get("x").description, "first");
  ASSERT_EQ(reg.errors().size(), 1u);
  EXPECT_THAT(reg.errors()[0], HasSubstr("registered twice"));
}

TEST(Registry, EffectiveOptionsFillDefaults) {
  const std::string yaml = EnvRegistry::global().get("reach").effective_options(ConfigTree(), false);
  EXPECT_THAT(yaml, HasSubstr("team_size: 2"));
  EXPECT_THAT(yaml, HasSubstr("max_ticks: 900"));
}

TEST(Plugin, MissingAndNonLibraryFilesAreRefusedClearly) {
  try {
    load_plugin("/nonexistent/libgame.so");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("not found"));
  }
  const ludus_test::TempDir tmp;
  const std::filesystem::path path = tmp.file("libludus_not_a_plugin.so");
  std::ofstream(path) << "this is not an ELF file";
  try {
    load_plugin(path.string());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot load plugin"));
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ludus
