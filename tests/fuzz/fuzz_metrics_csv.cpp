// metrics.csv read back (any text: a file cut by a kill, edited, damaged). Even first
// byte: as --resume trims it, resuming at update first byte / 2 - 1; what is kept must keep
// itself whole when read again (nothing more dropped, no line changed). Odd first byte: as
// `ludus plot` reads it; every row has a cell for every column, and every cell of a needed
// column is empty or a finite number.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ludus/train/metrics_csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view csv(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    const int64_t update = data[0] / 2 - 1;
    const auto kept = ludus::rl::metrics_through_update(csv, update);
    if (kept.text.size() > csv.size() + 1) std::abort();  // at most the missing final '\n'
    const auto again = ludus::rl::metrics_through_update(kept.text, update);
    if (again.text != kept.text || !again.unreadable.empty()) std::abort();
    return 0;
  }
  try {
    const auto t = ludus::rl::read_metrics_table(csv, "fuzzed.csv", {"samples", "eval_win"});
    for (const auto& row : t.rows)
      for (const char* n : {"samples", "eval_win"}) {
        const std::string& v = t.cell(row, n);  // at() and a cell for every column: no reading past a row
        if (!v.empty() && !std::isfinite(std::stod(v))) std::abort();
      }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
