// `ludus rollout`: a Codeball scenario file (envs/codeball/scenario.hpp) played headless
// into a CSV trajectory.
#include <fmt/core.h>

#include <memory>
#include <string>
#include <vector>

#include "codeball/scenario.hpp"
#include "commands.hpp"

namespace ludus::cli {

void add_rollout_commands(CLI::App& app) {
  struct Args {
    std::string env = "codeball", scenario, out = "traj.csv";
    std::vector<std::string> sets;
    int64_t ticks = 60;
  };
  auto a = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("rollout", "play a scenario file (set position + scripted actions); write a CSV trajectory");
  cmd->add_option("-e,--env", a->env, "game (codeball)");
  cmd->add_option("--scenario", a->scenario, "scenario YAML: game, seed, tick, score, ball, robots, actions")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--ticks", a->ticks, "ticks to simulate")->check(CLI::PositiveNumber);
  cmd->add_option("-o,--out", a->out, "CSV output (one row per tick, tick 0 = the scenario's start)");
  cmd->add_option("--set", a->sets, "override a game option: key=value");
  cmd->callback([a] {
    if (a->env != "codeball") throw UsageError(fmt::format("rollout supports the game 'codeball', not '{}'", a->env));
    const auto r = codeball::play_scenario(a->scenario, a->sets, a->ticks, a->out);
    fmt::print("rollout: {} ticks from tick {} written to {} (score {}:{}{})\n", r.ticks, r.start_tick, a->out,
               r.score[0], r.score[1], r.ended ? ", match ended at max_ticks" : "");
  });
}

}  // namespace ludus::cli
