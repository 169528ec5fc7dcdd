// Subcommand registration for the ludus CLI: each file adds its own subcommands.
#pragma once

#include <CLI/CLI.hpp>

namespace ludus::cli {

// An error a user can fix: printed as one line, exit code 1.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void add_run_commands(CLI::App& app);

}  // namespace ludus::cli
