// Learning-curve plots written as PNG (no display, no plotting dependency).
#pragma once

#include <string>

namespace ludus::cli {

// Reads a run's metrics.csv and writes a 2x2 panel PNG: mean return, training win rate,
// evaluation win rate (with its 95% interval) and policy entropy, against agent-steps.
// Throws std::runtime_error if the CSV is unreadable or the PNG cannot be written.
void write_learning_curves(const std::string& metrics_csv, const std::string& png_path);

}  // namespace ludus::cli
