// metrics.csv as the trainer reads it back on --resume, without torch (a fuzz target reads
// it under clang).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ludus::rl {

struct KeptMetrics {
  std::string text;                  // the header and the rows of updates up to the one asked for
  std::vector<size_t> unreadable;    // 1-based line numbers whose update number could not be read
};

// The rows of `csv` a run resumed at `update` keeps: the header line, then every row whose
// first field is an update number <= `update`, in order; a row whose first field is not a
// whole number (a line cut by a kill, an edit) is dropped and listed. Lines end in '\n'.
KeptMetrics metrics_through_update(std::string_view csv, int64_t update);

}  // namespace ludus::rl
