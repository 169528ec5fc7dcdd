// Learning-curve plots written as PNG (no display, no plotting dependency).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace ludus::cli {

// Reads a run's metrics.csv and writes a 2x2 panel PNG: mean return, training win rate,
// evaluation win rate (with its 95% interval) and policy entropy, against agent-steps.
// Throws std::runtime_error if the CSV is unreadable or the PNG cannot be written.
void write_learning_curves(const std::string& metrics_csv, const std::string& png_path);

// Runs compared on one panel: each group is a label and the run directories it averages.
struct PlotGroup {
  std::string label;
  std::vector<std::string> run_dirs;
};

// One line per group: metrics.csv's `column` against agent-steps, the k-th value of each
// run averaged over the group's runs (`ludus plot`; scripts/compare.sh writes curves.png
// with it). Throws std::runtime_error naming the file (and line) that cannot be read.
void write_comparison(const std::vector<PlotGroup>& groups, const std::string& column, const std::string& png_path);

// `ludus plot`.
void add_plot_commands(CLI::App& app);

}  // namespace ludus::cli
