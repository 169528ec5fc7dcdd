// metrics.csv read back: by the trainer on --resume, by `ludus plot`. No torch (a fuzz
// target reads it under clang).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ludus::rl {

struct KeptMetrics {
  std::string text;                // the header and the rows of updates up to the one asked for
  std::vector<size_t> unreadable;  // 1-based line numbers whose update number could not be read
};

// The rows of `csv` a run resumed at `update` keeps: the header line, then every row whose
// first field is an update number <= `update`, in order; a row whose first field is not a
// whole number (a line cut by a kill, an edit) is dropped and listed. Lines end in '\n'.
KeptMetrics metrics_through_update(std::string_view csv, int64_t update);

// A metrics.csv as a table: the header's columns and the rows, each with a cell for every
// column (missing cells empty).
struct MetricsTable {
  std::map<std::string, size_t> col;  // column name -> cell index (a repeated name: its last place)
  std::vector<std::vector<std::string>> rows;
  const std::string& cell(const std::vector<std::string>& row, const std::string& column) const {
    return row[col.at(column)];
  }
};

// Reads `csv`; every column in `need` must be in the header, and each of their cells must
// be empty or a number (nan and inf become empty: a point left out). Throws
// std::runtime_error naming `name`, and the line and column where a cell is not a number.
MetricsTable read_metrics_table(std::string_view csv, const std::string& name, std::initializer_list<std::string> need);

}  // namespace ludus::rl
