// ludus: the command line (envs, run, config show, replay, watch, check-env).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.hpp"
#include "plot.hpp"
#include "ludus/engine/bytes.hpp"
#include "ludus/engine/config.hpp"
#include "ludus/engine/plugin.hpp"
#include "ludus/engine/replay.hpp"
#include "ludus/engine/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ludus: physics games, agents, GRPO training and replays for game-AI research"};
  app.set_version_flag("--version", std::string("ludus ") + ludus::version());
  app.require_subcommand(1);
  app.fallthrough();  // --plugin may come before or after the subcommand
  std::vector<std::string> plugins;
  app.add_option("--plugin", plugins, "load games from a plugin shared library (repeatable)")
      ->check(CLI::ExistingFile)
      ->each([](const std::string& path) {
        try {
          ludus::load_plugin(path);
        } catch (const std::exception& e) {
          throw CLI::ValidationError("--plugin", e.what());
        }
      });
  ludus::cli::add_run_commands(app);
  ludus::cli::add_bench_commands(app);
  ludus::cli::add_rollout_commands(app);
  ludus::cli::add_plot_commands(app);
#ifdef LUDUS_HAVE_TORCH
  ludus::cli::add_train_commands(app);
#endif
#ifdef LUDUS_HAVE_VIZ
  ludus::cli::add_viz_commands(app);
#endif

  for (const auto& problem : ludus::load_plugins_from_env()) fmt::print(stderr, "ludus: warning: {}\n", problem);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ludus::cli::UsageError& e) {
    fmt::print(stderr, "ludus: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ludus: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
