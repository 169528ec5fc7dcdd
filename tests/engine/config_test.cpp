// Config binding: defaults, overrides, and one test per error class (with locations).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ludus/engine/config.hpp"
#include "test_temp.hpp"

namespace ludus {
namespace {

using ::testing::HasSubstr;

struct Inner {
  double rate = 0.5;
  void visit(OptionVisitor& v) { v.value("rate", rate, 0.0, 1.0, "a rate"); }
};

struct Options {
  int team_size = 2;
  double speed = 1.5;
  bool nitro = true;
  std::string mode = "fast";
  std::vector<double> weights = {1, 2};
  Inner inner;
  static constexpr std::string_view kModes[] = {"fast", "exact"};
  void visit(OptionVisitor& v) {
    v.value("team_size", team_size, 1, 3, "players per team");
    v.value("speed", speed, 0.0, 10.0, "speed");
    v.value("nitro", nitro, "nitro on");
    v.value("mode", mode, kModes, "fidelity");
    v.value("weights", weights, "weights");
    v.section(
        "inner", [&](OptionVisitor& iv) { inner.visit(iv); }, "inner options");
  }
};

std::string error_of(const std::string& yaml) {
  try {
    bind_options<Options>(ConfigTree::from_string(yaml, "test.yaml"));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Config, DefaultsWhenEmpty) {
  const auto o = bind_options<Options>(ConfigTree());
  EXPECT_EQ(o.team_size, 2);
  EXPECT_EQ(o.mode, "fast");
  EXPECT_DOUBLE_EQ(o.inner.rate, 0.5);
}

TEST(Config, ReadsEveryType) {
  const auto o = bind_options<Options>(ConfigTree::from_string(
      "team_size: 3\nspeed: 2.25\nnitro: false\nmode: exact\nweights: [0.5, 4]\ninner:\n  rate: 0.25\n", "t"));
  EXPECT_EQ(o.team_size, 3);
  EXPECT_DOUBLE_EQ(o.speed, 2.25);
  EXPECT_FALSE(o.nitro);
  EXPECT_EQ(o.mode, "exact");
  EXPECT_EQ(o.weights, (std::vector<double>{0.5, 4}));
  EXPECT_DOUBLE_EQ(o.inner.rate, 0.25);
}

TEST(Config, UnknownKeyNamesFileLineColumnAndSuggests) {
  const std::string e = error_of("speed: 1\nteamsize: 3\n");
  EXPECT_THAT(e, HasSubstr("test.yaml:2:1"));
  EXPECT_THAT(e, HasSubstr("unknown key 'teamsize'"));
  EXPECT_THAT(e, HasSubstr("did you mean 'team_size'"));
}

TEST(Config, WrongTypeNamesKeyExpectedAndGot) {
  const std::string e = error_of("team_size: two\n");
  EXPECT_THAT(e, HasSubstr("test.yaml:1:12"));
  EXPECT_THAT(e, HasSubstr("key 'team_size'"));
  EXPECT_THAT(e, HasSubstr("expected an integer in [1, 3]"));
  EXPECT_THAT(e, HasSubstr("got 'two'"));
  EXPECT_THAT(error_of("nitro: maybe\n"), HasSubstr("expected a boolean"));
  EXPECT_THAT(error_of("weights: 3\n"), HasSubstr("expected a list of finite numbers"));
  EXPECT_THAT(error_of("inner: 3\n"), HasSubstr("expected a map of options"));
  EXPECT_THAT(error_of("team_size: 2.5\n"), HasSubstr("expected an integer"));
}

TEST(Config, OutOfRangeIsAnErrorNotClamped) {
  EXPECT_THAT(error_of("team_size: 7\n"), HasSubstr("expected an integer in [1, 3], got '7'"));
  EXPECT_THAT(error_of("speed: -1\n"), HasSubstr("expected a number in [0.0, 10.0]"));
  EXPECT_THAT(error_of("speed: .nan\n"), HasSubstr("key 'speed'"));
  EXPECT_THAT(error_of("mode: turbo\n"), HasSubstr("expected one of fast, exact, got 'turbo'"));
}

TEST(Config, NestedErrorsCarryTheDottedPath) {
  const std::string e = error_of("inner:\n  rate: 3\n");
  EXPECT_THAT(e, HasSubstr("test.yaml:2:9"));
  EXPECT_THAT(e, HasSubstr("key 'inner.rate'"));
  EXPECT_THAT(error_of("inner:\n  speed: 1\n"), HasSubstr("unknown key 'inner.speed'"));
}

TEST(Config, SyntaxErrorIsLocated) {
  EXPECT_THAT(error_of("team_size: [1, 2\n"), HasSubstr("test.yaml:"));
  EXPECT_THAT(error_of("team_size: [1, 2\n"), HasSubstr("YAML syntax error"));
  EXPECT_THAT(error_of("- 1\n- 2\n"), HasSubstr("expected a map of options at the top"));
}

TEST(Config, OverridesApplyAndErrorsNameTheAssignment) {
  ConfigTree t = ConfigTree::from_string("team_size: 1\n", "base.yaml");
  const ConfigTree before = t;
  t.apply_override("team_size=3");
  t.apply_override("inner.rate=0.75");
  const auto o = bind_options<Options>(t);
  EXPECT_EQ(o.team_size, 3);
  EXPECT_DOUBLE_EQ(o.inner.rate, 0.75);
  EXPECT_EQ(bind_options<Options>(before).team_size, 1) << "copies must not see later overrides";

  t.apply_override("speed=fast");
  try {
    bind_options<Options>(t);
    FAIL() << "bad override accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--set speed=fast"));
    EXPECT_THAT(e.what(), HasSubstr("expected a number"));
  }
  EXPECT_THROW(t.apply_override("no_equals_sign"), ConfigError);
  EXPECT_THROW(t.apply_override("team_size.x=1"), ConfigError);
}

TEST(Config, FileErrorsNameThePath) {
  EXPECT_THROW(ConfigTree::from_file("/nonexistent/cfg.yaml"), ConfigError);
  const ludus_test::TempDir tmp;
  const std::filesystem::path path = tmp.file("cfg.yaml");
  std::ofstream(path) << "team_size: 1\nspeed: 99\n";
  try {
    bind_options<Options>(ConfigTree::from_file(path.string()));
    FAIL() << "out-of-range value accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path.string() + ":2:8"));
  }
  std::filesystem::remove(path);
}

TEST(Config, YamlDumpRoundTrips) {
  Options o;
  o.team_size = 3;
  o.inner.rate = 0.125;
  o.weights = {0.1, 3};
  const std::string text = options_yaml(o);
  EXPECT_THAT(text, HasSubstr("players per team"));
  const auto back = bind_options<Options>(ConfigTree::from_string(text, "dump"));
  EXPECT_EQ(back.team_size, 3);
  EXPECT_DOUBLE_EQ(back.inner.rate, 0.125);
  EXPECT_EQ(back.weights, o.weights);
}

}  // namespace
}  // namespace ludus

namespace ludus {
namespace {

struct Waypoint {
  double x = 0;
  int64_t wait = 0;
  void visit(OptionVisitor& v) {
    v.value("x", x, -10.0, 10.0, "position");
    v.value("wait", wait, 0, 100, "ticks");
  }
};

struct Route {
  std::vector<Waypoint> points;
  void visit(OptionVisitor& v) { v.list("points", points, "waypoints in order"); }
};

TEST(Config, ListsOfMapsBindWithElementLocations) {
  const auto tree = ConfigTree::from_string("points:\n  - {x: 1.5}\n  - x: -2\n    wait: 7\n", "route.yaml");
  const auto r = bind_options<Route>(tree);
  ASSERT_EQ(r.points.size(), 2u);
  EXPECT_EQ(r.points[0].x, 1.5);
  EXPECT_EQ(r.points[0].wait, 0);
  EXPECT_EQ(r.points[1].wait, 7);
  EXPECT_THAT(options_yaml(r), HasSubstr("wait: 7"));
  try {
    bind_options<Route>(ConfigTree::from_string("points:\n  - {x: 1}\n  - {x: 99}\n", "route.yaml"));
    FAIL() << "out-of-range element accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("route.yaml:3:"));
    EXPECT_THAT(e.what(), HasSubstr("points.1.x"));
  }
  EXPECT_THROW(bind_options<Route>(ConfigTree::from_string("points: {x: 1}\n", "r")), ConfigError);
  EXPECT_THROW(bind_options<Route>(ConfigTree::from_string("points: [1, 2]\n", "r")), ConfigError);
  EXPECT_THROW(bind_options<Route>(ConfigTree::from_string("points: [{y: 1}]\n", "r")), ConfigError);
}

}  // namespace
}  // namespace ludus
