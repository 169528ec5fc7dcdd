// `ludus plot`: learning curves of several runs on one panel, grouped and averaged.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "plot.hpp"

namespace ludus::cli {

void add_plot_commands(CLI::App& app) {
  struct Args {
    std::vector<std::string> groups;
    std::string out, column = "eval_win";
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "plot", "compare runs: one metrics.csv column against agent-steps, one line per label (its runs averaged)");
  cmd->add_option("groups", a->groups, "LABEL=RUN_DIR[,RUN_DIR...]: a line, averaged over those runs' metrics.csv")
      ->required();
  cmd->add_option("-o,--out", a->out, "PNG to write")->required();
  cmd->add_option("--column", a->column, "metrics.csv column (default eval_win: the training evaluations)");
  cmd->callback([a] {
    std::vector<PlotGroup> groups;
    for (const auto& g : a->groups) {
      const auto eq = g.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == g.size())
        throw UsageError(fmt::format("plot: '{}' is not LABEL=RUN_DIR[,RUN_DIR...]", g));
      PlotGroup pg{g.substr(0, eq), {}};
      size_t start = eq + 1;
      while (start <= g.size()) {
        const size_t comma = std::min(g.find(',', start), g.size());
        const std::string dir = g.substr(start, comma - start);
        if (dir.empty()) throw UsageError(fmt::format("plot: an empty run directory in '{}'", g));
        if (!std::filesystem::is_regular_file(dir + "/metrics.csv"))
          throw UsageError(fmt::format("plot: {} has no metrics.csv (is it a run directory?)", dir));
        pg.run_dirs.push_back(dir);
        start = comma + 1;
      }
      groups.push_back(std::move(pg));
    }
    write_comparison(groups, a->column, a->out);
    fmt::print("{}: {} line(s) of {}\n", a->out, groups.size(), a->column);
  });
}

}  // namespace ludus::cli
