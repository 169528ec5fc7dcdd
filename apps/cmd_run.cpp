// Subcommands that need no learner: envs, run, config show, replay (info), check-env.
#include <fmt/core.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "ludus/engine/agent.hpp"
#include "ludus/engine/match.hpp"
#include "ludus/engine/conformance.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/replay.hpp"
#include "ludus/engine/version.hpp"

namespace ludus::cli {
namespace {

// What `ludus run` reads from a YAML file (all optional); flags override it.
struct RunConfig {
  std::string env = "reach";
  uint64_t seed = 1;
  std::string agents;  // comma-separated, one per team
  std::string out;
  int frame_every = 1;
  int matches = 1;
  ConfigTree game;

  void visit(OptionVisitor& v) {
    v.value("env", env, {}, "registered game name (ludus envs)");
    v.value("seed", seed, "seed of the first match; match k uses seed + k");
    v.value("agents", agents, {}, "comma-separated agent per team (default: the game's first bot vs random)");
    v.value("out", out, {}, "replay path for the first match (default runs/<env>-seed<seed>.rpl)");
    v.value("frame_every", frame_every, 1, 100000, "record one frame every K ticks");
    v.value("matches", matches, 1, 1000000, "matches to play (the replay records the first)");
    v.subtree("game", game, "the game's own options (ludus config show prints them all)");
  }
};

const std::vector<std::string> kRunKeys = {"env", "seed", "agents", "out", "frame_every", "matches", "game"};

// Loads the config file (if any) and applies --set overrides; a key that is not a run
// key addresses the game's options (--set team_size=3 means game.team_size=3).
ConfigTree load_tree(const std::string& file, const std::vector<std::string>& sets) {
  ConfigTree tree = file.empty() ? ConfigTree() : ConfigTree::from_file(file);
  for (const auto& s : sets) {
    const std::string key = s.substr(0, s.find_first_of(".="));
    const bool run_key = std::find(kRunKeys.begin(), kRunKeys.end(), key) != kRunKeys.end();
    tree.apply_override(run_key ? s : "game." + s);
  }
  return tree;
}

std::string effective_yaml(const RunConfig& rc) {
  RunConfig copy = rc;
  std::string text = to_yaml([&](OptionVisitor& v) {
    v.value("env", copy.env, {}, "registered game name");
    v.value("seed", copy.seed, "seed of the first match");
    v.value("agents", copy.agents, {}, "agent per team");
    v.value("frame_every", copy.frame_every, 1, 100000, "record one frame every K ticks");
    v.value("matches", copy.matches, 1, 1000000, "matches to play");
  });
  const std::string game = EnvRegistry::global().get(rc.env).effective_options(rc.game, true);
  text += "game:\n";
  std::stringstream ss(game);
  for (std::string line; std::getline(ss, line);) text += "  " + line + "\n";
  return text;
}

void cmd_envs(bool verbose) {
  const auto& reg = EnvRegistry::global();
  for (const auto& name : reg.names()) {
    const EnvEntry& e = reg.get(name);
    auto env = e.create(ConfigTree());
    fmt::print("{:<12} {}\n", name, e.description);
    fmt::print("{:<12} spec: {}\n", "", env->spec().describe());
    std::string agents;
    for (const auto& a : agents_for(name)) agents += (agents.empty() ? "" : ", ") + a;
    fmt::print("{:<12} agents: {}\n", "", agents);
    if (e.origin != "built-in") fmt::print("{:<12} from: {}\n", "", e.origin);
    if (verbose) {
      fmt::print("{:<12} default options:\n", "");
      std::stringstream ss(e.effective_options(ConfigTree(), true));
      for (std::string line; std::getline(ss, line);) fmt::print("{:<14}{}\n", "", line);
    }
  }
  for (const auto& err : reg.errors()) fmt::print(stderr, "ludus: warning: {}\n", err);
}

void cmd_run(RunConfig rc) {
  const EnvEntry& entry = EnvRegistry::global().get(rc.env);
  auto env = entry.create(rc.game);
  const EnvSpec& spec = env->spec();
  std::vector<std::string> names = split_agent_list(rc.agents);
  if (names.empty()) {
    names = {default_bot(rc.env), "random"};
    while (static_cast<int>(names.size()) < spec.num_teams) names.push_back("random");
  }
  if (static_cast<int>(names.size()) != spec.num_teams)
    throw UsageError(
        fmt::format("--agents lists {} agent(s); game '{}' has {} teams", names.size(), rc.env, spec.num_teams));
  std::vector<std::unique_ptr<Agent>> owned;
  std::vector<Agent*> agents;
  for (const auto& n : names) {
    owned.push_back(make_agent(n, rc.env));
    agents.push_back(owned.back().get());
  }
  if (rc.out.empty()) rc.out = fmt::format("runs/{}-seed{}.rpl", rc.env, rc.seed);
  const auto parent = std::filesystem::path(rc.out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);

  ReplayHeader header;
  header.env_name = rc.env;
  header.env_options_yaml = entry.effective_options(rc.game, false);
  header.seed = rc.seed;
  header.agents = names;
  header.ludus_version = version();
  header.created_utc = utc_now();
  header.tick_rate_hz = spec.tick_rate_hz;

  std::vector<int> wins(static_cast<size_t>(spec.num_teams), 0);
  int draws = 0;
  const auto t0 = std::chrono::steady_clock::now();
  int64_t ticks = 0;
  for (int m = 0; m < rc.matches; ++m) {
    std::unique_ptr<ReplayWriter> writer;
    if (m == 0) writer = std::make_unique<ReplayWriter>(rc.out, header);
    MatchOptions mo;
    mo.seed = rc.seed + static_cast<uint64_t>(m);
    mo.replay = writer.get();
    mo.frame_every = rc.frame_every;
    const MatchResult r = run_match(*env, agents, mo);
    ticks += r.ticks;
    std::string scores;
    for (size_t t = 0; t < r.team_scores.size(); ++t)
      scores += fmt::format("{}{} {:g}", t ? ", " : "", names[t], r.team_scores[t]);
    const std::string outcome =
        r.winner < 0 ? "draw" : fmt::format("{} (team {}) wins", names[static_cast<size_t>(r.winner)], r.winner);
    if (rc.matches <= 20 || m < 3 || m + 1 == rc.matches)
      fmt::print("match {}/{} seed {}: {} after {} ticks: {}\n", m + 1, rc.matches, mo.seed, outcome, r.ticks, scores);
    if (r.winner < 0)
      ++draws;
    else
      ++wins[static_cast<size_t>(r.winner)];
    if (writer) fmt::print("replay: {} ({} frames)\n", rc.out, writer->frames_written());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rc.matches > 1) {
    std::string summary;
    for (size_t t = 0; t < wins.size(); ++t) summary += fmt::format("{} {} wins, ", names[t], wins[t]);
    fmt::print("summary over {} matches: {}{} draws\n", rc.matches, summary, draws);
  }
  fmt::print("simulated {} ticks in {:.2f} s ({:.0f} ticks/s)\n", ticks, secs,
             secs > 0 ? static_cast<double>(ticks) / secs : 0.0);
}

int cmd_check_env(const std::string& name, const ConfigTree& game, int64_t ticks) {
  ConformanceOptions co;
  co.random_ticks = ticks;
  const auto results = run_conformance(name, game, co);
  int failed = 0;
  fmt::print("conformance of '{}':\n", name);
  for (const auto& r : results) {
    fmt::print("  {:<25} {}  {}\n", r.name, r.passed ? "PASS" : "FAIL", r.detail);
    failed += r.passed ? 0 : 1;
  }
  fmt::print("{} passed, {} failed\n", results.size() - static_cast<size_t>(failed), failed);
  return failed;
}

}  // namespace

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void add_run_commands(CLI::App& app) {
  auto* envs = app.add_subcommand("envs", "list registered games, their specs and the agents that play them");
  auto verbose = std::make_shared<bool>(false);
  envs->add_flag("-v,--verbose", *verbose, "also print every game's default options");
  envs->callback([verbose] { cmd_envs(*verbose); });

  struct RunArgs {
    std::string config, env, agents, out;
    std::vector<std::string> sets;
    int64_t seed = -1;
    int frame_every = 0, matches = 0;
  };
  auto ra = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "play headless matches between agents; writes a replay of the first");
  run->add_option("-c,--config", ra->config,
                  "YAML run config (keys: env, seed, agents, out, frame_every, matches, game)")
      ->check(CLI::ExistingFile);
  run->add_option("-e,--env", ra->env, "game name (default reach)");
  run->add_option("-a,--agents", ra->agents, "comma-separated agent per team, e.g. greedy,random");
  run->add_option("-s,--seed", ra->seed, "seed of the first match")->check(CLI::NonNegativeNumber);
  run->add_option("-o,--out", ra->out, "replay file (default runs/<env>-seed<seed>.rpl)");
  run->add_option("-n,--matches", ra->matches, "number of matches")->check(CLI::PositiveNumber);
  run->add_option("--frame-every", ra->frame_every, "record a frame every K ticks")->check(CLI::PositiveNumber);
  run->add_option("--set", ra->sets, "override an option: key=value (game options by name, e.g. team_size=3)");
  run->callback([ra] {
    ConfigTree tree = load_tree(ra->config, ra->sets);
    if (!ra->env.empty()) tree.apply_override("env=" + ra->env);
    auto rc = bind_options<RunConfig>(tree);
    if (!ra->agents.empty()) rc.agents = ra->agents;
    if (ra->seed >= 0) rc.seed = static_cast<uint64_t>(ra->seed);
    if (!ra->out.empty()) rc.out = ra->out;
    if (ra->frame_every > 0) rc.frame_every = ra->frame_every;
    if (ra->matches > 0) rc.matches = ra->matches;
    cmd_run(rc);
  });

  auto* config = app.add_subcommand("config", "inspect configs");
  config->require_subcommand(1);
  auto* show = config->add_subcommand("show", "print the effective config of a run file (defaults filled in)");
  auto show_file = std::make_shared<std::string>();
  auto show_sets = std::make_shared<std::vector<std::string>>();
  show->add_option("file", *show_file, "YAML config file")->required()->check(CLI::ExistingFile);
  show->add_option("--set", *show_sets, "override an option: key=value");
  show->callback([show_file, show_sets] {
    auto rc = bind_options<RunConfig>(load_tree(*show_file, *show_sets));
    fmt::print("{}", effective_yaml(rc));
  });

#ifndef LUDUS_HAVE_VIZ
  // Without the visualizer, `replay` checks a file and prints what it holds.
  auto* replay = app.add_subcommand("replay", "check a replay file and print what it holds");
  auto replay_file = std::make_shared<std::string>();
  auto recover = std::make_shared<bool>(false);
  replay->add_option("file", *replay_file, "replay file")->required()->check(CLI::ExistingFile);
  replay->add_flag("--recover", *recover, "read an unfinished replay up to its last complete chunk");
  auto info = std::make_shared<bool>(true);
  replay->add_flag("--info", *info, "print what the file holds (the only mode without the visualizer)");
  replay->callback([replay_file, recover] { print_replay_info(*replay_file, *recover); });
#endif

  auto* check = app.add_subcommand("check-env", "run the conformance suite on a game (plugins too)");
  auto check_name = std::make_shared<std::string>();
  auto check_sets = std::make_shared<std::vector<std::string>>();
  auto check_ticks = std::make_shared<int64_t>(10000);
  check->add_option("name", *check_name, "game name")->required();
  check->add_option("--set", *check_sets, "game option: key=value");
  check->add_option("--ticks", *check_ticks, "random-action ticks in the endurance check")->check(CLI::PositiveNumber);
  check->callback([check_name, check_sets, check_ticks] {
    ConfigTree game;
    for (const auto& s : *check_sets) game.apply_override(s);
    if (cmd_check_env(*check_name, game, *check_ticks) > 0) throw std::runtime_error("conformance failed");
  });
}

}  // namespace ludus::cli
